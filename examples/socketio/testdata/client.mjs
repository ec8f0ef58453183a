// A client of the socketio example with npm socket.io-client 4, under
// node: plain socket.io code, no Parley and no JSON-RPC in sight. It uses
// the server's own events (echo, chat), calls the router's methods as
// events with acknowledgements, answers the server's whoami call through
// an acknowledgement, prints one JSON line with what came back, and
// disconnects.
//
// Usage: node testdata/client.mjs <server URL> <name> <websocket|upgrade>
import { io } from 'socket.io-client';

const [url, name, transports] = process.argv.slice(2);
const socket = io(url, {
  auth: { name },
  transports: transports === 'websocket' ? ['websocket'] : ['polling', 'websocket'],
  forceNew: true,
  reconnection: false,
});

let markAsked;
const wasAsked = new Promise((resolve) => { markAsked = resolve; });
socket.on('whoami', (question, ack) => {
  markAsked(question);
  ack({ name, agent: 'node ' + process.version });
});
const chatLines = [];
let markChat;
const chatSeen = new Promise((resolve) => { markChat = resolve; });
socket.on('chat', (line) => {
  chatLines.push(line);
  if (line.includes('hi from node')) markChat();
});

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
    out.echo = await socket.emitWithAck('echo', 'x');
    out.sum = await socket.emitWithAck('add', 2, 3, 4);
    out.hello = await socket.emitWithAck('hello');
    out.badParams = await socket.emitWithAck('add', 'two', 3);
    out.chatAck = await socket.emitWithAck('chat', 'hi from node');
    await chatSeen;
    out.chat = chatLines;
    out.question = await wasAsked; // the server asks as the connection opens
    out.transport = socket.io.engine.transport.name;
  } catch (err) {
    out.error = String((err && err.message) || err);
  }
  console.log(JSON.stringify(out));
  clearTimeout(timer);
  socket.close();
});
