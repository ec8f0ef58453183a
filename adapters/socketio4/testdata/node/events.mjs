// events.mjs URL TRANSPORTS VERSION: plain socket.io code, no JSON-RPC in
// sight: emits with acknowledgements served by the Go router, and the
// server's calls answered with acknowledgements. Prints a JSON summary
// when the server says "bye".
import { open, call, ackOutcome } from './common.mjs';

const [url, transports, version] = process.argv.slice(2);
const v = Number(version);
const { socket, ready } = open(url, { version: v, transports, auth: { token: 'secret' }, query: v === 2 ? { token: 'secret' } : {} });

socket.on('mul', (a, b, ack) => ack(a * b));
socket.on('echo', (s, ack) => ack(s));
socket.on('localTime', (params, ack) => ack({ zone: params.zone, iso: new Date(0).toISOString() }));
socket.on('refuse', (ack) => ack({ error: { code: 4001, message: 'not today', data: { why: 'test' } } }));
socket.on('silent', () => {}); // never acknowledges: the server's ack timeout ends the call
const hello = new Promise((resolve) => socket.on('hello', (msg) => resolve(msg)));
const bye = new Promise((resolve) => socket.on('bye', (msg) => resolve(msg)));

await ready;
await hello; // the server's first message: see open in common.mjs

const summary = {
  add: ackOutcome(v === 4 ? await socket.emitWithAck('add', 1, 2) : await call(socket, 'add', 1, 2)),
  named: ackOutcome(await call(socket, 'greet', { name: 'node' })),
  fails: ackOutcome(await call(socket, 'fail')),
  panics: ackOutcome(await call(socket, 'panic')),
  badParams: ackOutcome(await call(socket, 'add', 'x', {})),
  callback: ackOutcome(await call(socket, 'callback', 6, 7)),
  whoami: ackOutcome(await call(socket, 'whoami')),
  own: await call(socket, 'chat', 'hi'), // the application's own event
};
socket.emit('note', 'from node'); // a notification: no acknowledgement
summary.hello = await hello;
summary.bye = await bye;
summary.transport = socket.io?.engine?.transport?.name ?? null;
console.log(JSON.stringify(summary));
socket.close();
