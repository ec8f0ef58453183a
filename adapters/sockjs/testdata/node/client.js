'use strict';
// A JSON-RPC 2.0 peer over npm sockjs-client, with json-rpc-2.0 doing the
// RPC and cborg the CBOR envelope (base64 text, one SockJS message per
// JSON-RPC message), as the package documentation of adapters/sockjs
// describes. Nothing here comes from Parley.
//
// Usage: node client.js <url> <transport> <json|cbor> <name> <calls|serve|oversize> [size]
//
//   calls: call the Go server (add, an unknown method, wrong params, and
//          callMeBack, which makes the server call this client), print one
//          JSON line with what came back, close and exit.
//   serve: say hello, then answer the server's calls until the server
//          closes the session; exit then.
//   oversize: send one message of size bytes, print how the session closed.
const SockJS = require('sockjs-client');
const { JSONRPCServer, JSONRPCClient, JSONRPCServerAndClient } = require('json-rpc-2.0');

const [url, transport, codec, name, mode, size] = process.argv.slice(2);

async function main() {
  // cborg is an ES module. It writes plain objects as CBOR maps with text
  // keys and no tags, and reads maps back as plain objects.
  const cbor = await import('cborg');
  const encode = codec === 'cbor'
    ? (obj) => Buffer.from(cbor.encode(obj)).toString('base64')
    : (obj) => JSON.stringify(obj);
  const decode = codec === 'cbor'
    ? (text) => cbor.decode(Buffer.from(text, 'base64'))
    : (text) => JSON.parse(text);

  const sock = new SockJS(url + '?name=' + encodeURIComponent(name), null, { transports: [transport] });
  const peer = new JSONRPCServerAndClient(
    new JSONRPCServer(),
    new JSONRPCClient((payload) => sock.send(encode(payload))),
  );
  peer.addMethod('whoami', () => name);
  peer.addMethod('mul', ({ a, b }) => a * b);

  sock.onmessage = (e) => {
    let msg;
    try {
      msg = decode(e.data);
    } catch (err) {
      console.error('undecodable message:', e.data);
      return;
    }
    peer.receiveAndSend(msg);
  };

  const code = (p) => p.then(() => 'no error', (e) => e.code);

  sock.onopen = async () => {
    if (mode === 'serve') {
      await peer.request('hello', { name });
      return;
    }
    if (mode === 'oversize') {
      sock.send(encode({ jsonrpc: '2.0', method: 'echo', params: ['x'.repeat(Number(size))], id: 1 }));
      return;
    }
    const out = { name, transport: sock.transport, codec };
    try {
      out.add = await peer.request('add', [2, 3]);
      out.unknown = await code(peer.request('no.such.method', [1]));
      out.badParams = await code(peer.request('add', { x: 'y' }));
      out.callback = await peer.request('callMeBack', { a: 6, b: 7 });
    } catch (err) {
      out.error = String((err && err.message) || err);
    }
    printed = true;
    console.log(JSON.stringify(out));
    sock.close();
  };

  let opened = false;
  let printed = false;
  const onopen = sock.onopen;
  sock.onopen = (...args) => { opened = true; return onopen(...args); };
  sock.onclose = (e) => {
    if (mode !== 'calls') {
      console.log(JSON.stringify({ name, closed: e.code, reason: e.reason }));
    } else if (!opened) {
      // Say so rather than exit quietly: the Go test tells this apart.
      console.log(JSON.stringify({ name, error: `closed before open: ${e.code} ${e.reason}`, beforeOpen: true }));
    } else if (!printed) {
      console.log(JSON.stringify({ name, error: `closed during the calls: ${e.code} ${e.reason}`, lost: true }));
    }
    process.exit(0);
  };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
