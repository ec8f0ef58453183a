// Helpers shared by the interop scripts: a socket.io-client connection (4.x,
// or 2.x against the same server with EIO3 allowed), optionally with a
// json-rpc-2.0 peer on the "rpc" event, in JSON or CBOR.
import { createRequire } from 'node:module';
import { encode as cborEncode, decode as cborDecode } from 'cborg';
import { JSONRPCServer, JSONRPCClient, JSONRPCServerAndClient } from 'json-rpc-2.0';

const require = createRequire(import.meta.url);
const clients = {
  4: require('socket.io-client').io,
  2: require('socket.io-client-v2'),
};

// Payload forms on the event: JSON as a string; CBOR as binary (both ways).
export const forms = {
  json: {
    encode: (msg) => JSON.stringify(msg),
    decode: (data) => JSON.parse(data),
  },
  cbor: {
    encode: (msg) => Buffer.from(cborEncode(clean(msg))),
    decode: (data) => cborDecode(new Uint8Array(typeof data === 'string' ? Buffer.from(data, 'base64') : data)),
  },
};

// cborg writes undefined as CBOR undefined, which is not JSON's data
// model: drop undefined members first.
function clean(msg) {
  if (Array.isArray(msg)) return msg.map(clean);
  return Object.fromEntries(Object.entries(msg).filter(([, v]) => v !== undefined));
}

// open connects and returns {socket, ready, gone}. transports: "websocket",
// "polling" or "upgrade" (polling, then websocket).
//
// A script sends nothing before the server's first message, not at
// "connect": zishang520/socket.io v3.0.6 writes CONNECT before it records
// the socket, and an event arriving in between closes the connection
// ("invalid state"; the adapter's package doc lists it among the
// library's traps). The server's first message comes from the adapter's
// connection listener, after the socket is recorded.
export function open(url, { version = 4, transports = 'websocket', query = {}, auth, path, extraHeaders, timeout } = {}) {
  const opts = {
    forceNew: true,
    reconnection: false,
    query,
    transports: transports === 'upgrade' ? ['polling', 'websocket'] : [transports],
  };
  if (auth && version === 4) opts.auth = auth;
  if (path) opts.path = path;
  if (timeout) opts.timeout = timeout;
  if (extraHeaders) opts.extraHeaders = extraHeaders;
  const socket = clients[version](url, opts);
  const gone = new Promise((resolve) => socket.on('disconnect', (reason) => resolve(reason)));
  const ready = new Promise((resolve, reject) => {
    socket.on('connect', resolve);
    socket.on('connect_error', reject);
    socket.on('error', reject);
  });
  ready.catch(() => {});
  return { socket, ready, gone };
}

// jsonrpc puts a json-rpc-2.0 peer on the socket's "rpc" event.
export function jsonrpc(socket, codec = 'json', event = 'rpc') {
  const form = forms[codec];
  const rpc = new JSONRPCServerAndClient(
    new JSONRPCServer(),
    new JSONRPCClient((msg) => { socket.emit(event, form.encode(msg)); }),
    { errorListener: () => {} },
  );
  socket.on(event, (data) => {
    let msg;
    try { msg = form.decode(data); } catch (e) { return; }
    rpc.receiveAndSend(msg).catch(() => {});
  });
  socket.on('disconnect', (reason) => rpc.rejectAllPendingRequests('disconnected: ' + reason));
  return rpc;
}

// call emits an event with an acknowledgement (socket.io-client 2 has no
// emitWithAck) and resolves with the acknowledgement's first argument.
export function call(socket, ev, ...args) {
  return new Promise((resolve) => socket.emit(ev, ...args, (res) => resolve(res)));
}

// settle runs p and returns {result} or {code, message}.
export async function settle(p) {
  try {
    return { result: await p };
  } catch (e) {
    return { code: e.code, message: e.message };
  }
}

// ackOutcome reads an acknowledgement: {result} or {code, message}.
export function ackOutcome(res) {
  if (res && typeof res === 'object' && res.error && typeof res.error.code === 'number' && Object.keys(res).length === 1) {
    return { code: res.error.code, message: res.error.message };
  }
  return { result: res === undefined ? null : res };
}
