// refused.mjs URL VERSION [QUERY_JSON] [HEADERS_JSON]: connects and
// prints whether the socket was refused, and the error's text.
import { open } from './common.mjs';

const [url, version, query, headers] = process.argv.slice(2);
const { socket, ready } = open(url, {
  version: Number(version),
  query: query ? JSON.parse(query) : {},
  auth: query ? JSON.parse(query) : undefined,
  extraHeaders: headers ? JSON.parse(headers) : undefined,
});
let out;
try {
  await ready;
  out = { refused: false };
} catch (e) {
  out = { refused: true, message: String(e && (e.message || e)) };
}
console.log(JSON.stringify(out));
socket.close();
