// An existing Node service (node:http + ws) that mounts luasfu's Janus API on its own port
// and path: WebSocket clients (janus.js, janode) connect to ws://HOST:PORT/sfu/janus with the
// `janus-protocol` subprotocol, HTTP clients (REST + long poll) use http://HOST:PORT/sfu/janus,
// the Admin API is at /sfu/admin (`janus-admin-protocol`; only
// when an admin secret is set: ADMIN_SECRET), and the service's own routes keep working. luasfu
// opens no listener of its own.
//
//   npm run build && node dist/examples/http-ws-service.js      # PORT=8080 HOST=127.0.0.1 by default
//   kill -HUP <pid>     reloads the scripts; Ctrl-C (or SIGTERM) closes everything and exits
//
// SCRIPTS (comma-separated paths) replaces the default script, the package's lua/echotest.lua.

import { type IncomingMessage, type Server, createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { JANUS_ADMIN_PROTOCOL, JANUS_PROTOCOL, type Luasfu, type LuasfuOptions, createServer } from 'luasfu';

export interface ServiceOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Options for luasfu; its own listeners are turned off here. */
  sfu?: LuasfuOptions;
}

export interface Service {
  http: Server;
  sfu: Luasfu;
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

const JANUS_PATH = '/sfu/janus';
const ADMIN_PATH = '/sfu/admin';

function pathOf(request: IncomingMessage): string {
  return new URL(request.url ?? '/', 'http://localhost').pathname;
}

export async function startService(options: ServiceOptions = {}): Promise<Service> {
  const sfu = createServer({
    listenIp: '127.0.0.1',
    media: { listenIps: [{ ip: '127.0.0.1' }] },
    ...options.sfu,
    http: false,
    websocket: false,
    adminHttp: false,
    adminWebsocket: false,
    // No ops listener either: an application exposes sfu.server.metrics / health on its own routes if it wants them.
    metrics: { enabled: false },
  });
  await sfu.listen();
  const janus = sfu.transport();
  // The Admin API only with a secret of our own (not Janus's sample one).
  const admin = options.sfu?.adminSecret ? sfu.transport({ api: 'admin' }) : undefined;
  /** The subprotocol a path needs; undefined: nothing there. */
  const protocolFor = (path: string): string | undefined => {
    if (path === JANUS_PATH) return JANUS_PROTOCOL;
    if (path === ADMIN_PATH && admin) return JANUS_ADMIN_PROTOCOL;
    return undefined;
  };

  const janusHttp = sfu.httpHandler({ path: JANUS_PATH });

  const http = createHttpServer((request, response) => {
    // The service's own routes.
    if (request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: true, plugins: sfu.plugins().map((plugin) => plugin.name) }));
      return;
    }
    // The Janus API over HTTP under /sfu/janus; anything else is passed on.
    janusHttp(request, response, () => response.writeHead(404).end());
  });

  const wss = new WebSocketServer({
    noServer: true,
    // Only called for upgrades that offered the path's subprotocol (checked below).
    handleProtocols: (_offered, request) => protocolFor(pathOf(request)) ?? false,
  });
  http.on('upgrade', (request: IncomingMessage, socket, head) => {
    const path = pathOf(request);
    const wanted = protocolFor(path);
    if (wanted === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    // As Janus: no WebSocket without the subprotocol.
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((protocol) => protocol.trim());
    if (!offered.includes(wanted)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      (path === JANUS_PATH ? janus : admin)?.acceptWebSocket(ws, request.socket.remoteAddress);
    });
  });

  await new Promise<void>((resolve) => http.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { address, port } = http.address() as AddressInfo;
  return {
    http,
    sfu,
    url: `http://${address}:${port}`,
    close: async () => {
      // luasfu first: it closes the WebSockets it serves (1001) and ends every session.
      await sfu.close();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

async function main(): Promise<void> {
  const scripts = process.env.SCRIPTS?.split(',').filter((path) => path.length > 0);
  const service = await startService({
    host: process.env.HOST ?? '127.0.0.1',
    port: Number(process.env.PORT ?? 8080),
    sfu: { ...(scripts ? { scripts } : {}), ...(process.env.ADMIN_SECRET ? { adminSecret: process.env.ADMIN_SECRET } : {}) },
  });
  // The host application's own logging of what luasfu reports.
  service.sfu.on('handle', (event) => console.log(JSON.stringify({ msg: 'handle', ...event })));
  service.sfu.on('scriptError', (event) => console.error(JSON.stringify({ msg: 'script error', ...event })));
  service.sfu.on('scriptRestart', (event) => console.error(JSON.stringify({ msg: 'script restarted', ...event })));
  console.log(JSON.stringify({ msg: 'service listening', url: service.url, janus: `${service.url.replace('http', 'ws')}${JANUS_PATH}` }));
  process.on('SIGHUP', () => {
    void service.sfu.reloadScripts().then((outcomes) => console.log(JSON.stringify({ msg: 'scripts reloaded', outcomes })));
  });
  const stop = (): void => {
    // No process.exit(): once luasfu and the servers are closed, nothing keeps the process alive.
    void service.close().then(() => console.log(JSON.stringify({ msg: 'service closed' })));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) void main();
