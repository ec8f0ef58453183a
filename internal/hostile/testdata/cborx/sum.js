// Interop client: npm cbor-x (CBOR) over npm ws, code Parley did not
// write, calling a Parley WebSocket server with subprotocol jsonrpc2.cbor,
// and the same calls as JSON text with no subprotocol.
//
// Usage: node sum.js ws://127.0.0.1:PORT/
// For each codec and each array length it calls sum with an array of that
// many small integers (i % 100), and prints one JSON object per line:
// {"codec", "n", "want", "id", "result"} or {..., "code", "message"}.
// Exits non-zero with a message on anything unexpected.
'use strict';
const WebSocket = require('ws');
const { encode, decode } = require('cbor-x');

const url = process.argv[2];
if (!url) fail('usage: node sum.js URL');
setTimeout(() => fail('timed out'), 60000).unref();

function out(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }
function fail(msg) { process.stderr.write('sum.js: ' + msg + '\n'); process.exit(1); }

const lengths = [60000, 70000, 100000, 100001];

const codecs = {
  cbor: { protocols: ['jsonrpc2.cbor'], encode: (m) => encode(m), decode: (data) => decode(data) },
  json: { protocols: [], encode: (m) => JSON.stringify(m), decode: (data) => JSON.parse(data.toString()) },
};

function session(name) {
  const c = codecs[name];
  return new Promise((resolve) => {
    const ws = new WebSocket(url, c.protocols, { maxPayload: 16 << 20 });
    ws.on('error', (e) => fail(name + ': ' + e.message));
    const waiting = new Map();
    ws.on('message', (data) => {
      const m = c.decode(data);
      const w = waiting.get(m.id);
      if (!w) fail(name + ': an answer for no call: ' + JSON.stringify(m).slice(0, 200));
      waiting.delete(m.id);
      w(m);
    });
    ws.on('open', async () => {
      if (name === 'cbor' && ws.protocol !== 'jsonrpc2.cbor') fail('cbor: got subprotocol ' + ws.protocol);
      let id = 0;
      for (const n of lengths) {
        const params = Array.from({ length: n }, (_, i) => i % 100);
        const want = params.reduce((a, b) => a + b, 0);
        id++;
        const answer = await new Promise((res) => {
          waiting.set(id, res);
          ws.send(c.encode({ jsonrpc: '2.0', method: 'sum', params, id }));
        });
        const line = { codec: name, n, want, id: answer.id };
        if (answer.error) {
          line.code = answer.error.code;
          line.message = answer.error.message;
        } else {
          line.result = answer.result;
        }
        out(line);
      }
      ws.close(1000);
    });
    ws.on('close', resolve);
  });
}

(async () => {
  await session('cbor');
  await session('json');
})();
