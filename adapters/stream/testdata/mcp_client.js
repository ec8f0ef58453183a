// Newline-delimited JSON-RPC with the Model Context Protocol SDK's stdio
// framing: its StdioClientTransport starts the Parley server
// (node mcp_client.js stdio EXECUTABLE; started with
// PARLEY_STREAM_CHILD=lines), or its ReadBuffer and serializeMessage run
// over a socket (node mcp_client.js tcp HOST:PORT | unix PATH). The SDK
// checks every message it reads against the JSON-RPC schema. Prints what
// it saw as one JSON object.
'use strict';
const net = require('net');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');
const { ReadBuffer, serializeMessage } = require('@modelcontextprotocol/sdk/shared/stdio.js');

// socketTransport is the SDK's Transport interface over a socket, with
// the SDK's own framing (the same as its stdio transports').
function socketTransport(mode, target) {
  const t = { onmessage: null, onerror: null, onclose: null };
  let sock;
  const buf = new ReadBuffer();
  t.start = () => new Promise((resolve, reject) => {
    sock = mode === 'unix' ? net.connect(target) : net.connect(Number(target.split(':')[1]), target.split(':')[0]);
    sock.once('connect', resolve);
    sock.once('error', reject);
    sock.on('data', (chunk) => {
      buf.append(chunk);
      for (;;) {
        let msg;
        try {
          msg = buf.readMessage();
        } catch (e) {
          t.onerror && t.onerror(e);
          continue;
        }
        if (msg === null) break;
        t.onmessage && t.onmessage(msg);
      }
    });
    sock.on('close', () => t.onclose && t.onclose());
  });
  t.send = (msg) => new Promise((resolve) => sock.write(serializeMessage(msg), resolve));
  t.close = async () => { sock.end(); };
  return t;
}

async function main() {
  const [mode, target] = process.argv.slice(2);
  const transport = mode === 'stdio'
    ? new StdioClientTransport({ command: target, args: [], env: { ...process.env, PARLEY_STREAM_CHILD: 'lines' }, stderr: 'inherit' })
    : socketTransport(mode, target);
  const pending = new Map();
  const errors = [];
  let started;
  const startedP = new Promise((resolve) => { started = resolve; });
  let closed;
  const closedP = new Promise((resolve) => { closed = resolve; });
  transport.onerror = (e) => errors.push(String(e));
  transport.onclose = () => closed('closed');
  transport.onmessage = (msg) => {
    if (msg.method !== undefined && msg.id !== undefined) { // a call from the server
      let result;
      if (msg.method === 'whoami') result = 'mcp-sdk';
      else if (msg.method === 'mul') result = msg.params.a * msg.params.b;
      const answer = result === undefined
        ? { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'no ' + msg.method } }
        : { jsonrpc: '2.0', id: msg.id, result };
      transport.send(answer);
    } else if (msg.method === 'started') {
      started();
    } else if (msg.id !== undefined && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  };
  let nextID = 1;
  const call = (method, params) => {
    const id = nextID++;
    const p = new Promise((resolve) => pending.set(id, resolve));
    transport.send({ jsonrpc: '2.0', id, method, params });
    return [id, p];
  };
  await transport.start();

  const out = {};
  // MCP's schema wants object results: callMeBack answers one.
  out.callMeBack = (await call('callMeBack', { a: 6, b: 7 })[1]).result;
  const many = [];
  for (let i = 0; i < 50; i++) many.push(call('callMeBack', { a: i, b: 2 })[1]);
  out.many = (await Promise.all(many)).reduce((s, m) => s + m.result.product, 0);
  out.unknown = (await call('no.such.method', {})[1]).error.code;
  const [id, answer] = call('waitCancel', {});
  await startedP;
  transport.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } });
  out.cancel = (await answer).error.code;
  out.errors = errors;
  await transport.close();
  out.end = await closedP;
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
