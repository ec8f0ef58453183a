// Helpers shared by the interop scripts: a socket.io-client 2 connection
// with a json-rpc-2.0 peer on the "rpc" event, in JSON or CBOR.
import io from 'socket.io-client';
import { encode as cborEncode, decode as cborDecode } from 'cborg';
import { JSONRPCServer, JSONRPCClient, JSONRPCServerAndClient } from 'json-rpc-2.0';

// Payload forms on the event: JSON as a string, CBOR as base64 text.
export const forms = {
  json: {
    encode: (msg) => JSON.stringify(msg),
    decode: (data) => JSON.parse(data),
  },
  cbor: {
    // cborg refuses nothing but writes undefined as CBOR undefined, which
    // is not JSON's data model: drop undefined members first.
    encode: (msg) => Buffer.from(cborEncode(clean(msg))).toString('base64'),
    decode: (data) => cborDecode(Buffer.from(data, 'base64')),
  },
};

function clean(msg) {
  if (Array.isArray(msg)) return msg.map(clean);
  return Object.fromEntries(Object.entries(msg).filter(([, v]) => v !== undefined));
}

// open connects to url and returns {socket, rpc, ready, gone}: ready
// resolves on connect, gone on disconnect. query goes in the handshake URL (codec, name).
export function open(url, { codec = 'json', query = {}, event = 'rpc' } = {}) {
  const q = { ...query };
  if (codec !== 'json') q.codec = codec;
  const socket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    query: q,
  });
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
  // gone is registered now so that a disconnect is never missed.
  const gone = new Promise((resolve) => socket.on('disconnect', (reason) => {
    rpc.rejectAllPendingRequests('disconnected: ' + reason);
    resolve(reason);
  }));
  const ready = new Promise((resolve, reject) => {
    socket.on('connect', resolve);
    socket.on('connect_error', reject);
    socket.on('error', reject);
  });
  ready.catch(() => {}); // scripts that never await ready must not die of it
  return { socket, rpc, ready, gone };
}

// settle runs p and returns {result} or {code, message}.
export async function settle(p) {
  try {
    return { result: await p };
  } catch (e) {
    return { code: e.code, message: e.message };
  }
}
