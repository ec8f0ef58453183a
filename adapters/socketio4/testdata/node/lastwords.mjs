// lastwords.mjs URL CLIENTS: CLIENTS socket.io-client 4 sockets over
// websocket; each, once connected, sends one notification as an event
// ("note") and one JSON-RPC notification on the "rpc" event, and closes at
// once. Nothing waits for the server but its "hello": the test counts
// what arrived.
import { open } from './common.mjs';

const [url, clients] = process.argv.slice(2);
async function one(i) {
  const { socket, ready } = open(url);
  const hello = new Promise((resolve) => socket.on('hello', resolve));
  await ready;
  await hello; // the server's first message: see open in common.mjs
  socket.emit('note', `event ${i}`);
  socket.emit('rpc', JSON.stringify({ jsonrpc: '2.0', method: 'note', params: [`rpc ${i}`] }));
  socket.close();
}
await Promise.all(Array.from({ length: Number(clients) }, (_, i) => one(i)));
console.log(JSON.stringify({ sent: 2 * Number(clients) }));
