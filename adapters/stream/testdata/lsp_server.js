// A vscode-jsonrpc server over its own stdin and stdout, for a Parley
// client that starts it as a child process (stream.Start). It serves:
//   add [n...]      -> their sum
//   askBack         -> calls the client's whoami and answers with it
//   slow            -> waits until the client cancels it, then tells the
//                      client "sawCancel" and answers RequestCancelled
//   countdown       -> partial results n..1, then "liftoff"
// and exits when its input ends.
'use strict';
const rpc = require('vscode-jsonrpc/node');

const conn = rpc.createMessageConnection(
  new rpc.StreamMessageReader(process.stdin),
  new rpc.StreamMessageWriter(process.stdout),
);
// Positional params arrive spread, the cancellation token last.
conn.onRequest('add', (...args) => args.slice(0, -1).reduce((a, b) => a + b, 0));
conn.onRequest('askBack', async () => 'you are ' + (await conn.sendRequest('whoami')));
conn.onRequest('slow', (...args) => new Promise((resolve, reject) => {
  const token = args[args.length - 1]; // after the params, if any
  token.onCancellationRequested(() => {
    conn.sendNotification('sawCancel', { cancelled: true });
    reject(new rpc.ResponseError(-32800, 'cancelled'));
  });
}));
// countdown {n, partialResultToken} sends n..1 as partial results, then
// answers "liftoff".
conn.onRequest('countdown', async (p) => {
  for (let i = p.n; i >= 1; i--) {
    await conn.sendProgress(new rpc.ProgressType(), p.partialResultToken, i);
  }
  return 'liftoff';
});
conn.onClose(() => process.exit(0));
process.stdin.on('end', () => process.exit(0));
conn.listen();
