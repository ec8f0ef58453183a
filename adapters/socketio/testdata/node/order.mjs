// order.mjs URL N: sends N notifications "seq" [i] back to back, then
// calls "count", which the server answers once it has them all.
import { open, settle } from './common.mjs';

const [url, nArg] = process.argv.slice(2);
const n = Number(nArg);
const { socket, rpc, ready } = open(url);
await ready;
for (let i = 0; i < n; i++) rpc.notify('seq', [i]);
console.log(JSON.stringify({ count: await settle(rpc.request('count', [])) }));
socket.close();
