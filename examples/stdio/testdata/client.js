// The editor's side of examples/stdio: starts the tool (the executable
// named by the first argument) and talks to it with vscode-jsonrpc over
// its stdin and stdout. It answers the tool's editor/userName, asks for
// partial results of count, and reads the tool's OpenRPC description.
// Prints what it got as one JSON object.
'use strict';
const cp = require('child_process');
const rpc = require('vscode-jsonrpc/node');

async function main() {
  const [exe, ...args] = process.argv.slice(2);
  const tool = cp.spawn(exe, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => tool.on('exit', (code) => resolve(code)));
  const conn = rpc.createMessageConnection(
    new rpc.StreamMessageReader(tool.stdout),
    new rpc.StreamMessageWriter(tool.stdin),
  );
  conn.onRequest('editor/userName', () => 'Ada');
  const partial = [];
  conn.onProgress(new rpc.ProgressType(), 'count-1', (v) => partial.push(v));
  conn.listen();

  const out = {};
  out.greeting = await conn.sendRequest('greet', {});
  out.count = await conn.sendRequest('count', {
    text: 'the quick brown fox\njumps over\nthe lazy dog',
    partialResultToken: 'count-1',
  });
  out.partial = partial;
  const doc = await conn.sendRequest('rpc.discover');
  out.methods = doc.methods.map((m) => m.name);
  out.countParams = doc.methods.find((m) => m.name === 'count').params.map((p) => p.name);
  conn.dispose();
  tool.stdin.end();
  out.exit = await exited;
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
