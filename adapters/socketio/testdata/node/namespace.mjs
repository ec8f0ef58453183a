// namespace.mjs URL NAMESPACE CODEC: calls "add" on the rpc event of a
// namespace other than "/".
import { open, settle } from './common.mjs';

const [url, ns, codec] = process.argv.slice(2);
const { socket, rpc, ready } = open(url + ns, { codec });
await ready;
console.log(JSON.stringify({ add: await settle(rpc.request('add', [20, 22])) }));
socket.close();
