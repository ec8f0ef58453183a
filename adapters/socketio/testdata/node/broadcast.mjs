// broadcast.mjs URL N SILENT: opens N connections, named c-0 .. c-(N-1),
// every other one in CBOR; each answers "whoami" with its name, except
// c-SILENT, which never answers. Exits when the server has closed them all.
import { open } from './common.mjs';

const [url, nArg, silentArg] = process.argv.slice(2);
const n = Number(nArg);
const silent = Number(silentArg);

const clients = [];
for (let i = 0; i < n; i++) {
  const name = 'c-' + i;
  const c = open(url, { codec: i % 2 ? 'cbor' : 'json', query: { name } });
  c.rpc.addMethod('whoami', () => (i === silent ? new Promise(() => {}) : name));
  clients.push(c);
}
await Promise.all(clients.map((c) => c.ready));
console.log(JSON.stringify({ connected: n }));
await Promise.all(clients.map((c) => c.gone));
console.log(JSON.stringify({ closed: n }));
