// Interop client: npm ws + json-rpc-2.0 (JSONRPCServerAndClient), code
// Parley did not write, against a Parley WebSocket server.
//
// Usage: node client.js ws://127.0.0.1:PORT/
// Prints one JSON object per line per check; exits non-zero with a message
// on anything unexpected.
'use strict';
const WebSocket = require('ws');
const { JSONRPCServer, JSONRPCClient, JSONRPCServerAndClient } = require('json-rpc-2.0');

const url = process.argv[2];
if (!url) fail('usage: node client.js URL');
setTimeout(() => fail('timed out'), 20000).unref();

function out(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }
function fail(msg) { process.stderr.write('client.js: ' + msg + '\n'); process.exit(1); }

// An offered subprotocol the server does not support is refused with 400.
function refusedProtocol() {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ['bogus.proto']);
    ws.on('open', () => fail('a connection offering only "bogus.proto" was accepted'));
    ws.on('error', () => {}); // 'unexpected-response' tells the story
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        out({ check: 'refused', status: res.statusCode, body: body.trim() });
        req.destroy(); // ws leaves the refused request's socket open
        resolve();
      });
    });
  });
}

// Asking for JSON by name gets it by name.
function namedJSON() {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ['jsonrpc2.json']);
    ws.on('error', (e) => fail('jsonrpc2.json: ' + e.message));
    ws.on('open', () => {
      out({ check: 'protocol', protocol: ws.protocol });
      ws.close(1000);
    });
    ws.on('close', resolve);
  });
}

function rpcSession() {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const sc = new JSONRPCServerAndClient(
      new JSONRPCServer(),
      new JSONRPCClient((payload) => new Promise((res, rej) => {
        ws.send(JSON.stringify(payload), (err) => (err ? rej(err) : res()));
      })),
    );
    // Methods the Go server calls on us.
    sc.addMethod('double', ({ n }) => n * 2);
    sc.addMethod('greet', ([name]) => `hello ${name}`);

    ws.on('message', (data, isBinary) => {
      if (isBinary) fail('a JSON connection got a binary frame');
      let msg;
      try { msg = JSON.parse(data.toString()); } catch (e) { fail('unparsable message: ' + data); }
      sc.receiveAndSend(msg).catch((e) => fail('receiveAndSend: ' + e.message));
    });
    ws.on('error', (e) => fail('ws: ' + e.message));
    ws.on('close', (code) => { sc.rejectAllPendingRequests('closed ' + code); resolve(); });

    ws.on('open', async () => {
      try {
        out({ check: 'add', result: await sc.request('add', [2, 3]) });
        out({ check: 'concat', result: await sc.request('concat', { a: 'foo', b: 'bar' }) });
        out({ check: 'callback', result: await sc.request('askClient', { n: 21 }) });
        for (const [name, method, params] of [
          ['notfound', 'nope', []],
          ['invalidparams', 'add', { x: 1 }],
          ['servererror', 'fail', []],
        ]) {
          try {
            out({ check: name, unexpected: await sc.request(method, params) });
          } catch (e) {
            out({ check: name, code: e.code, message: e.message });
          }
        }
        sc.notify('note', { text: 'hi from node' }); // the Go side checks it arrived
        out({ check: 'greeted', result: await sc.request('greeted', []) });
        ws.close(1000);
      } catch (e) {
        fail('unexpected: ' + ((e && e.stack) || e));
      }
    });
  });
}

(async () => {
  await refusedProtocol();
  await namedJSON();
  await rpcSession();
  out({ check: 'done' });
  process.exit(0);
})().catch((e) => fail(String((e && e.stack) || e)));
