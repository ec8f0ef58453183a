// Interop client for the hub: npm ws + json-rpc-2.0, no Parley code. Three
// clients ("device", "browser", "guest", told apart by the X-User header
// the server's Accept reads) subscribe, publish, register and call through
// the hub, as a user's JavaScript would.
//
// Usage: node hub.js ws://127.0.0.1:PORT/
// Prints one JSON object per line per check; exits non-zero on anything
// unexpected.
'use strict';
const WebSocket = require('ws');
const { JSONRPCServer, JSONRPCClient, JSONRPCServerAndClient } = require('json-rpc-2.0');

const url = process.argv[2];
if (!url) fail('usage: node hub.js URL');
setTimeout(() => fail('timed out'), 20000).unref();

function out(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }
function fail(msg) { process.stderr.write('hub.js: ' + msg + '\n'); process.exit(1); }

// connect opens a JSON-RPC 2.0 session over a WebSocket as user.
function connect(user) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { 'X-User': user } });
    const rpc = new JSONRPCServerAndClient(
      new JSONRPCServer(),
      new JSONRPCClient((req) => { ws.send(JSON.stringify(req)); return Promise.resolve(); }),
    );
    ws.on('message', (data) => rpc.receiveAndSend(JSON.parse(data.toString())));
    ws.on('close', () => rpc.rejectAllPendingRequests('connection closed'));
    ws.on('error', (e) => fail(user + ': ' + e.message));
    ws.on('open', () => resolve({ rpc, ws }));
  });
}

// code returns the JSON-RPC error code a call failed with.
async function code(promise) {
  try {
    await promise;
  } catch (e) {
    return e.code;
  }
  fail('a call that should fail succeeded');
}

async function main() {
  const device = await connect('device');
  const browser = await connect('browser');
  const guest = await connect('guest');

  // Topics: the device subscribes, the browser publishes.
  const events = [];
  let gotEvent;
  const eventIn = new Promise((r) => { gotEvent = r; });
  device.rpc.addMethod('hub.event', ({ topic, data }) => { events.push({ topic, data }); gotEvent(); });
  out({ check: 'subscribe', result: await device.rpc.request('hub.subscribe', { topic: 'chat.*' }) });
  out({ check: 'publish', result: await browser.rpc.request('hub.publish', { topic: 'chat.lobby', data: { text: 'hi' } }) });
  await eventIn;
  out({ check: 'event', event: events[0] });

  // Routed calls: the device registers procedures, the browser calls them.
  device.rpc.addMethod('device.read', ({ sensor }) => ({ sensor, celsius: 21.5 }));
  device.rpc.addMethod('device.fail', () => { throw new Error('sensor offline'); });
  device.rpc.addMethod('device.scan', async ({ n, partialResultToken }) => {
    for (let i = 1; i <= n; i++) {
      if (partialResultToken !== undefined) device.rpc.notify('$/progress', { token: partialResultToken, value: i });
    }
    return 'scanned ' + n;
  });
  for (const p of ['device.read', 'device.fail', 'device.scan']) {
    await device.rpc.request('hub.register', { procedure: p });
  }
  out({ check: 'call', result: await browser.rpc.request('hub.call', { procedure: 'device.read', params: { sensor: 't1' } }) });
  // json-rpc-2.0 answers a thrown error with code 0 and its message: the
  // hub passes the callee's error on as it is.
  try {
    await browser.rpc.request('hub.call', { procedure: 'device.fail', params: {} });
    fail('device.fail succeeded');
  } catch (e) {
    out({ check: 'callee error', code: e.code, message: e.message });
  }
  out({ check: 'no such procedure', code: await code(browser.rpc.request('hub.call', { procedure: 'device.none' })) });

  // Partial results: the browser's own token comes back with each one.
  const parts = [];
  browser.rpc.addMethod('$/progress', ({ token, value }) => { parts.push([token, value]); });
  const scanned = await browser.rpc.request('hub.call', { procedure: 'device.scan', params: { n: 3 }, partialResultToken: 'scan-1' });
  out({ check: 'progress', result: scanned, parts });

  // Authorization: the guest may not publish to chat, nor register.
  out({ check: 'guest publish', code: await code(guest.rpc.request('hub.publish', { topic: 'chat.lobby', data: 1 })) });
  out({ check: 'guest register', code: await code(guest.rpc.request('hub.register', { procedure: 'evil' })) });

  // A callee that disconnects ends its pending calls at once.
  const leaving = await connect('device');
  let called;
  const calledP = new Promise((r) => { called = r; });
  leaving.rpc.addMethod('device.hang', () => { called(); return new Promise(() => {}); });
  await leaving.rpc.request('hub.register', { procedure: 'device.hang' });
  const hung = code(browser.rpc.request('hub.call', { procedure: 'device.hang' }));
  await calledP;
  leaving.ws.close();
  out({ check: 'callee gone', code: await hung });

  // Unsubscribe and unregister.
  out({ check: 'unsubscribe', result: await device.rpc.request('hub.unsubscribe', { topic: 'chat.*' }) });
  out({ check: 'unregister', result: await device.rpc.request('hub.unregister', { procedure: 'device.read' }) });

  for (const c of [device, browser, guest]) c.ws.close(1000);
}

main().catch((e) => fail(e.stack || String(e)));
