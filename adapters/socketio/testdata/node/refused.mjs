// refused.mjs URL CODEC: connects asking for CODEC and reports whether the
// server dropped the connection.
import { open } from './common.mjs';

const [url, codec] = process.argv.slice(2);
const { socket, gone } = open(url, { codec });
const timeout = new Promise((resolve) => setTimeout(() => resolve(false), 5000).unref());
const result = await Promise.race([gone.then(() => true), timeout]);
console.log(JSON.stringify({ disconnected: result }));
socket.close();
