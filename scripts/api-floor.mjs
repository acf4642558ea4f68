// The API path's floor: a bare uWS server that answers the Janus requests of `luasfu-bench api`
// (create, attach, message, ...) with Janus-shaped replies, parsed and serialised as luasfu does
// (JSON.parse of each frame, JSON.stringify(reply, null, 3), one corked send), but with no
// core, no plugin and no second thread. Its server CPU per message is what transport and JSON
// alone cost on this machine (bench/README.md "Ninth session"). Run by hand:
//
//   node scripts/api-floor.mjs 29500 &
//   luasfu-bench api --url ws://127.0.0.1:29500 --sessions 50 --messages 1000 --server-pid $!
//
// Listens on 127.0.0.1 only. Tests never run it.
import { createRequire } from 'node:module';

const uws = createRequire(import.meta.url)('uWebSockets.js');
const port = Number(process.argv[2] ?? 29500);
const plugin = process.argv[3] ?? 'janus.plugin.echolua';
const SCRIPT_REPLY = '{"echotest":"response","result":"ok"}';
let nextId = 1000;

function reply(request) {
  const { janus, session_id: session, transaction } = request;
  switch (janus) {
    case 'info':
      return { janus: 'server_info', transaction, name: 'api-floor', version: 1, plugins: { [plugin]: {} } };
    case 'create':
    case 'attach':
      return { janus: 'success', session_id: session, transaction, data: { id: nextId++ } };
    case 'message':
      // As the core does with a script's synchronous reply: its text parsed, then re-serialised.
      return { janus: 'success', session_id: session, transaction, sender: request.handle_id, plugindata: { plugin, data: JSON.parse(SCRIPT_REPLY) } };
    default:
      return { janus: 'success', session_id: session, transaction };
  }
}

uws.App().ws('/*', {
  upgrade: (res, req, context) => res.upgrade({}, req.getHeader('sec-websocket-key'), 'janus-protocol', req.getHeader('sec-websocket-extensions'), context),
  message: (ws, message) => {
    const text = JSON.stringify(reply(JSON.parse(Buffer.from(message).toString('utf8'))), null, 3);
    ws.cork(() => ws.send(text, false));
  },
}).listen('127.0.0.1', port, (listening) => {
  if (!listening) {
    console.error(`api-floor: cannot listen on 127.0.0.1:${port}`);
    process.exit(1);
  }
  console.log(`api-floor: ws://127.0.0.1:${port} (${plugin})`);
});
