// Sends the examples of the JSON-RPC 2.0 specification, raw, over npm ws,
// and prints what came back for each: one JSON line per case,
// {"case": NAME, "responses": [...]}, where each response is the parsed
// message (an object, or an array for a batch answer).
//
// Usage: node batch.js ws://127.0.0.1:PORT/
//
// Cases that expect no answer are followed by a sentinel call; every
// message received before the sentinel's answer (and shortly after it)
// counts as an answer to the case.
'use strict';
const WebSocket = require('ws');

const url = process.argv[2];
if (!url) fail('usage: node batch.js URL');
setTimeout(() => fail('timed out'), 20000).unref();

function out(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }
function fail(msg) { process.stderr.write('batch.js: ' + msg + '\n'); process.exit(1); }

const cases = [
  ['positional', '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}'],
  ['named', '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}'],
  ['notification', '{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}'],
  ['notfound', '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}'],
  ['invalidjson', '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]'],
  ['invalidrequest', '{"jsonrpc": "2.0", "method": 1, "params": "bar"}'],
  ['batchinvalidjson', '[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"]'],
  ['emptybatch', '[]'],
  ['batchofone', '[1]'],
  ['batchofthree', '[1,2,3]'],
  ['mixedbatch', `[
    {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
    {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
    {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
    {"foo": "boo"},
    {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
    {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
  ]`],
  ['allnotifications', `[
    {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
    {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
  ]`],
];

const ws = new WebSocket(url);
let onMessage = null;
ws.on('message', (data) => {
  let msg;
  try { msg = JSON.parse(data.toString()); } catch (e) { fail('unparsable answer: ' + data); }
  if (!Array.isArray(msg) && typeof msg.method === 'string') {
    // A call from the server (it greets every client): this raw client
    // serves nothing, and says so as JSON-RPC 2.0 requires.
    if (msg.id !== undefined) {
      ws.send(JSON.stringify({ jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: msg.id }));
    }
    return;
  }
  if (onMessage) onMessage(msg); else fail('unexpected message: ' + data);
});
ws.on('error', (e) => fail('ws: ' + e.message));

function runCase(i, name, text) {
  return new Promise((resolve) => {
    const sentinel = 'sentinel-' + i;
    const responses = [];
    let done = false;
    onMessage = (msg) => {
      if (!Array.isArray(msg) && msg.id === sentinel) {
        if (msg.result !== 0) fail('sentinel answered ' + JSON.stringify(msg));
        done = true;
        // Give a stray answer to the case a moment to show up.
        setTimeout(() => { out({ case: name, responses }); resolve(); }, 100);
        return;
      }
      responses.push(msg);
    };
    ws.send(text);
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'sum', params: [0], id: sentinel }));
  });
}

ws.on('open', async () => {
  for (let i = 0; i < cases.length; i++) {
    await runCase(i, cases[i][0], cases[i][1]);
  }
  onMessage = null;
  ws.close(1000);
});
ws.on('close', () => process.exit(0));
