'use strict';
// A client of the socketio example's -legacy server (go-socket.io) with
// npm socket.io-client 2 and json-rpc-2.0, under node: no Parley code. It
// uses the server's own events (echo, chat) and JSON-RPC on the "rpc"
// event both ways, prints one JSON line with what came back, and
// disconnects.
//
// Usage: node testdata/legacy-client.js <server URL> <name>
const io = require('socket.io-client-v2'); // socket.io-client@2, installed under an alias
const { JSONRPCServer, JSONRPCClient, JSONRPCServerAndClient } = require('json-rpc-2.0');

const [url, name] = process.argv.slice(2);
const socket = io(url, { transports: ['websocket'], query: { name }, forceNew: true, reconnection: false });
const rpc = new JSONRPCServerAndClient(
  new JSONRPCServer(),
  new JSONRPCClient((msg) => socket.emit('rpc', JSON.stringify(msg))),
);
socket.on('rpc', (text) => rpc.receiveAndSend(JSON.parse(text)).catch(() => {}));

let markAsked;
const wasAsked = new Promise((resolve) => { markAsked = resolve; });
rpc.addMethod('whoami', () => {
  markAsked();
  return { name, agent: 'node ' + process.version };
});
const chatLines = [];
let markChat;
const chatSeen = new Promise((resolve) => { markChat = resolve; });
socket.on('chat', (line) => {
  chatLines.push(line);
  if (line.includes('hi from node')) markChat();
});
const ack = (event, arg) => new Promise((resolve) => socket.emit(event, arg, resolve));

const timer = setTimeout(() => {
  console.error('no answer in 15 s');
  process.exit(1);
}, 15000);
socket.on('connect_error', (err) => {
  console.error('connect_error:', err.message);
  process.exit(1);
});
socket.on('connect', async () => {
  const out = {};
  try {
    out.echo = await ack('echo', 'x');
    out.sum = await rpc.request('add', [2, 3, 4]);
    out.hello = await rpc.request('hello', { name });
    out.unknown = await rpc.request('no.such.method').then(() => 'no error', (e) => e.code);
    out.chatAck = await ack('chat', 'hi from node');
    await chatSeen;
    out.chat = chatLines;
    await wasAsked; // the server asks as the connection opens
    out.asked = true;
  } catch (err) {
    out.error = String((err && err.message) || err);
  }
  console.log(JSON.stringify(out));
  clearTimeout(timer);
  socket.close();
});
