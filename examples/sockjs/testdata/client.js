'use strict';
// A client of the sockjs example with npm sockjs-client and json-rpc-2.0,
// under node: no Parley code. It answers the server's whoami call, calls
// add and hello, prints one JSON line with what came back, and closes.
//
// Usage: node testdata/client.js <url of the SockJS endpoint> <transport> <name>
const SockJS = require('sockjs-client');
const { JSONRPCServer, JSONRPCClient, JSONRPCServerAndClient } = require('json-rpc-2.0');

const [url, transport, name] = process.argv.slice(2);
const sock = new SockJS(url, null, { transports: [transport] });
const rpc = new JSONRPCServerAndClient(
  new JSONRPCServer(),
  new JSONRPCClient((msg) => sock.send(JSON.stringify(msg))),
);
let asked = 0;
let markAsked;
const wasAsked = new Promise((resolve) => { markAsked = resolve; });
rpc.addMethod('whoami', () => {
  asked++;
  markAsked();
  return { name, transport: sock.transport };
});
sock.onmessage = (e) => rpc.receiveAndSend(JSON.parse(e.data)).catch(() => {});

const timer = setTimeout(() => {
  console.error('no answer in 15 s');
  process.exit(1);
}, 15000);
let opened = false;
sock.onopen = async () => {
  opened = true;
  const out = { transport: sock.transport };
  try {
    out.sum = await rpc.request('add', [2, 3, 4]);
    out.hello = await rpc.request('hello', { name });
    out.unknown = await rpc.request('no.such.method').then(() => 'no error', (e) => e.code);
    // The server calls whoami as the session opens; the timer above
    // bounds the wait.
    await wasAsked;
    out.asked = asked;
  } catch (err) {
    out.error = String((err && err.message) || err);
  }
  console.log(JSON.stringify(out));
  clearTimeout(timer);
  sock.close();
};
sock.onclose = (e) => {
  rpc.rejectAllPendingRequests('closed: ' + e.code);
  if (!opened) {
    console.error(`closed before opening: ${e.code} ${e.reason}`);
    process.exit(1);
  }
};
