// load.mjs URL CLIENTS CALLS: CLIENTS socket.io-client 4 sockets over
// websocket; each makes CALLS emitWithAck calls and answers the server's
// calls to "mul". Prints how many of its calls came back right, and how
// many of the server's calls it answered, once every client has seen the
// server's "bye".
//
// A client starts its calls once the server's first call has come, not at
// "connect": zishang520/socket.io v3.0.6 writes the CONNECT packet before
// it records the socket in its client, and an event that arrives in
// between is taken for one on an unknown namespace ("invalid state"), and
// the connection is closed. Under load (300 clients under -race beside
// other test processes) that window opened in several runs of 30. The
// server's first call is made from the adapter's connection listener,
// which runs after the socket is recorded.
import { open } from './common.mjs';

const [url, clients, calls] = process.argv.slice(2).map((v, i) => (i ? Number(v) : v));
let ok = 0, answered = 0;
const stats = { ready: 0, calls: 0, bye: 0, gone: {}, early: [] };
process.on('beforeExit', () => console.error(JSON.stringify(stats))); // only if something never settled
async function one(i) {
  const { socket, ready } = open(url, { timeout: 180000 }); // 1,000 handshakes at once take a while under -race
  let called;
  const firstCall = new Promise((resolve) => { called = resolve; });
  socket.on('mul', (a, b, ack) => { answered++; ack(a * b); called(); });
  const bye = new Promise((resolve) => socket.on('bye', resolve));
  let byeSeen = false;
  socket.on('bye', () => { byeSeen = true; });
  socket.on('disconnect', (r) => {
    stats.gone[r] = (stats.gone[r] || 0) + 1;
    if (!byeSeen) stats.early.push(`client ${i}: ${r}`); // says which, if the run never settles
  });
  await ready;
  stats.ready++;
  await firstCall;
  const results = await Promise.all(Array.from({ length: calls }, (_, k) =>
    socket.timeout(60000).emitWithAck('add', i, k).catch(() => null)));
  results.forEach((r, k) => { if (r === i + k) ok++; });
  stats.calls++;
  await bye;
  stats.bye++;
  socket.close();
}
await Promise.all(Array.from({ length: clients }, (_, i) => one(i)));
console.log(JSON.stringify({ ok, answered }));
