// interop.mjs URL CODEC: calls the Go server and serves its calls, then
// prints a JSON summary when the server says "bye".
import { open, settle } from './common.mjs';

const [url, codec] = process.argv.slice(2);
const { socket, rpc, ready } = open(url, { codec, query: { name: 'node-' + codec } });

rpc.addMethod('mul', ([a, b]) => a * b);
rpc.addMethod('echo', ([s]) => s);
const bye = new Promise((resolve) => rpc.addMethod('bye', ([v]) => resolve(v)));
const hello = new Promise((resolve) => rpc.addMethod('hello', ([v]) => resolve(v)));

await ready;

const summary = {
  add: await settle(rpc.request('add', [1, 2])),
  named: await settle(rpc.request('greet', { name: 'node' })),
  unknown: await settle(rpc.request('no.such.method', [])),
  badParams: await settle(rpc.request('add', { a: 'x' })),
  callback: await settle(rpc.request('callback', [6, 7])),
};
summary.hello = await hello;
summary.bye = await bye;
console.log(JSON.stringify(summary));
socket.close();
