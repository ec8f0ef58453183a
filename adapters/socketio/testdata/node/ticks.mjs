// ticks.mjs URL N: counts N plain "tick" events that the server emits
// from many goroutines while the adapter sends on the same connection,
// sends the server's own "hello" event, and waits for the "pong"
// notification the server sends back through the peer.
import { open } from './common.mjs';

const [url, nArg] = process.argv.slice(2);
const n = Number(nArg);
const { socket, rpc, ready } = open(url);
let ticks = 0;
let notes = 0;
const allTicks = new Promise((resolve) => socket.on('tick', () => { if (++ticks === n) resolve(); }));
const allNotes = new Promise((resolve) => rpc.addMethod('note', () => { if (++notes === n) resolve(); }));
const pong = new Promise((resolve) => rpc.addMethod('pong', ([v]) => resolve(v)));
await ready;
setTimeout(() => { console.error("stuck", { ticks, notes }); process.exit(3); }, 5000).unref();
socket.emit('hello', 'hello');
const result = { pong: await pong };
await allTicks;
await allNotes;
result.ticks = ticks;
result.notes = notes;
console.log(JSON.stringify(result));
socket.close();
