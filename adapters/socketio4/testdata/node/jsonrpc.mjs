// jsonrpc.mjs URL CODEC TRANSPORTS VERSION: json-rpc-2.0 on the "rpc"
// event calls the Go server and serves its calls (calls=jsonrpc), then
// prints a JSON summary when the server says "bye".
import { open, jsonrpc, settle } from './common.mjs';

const [url, codec, transports, version] = process.argv.slice(2);
const query = { calls: 'jsonrpc' };
if (codec !== 'json') query.codec = codec;
const { socket, ready } = open(url, { version: Number(version), transports, query });
const rpc = jsonrpc(socket, codec);

rpc.addMethod('mul', ([a, b]) => a * b);
rpc.addMethod('echo', ([s]) => s);
const bye = new Promise((resolve) => rpc.addMethod('bye', ([v]) => resolve(v)));
const hello = new Promise((resolve) => rpc.addMethod('hello', ([v]) => resolve(v)));

await ready;
await hello; // the server's first message: see open in common.mjs

const summary = {
  add: await settle(rpc.request('add', [1, 2])),
  named: await settle(rpc.request('greet', { name: 'node' })),
  unknown: await settle(rpc.request('no.such.method', [])),
  badParams: await settle(rpc.request('add', { a: 'x' })),
  callback: await settle(rpc.request('callback', [6, 7])),
  whoami: await settle(rpc.request('whoami')),
};
summary.hello = await hello;
summary.bye = await bye;
summary.transport = socket.io?.engine?.transport?.name ?? null;
console.log(JSON.stringify(summary));
socket.close();
