// stall.mjs URL: client a calls "block", which holds the server peer's
// only handler slot, then "add"; client b then calls "release". a's "add"
// must not be answered before the release: a's connection is stalled
// (backpressure), and b's is not.
import { open, settle } from './common.mjs';

const url = process.argv[2];
const a = open(url);
const b = open(url);
await Promise.all([a.ready, b.ready]);
const events = [];
const blocked = settle(a.rpc.request('block', []));
const added = settle(a.rpc.request('add', [1, 1])).then((r) => { events.push('a:add'); return r; });
await new Promise((resolve) => setTimeout(resolve, 300));
events.push('b:release');
const released = await settle(b.rpc.request('release', []));
const summary = { released, blocked: await blocked, added: await added, events };
console.log(JSON.stringify(summary));
a.socket.close();
b.socket.close();
