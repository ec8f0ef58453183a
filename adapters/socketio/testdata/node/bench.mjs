// bench.mjs URL CODEC N: N sequential calls of "add", then N calls in
// flight at once; prints the time each part took, in nanoseconds.
import { open } from './common.mjs';

const [url, codec, nArg] = process.argv.slice(2);
const n = Number(nArg);
const { socket, rpc, ready } = open(url, { codec });
await ready;
for (let i = 0; i < 100; i++) await rpc.request('add', [i, 1]); // warm up

let t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) await rpc.request('add', [i, 1]);
const sequential = Number(process.hrtime.bigint() - t0);

t0 = process.hrtime.bigint();
await Promise.all(Array.from({ length: n }, (_, i) => rpc.request('add', [i, 1])));
const pipelined = Number(process.hrtime.bigint() - t0);

console.log(JSON.stringify({ sequential, pipelined }));
socket.close();
