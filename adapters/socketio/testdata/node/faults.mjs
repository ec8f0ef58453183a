// faults.mjs URL: sends payloads that are not messages on the rpc event,
// in JSON and in CBOR, and reports the error answers (id null) they got,
// then checks that the connections still work, that the server's own
// "chat" event works alongside, and that a bad argument to "chat" (which
// go-socket.io itself decodes) drops only the client that sent it.
import { open, settle, forms } from './common.mjs';

const url = process.argv[2];

// collect opens a connection and records the answers with a null id.
function collect(codec) {
  const c = open(url, { codec });
  c.nullAnswers = [];
  c.socket.on('rpc', (data) => {
    let msg;
    try { msg = forms[codec].decode(data); } catch (e) { c.nullAnswers.push({ undecodable: String(data) }); return; }
    if (msg.id === null) c.nullAnswers.push(msg.error.code);
  });
  return c;
}

const j = collect('json');
const b = collect('cbor');
const victim = open(url);
await Promise.all([j.ready, b.ready, victim.ready]);

// JSON connection: one line per payload, in order.
j.socket.emit('rpc', 'not json');                  // -32700 (the peer)
j.socket.emit('rpc', 42);                          // -32600: a number
j.socket.emit('rpc', { jsonrpc: '2.0' });          // -32600: an object
j.socket.emit('rpc', [1, 2]);                      // -32600: an array
j.socket.emit('rpc', true);                        // -32600: a boolean
j.socket.emit('rpc', null);                        // -32600: null
j.socket.emit('rpc');                              // -32600: nothing
j.socket.emit('rpc', Buffer.from([1, 2, 3]));      // -32600: binary
// A placeholder with no attachment: with a parser.Buffer argument this
// packet crashes a go-socket.io v1.7.0 server.
j.socket.io.engine.write('2["rpc",{"_placeholder":true,"num":0}]'); // -32600
j.socket.emit('rpc', 'x'.repeat(2000));            // -32600: over the 1024-byte limit
j.socket.emit('rpc', '\u0001'.repeat(1100));      // -32600: escaped as \u0001, 6600 bytes of literal
j.socket.emit('rpc', '');                          // -32700 (the peer)
j.socket.io.engine.write('0');                     // a second connect packet: keeps the peer

// CBOR connection.
b.socket.emit('rpc', 'not base64!');               // -32700: not base64
b.socket.emit('rpc', Buffer.from([0xff, 0x00]).toString('base64')); // -32700 (the peer)
b.socket.emit('rpc', 7);                           // -32600: a number

const summary = {
  jsonAfter: await settle(j.rpc.request('add', [2, 3])),
  cborAfter: await settle(b.rpc.request('add', [2, 3])),
  extraArgs: await settle(new Promise((resolve) => {
    const off = (data) => {
      const m = JSON.parse(data);
      if (m.id === 'extra') { j.socket.off('rpc', off); resolve(m.result); }
    };
    j.socket.on('rpc', off);
    j.socket.emit('rpc', JSON.stringify({ jsonrpc: '2.0', method: 'add', params: [4, 5], id: 'extra' }), 'ignored');
  })),
  chat: await new Promise((resolve) => j.socket.emit('chat', 'hi', resolve)),
};
summary.json = j.nullAnswers;
summary.cbor = b.nullAnswers;

// The victim sends a number to "chat", declared as a string by the
// server's own handler: go-socket.io drops it. The others stay.
victim.socket.emit('chat', 12);
await victim.gone;
summary.victimDropped = true;
summary.jsonStill = await settle(j.rpc.request('add', [1, 1]));
summary.cborStill = await settle(b.rpc.request('add', [1, 1]));
console.log(JSON.stringify(summary));
j.socket.close();
b.socket.close();
