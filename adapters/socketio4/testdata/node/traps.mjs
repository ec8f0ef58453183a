// traps.mjs URL: a socket.io-client 4 that (1) calls "block" and, while it
// runs, "release" (which unblocks it): both complete only if the server
// runs calls off the socket's event loop; (2) answers the server's
// concurrent calls to "mul" and the application's own concurrent
// "ping" emits with acknowledgements. Prints a summary when the server
// says "bye".
import { open } from './common.mjs';

const [url] = process.argv.slice(2);
const { socket, ready } = open(url, {});
let called;
const firstCall = new Promise((resolve) => { called = resolve; });
socket.on('mul', (a, b, ack) => { ack(a * b); called(); });
socket.on('ping', (n, ack) => ack(n));
const bye = new Promise((resolve) => socket.on('bye', (msg) => resolve(msg)));
await ready;
await firstCall; // the server's first message: see open in common.mjs
const t = socket.timeout(10000);
const [blocked, released] = await Promise.all([
  t.emitWithAck('block').catch((e) => 'error: ' + e.message),
  socket.timeout(10000).emitWithAck('release').catch((e) => 'error: ' + e.message), // same order on the wire
]);
const summary = { blocked, released, bye: await bye };
console.log(JSON.stringify(summary));
socket.close();
