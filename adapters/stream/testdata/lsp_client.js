// A vscode-jsonrpc client (the Language Server Protocol's own library,
// header framing) talking to a Parley server: over a socket
// (node lsp_client.js tcp HOST:PORT | unix PATH) or over the stdio of a
// server it starts (node lsp_client.js stdio EXECUTABLE; the executable is
// started with PARLEY_STREAM_CHILD=header). It prints what it saw as one
// JSON object; the Go test checks it.
'use strict';
const net = require('net');
const cp = require('child_process');
const rpc = require('vscode-jsonrpc/node');

async function connect(mode, target) {
  if (mode === 'stdio') {
    const child = cp.spawn(target, [], {
      env: { ...process.env, PARLEY_STREAM_CHILD: 'header' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    return {
      reader: new rpc.StreamMessageReader(child.stdout),
      writer: new rpc.StreamMessageWriter(child.stdin),
      end: async () => { child.stdin.end(); return await exited; },
    };
  }
  const sock = mode === 'unix' ? net.connect(target) : net.connect(Number(target.split(':')[1]), target.split(':')[0]);
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  const closed = new Promise((resolve) => sock.on('close', () => resolve('closed')));
  return {
    reader: new rpc.SocketMessageReader(sock),
    writer: new rpc.SocketMessageWriter(sock),
    end: async () => { sock.end(); return await closed; },
  };
}

async function main() {
  const [mode, target] = process.argv.slice(2);
  const link = await connect(mode, target);
  const conn = rpc.createMessageConnection(link.reader, link.writer);
  conn.onRequest('whoami', () => 'vscode-jsonrpc');
  conn.onRequest('mul', (p) => p.a * p.b);
  let started;
  const startedP = new Promise((resolve) => { started = resolve; });
  conn.onNotification('started', () => started());
  const progress = [];
  conn.onProgress(new rpc.ProgressType(), 'tok-1', (v) => progress.push(v));
  conn.listen();

  const out = {};
  out.add = await conn.sendRequest('add', rpc.ParameterStructures.byPosition, 1, 2, 39);
  out.callMeBack = await conn.sendRequest('callMeBack', { a: 6, b: 7 });
  // Many calls at once, both ways.
  const many = [];
  for (let i = 0; i < 50; i++) {
    many.push(conn.sendRequest('callMeBack', { a: i, b: 2 }));
  }
  out.many = (await Promise.all(many)).reduce((s, r) => s + r.product, 0);
  try {
    await conn.sendRequest('no.such.method', {});
    out.unknown = 'answered';
  } catch (e) {
    out.unknown = e.code;
  }
  // Cancellation: vscode-jsonrpc sends $/cancelRequest; the Go handler's
  // context ends and it answers RequestCancelled (-32800).
  const source = new rpc.CancellationTokenSource();
  const pending = conn.sendRequest('waitCancel', {}, source.token);
  await startedP;
  source.cancel();
  try {
    out.cancel = await pending;
  } catch (e) {
    out.cancel = e.code;
  }
  // Partial results: $/progress notifications with our token, before
  // the answer.
  out.progressResult = await conn.sendRequest('count', { n: 5, partialResultToken: 'tok-1' });
  out.progress = progress;
  conn.dispose();
  out.end = await link.end();
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
