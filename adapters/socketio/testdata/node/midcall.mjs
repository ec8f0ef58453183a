// midcall.mjs URL: client "a" leaves while the server's call to it and its
// own call to the server are in flight; client "b" answers "whoami" until
// the server closes it.
import { open } from './common.mjs';

const url = process.argv[2];
const a = open(url, { query: { name: 'a' } });
const b = open(url, { query: { name: 'b' } });
b.rpc.addMethod('whoami', () => 'b');
a.rpc.addMethod('hang', () => {
  a.rpc.request('slow', []).catch(() => {}); // in flight when a leaves
  setTimeout(() => a.socket.close(), 200);
  return new Promise(() => {});               // never answers
});
await Promise.all([a.ready, b.ready]);
await a.gone;
await b.gone;
console.log(JSON.stringify({ done: true }));
