// WebSocket transport (docs/contract.md §5.2) for the Janus API (`janus-protocol`) and the
// Admin API (`janus-admin-protocol`): the subprotocol is mandatory, one JSON document per
// outgoing frame, incoming frames may hold several. A plain HTTP request gets 403.

import type { Logger } from '../log';
import type { JsonObject } from '../plugin/json';
import type { ReplySink, TransportConnection } from '../janus/connection';
import { OriginPolicy } from './origin';
import { RequestRateLimiter } from './rate-limit';
import { type BufferedConnection, SendBudget } from './send-budget';
import type { TlsSource } from './tls';
import { type JsonLayout, type Listener, serialize, uws } from './uws';
import { listenUws } from './uws-app';

/** What handles the text of a frame: the Janus core or the Admin API. */
export interface RequestProcessor {
  handleText(connection: TransportConnection, text: string | Uint8Array, reply?: ReplySink): Promise<JsonObject[]>;
}

export interface WebSocketListenerOptions {
  host: string;
  port: number;
  /** `janus-protocol` or `janus-admin-protocol`. */
  subprotocol: string;
  /** Package reported as the session transport (e.g. janus.transport.websockets). */
  transportPackage: string;
  processor: RequestProcessor;
  /**
   * Admin API: browser origins allowed to connect. An upgrade carrying any other Origin is
   * refused with 403; upgrades without Origin (non-browser clients) pass. Absent = no check.
   */
  allowedOrigins?: readonly string[];
  /** Called once when a connection closes (the core tears its sessions down). */
  onClose?: (connection: TransportConnection) => void;
  maxPayloadBytes: number;
  maxRequestsPerSecond: number;
  /** Queued outgoing bytes per connection and across connections (shared between listeners). */
  sendBudget: SendBudget;
  /** Sessions one connection may create (TransportConnection.maxSessions). */
  maxSessionsPerConnection?: number;
  logger: Logger;
  layout?: JsonLayout;
  /** wss:// with these files (reloadable); absent = ws://. */
  tls?: TlsSource;
}

interface UserData {
  connection: WsConnection;
}

let nextConnectionId = 1;

class WsConnection implements TransportConnection, BufferedConnection {
  readonly id: string;
  socket: uws.WebSocket<UserData> | null = null;
  closed = false;
  readonly limiter: RequestRateLimiter;

  constructor(
    readonly transport: string,
    readonly remote: string,
    private readonly layout: JsonLayout,
    private readonly log: Logger,
    maxRequestsPerSecond: number,
    private readonly budget: SendBudget,
    readonly maxSessions: number | undefined,
  ) {
    this.id = `ws-${nextConnectionId++}`;
    this.limiter = new RequestRateLimiter(maxRequestsPerSecond);
  }

  send(message: JsonObject): void {
    const socket = this.socket;
    if (this.closed || !socket) return;
    const text = serialize(message, this.layout);
    let status = 1;
    socket.cork(() => {
      status = socket.send(text, false);
    });
    // 2: uWS dropped the message (over maxBackpressure); the client would miss it.
    if (status === 2) this.drop('a message was dropped over the per-connection cap');
    else this.queuedChanged();
  }

  /** uWS's queue for this socket changed (a send, or a drain). */
  queuedChanged(): void {
    if (this.closed || !this.socket) return;
    this.budget.update(this, this.socket.getBufferedAmount());
  }

  drop(why: string): void {
    if (this.closed || !this.socket) return;
    this.log.warn('slow websocket client: closing connection', { connection: this.id, remote: this.remote, why });
    this.budget.forget(this);
    try {
      // Immediate close: a close frame would wait behind everything queued.
      this.socket.close();
    } catch {
      // Already closed by the peer.
    }
  }

  end(code: number, reason: string): void {
    if (this.closed || !this.socket) return;
    try {
      this.socket.end(code, reason);
    } catch {
      // Already closed by the peer.
    }
  }
}

function offeredProtocols(header: string): string[] {
  return header.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0);
}

export async function startWebSocketListener(options: WebSocketListenerOptions): Promise<Listener> {
  const log = options.logger.child({ component: 'transport-ws', subprotocol: options.subprotocol });
  const layout = options.layout ?? 'indented';
  const open = new Set<WsConnection>();
  const origins = options.allowedOrigins ? new OriginPolicy(options.allowedOrigins) : undefined;
  const behavior: uws.WebSocketBehavior<UserData> = {
    maxPayloadLength: options.maxPayloadBytes,
    // uWS drops messages above this; send() sees status 2 and drops the connection with a log line.
    maxBackpressure: options.sendBudget.perConnection,
    closeOnBackpressureLimit: 0,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    compression: uws.DISABLED,
    upgrade: (res, req, context) => {
      const key = req.getHeader('sec-websocket-key');
      const protocols = offeredProtocols(req.getHeader('sec-websocket-protocol'));
      const extensions = req.getHeader('sec-websocket-extensions');
      const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
      const origin = req.getHeader('origin');
      if (origins && origin !== '' && !origins.allows(origin)) {
        log.warn('websocket upgrade from a foreign origin refused', { remote, origin });
        res.writeStatus('403 Forbidden').end();
        return;
      }
      if (!protocols.includes(options.subprotocol)) {
        log.warn('websocket upgrade without the required subprotocol refused', { remote, offered: protocols });
        res.writeStatus('403 Forbidden').end();
        return;
      }
      const connection = new WsConnection(
        options.transportPackage, remote, layout, log, options.maxRequestsPerSecond, options.sendBudget, options.maxSessionsPerConnection,
      );
      res.upgrade<UserData>({ connection }, key, options.subprotocol, extensions, context);
    },
    open: (ws) => {
      const { connection } = ws.getUserData();
      connection.socket = ws;
      open.add(connection);
      log.debug('websocket connected', { connection: connection.id, remote: connection.remote });
    },
    message: (ws, message) => {
      const { connection } = ws.getUserData();
      if (connection.closed) return;
      if (!connection.limiter.hit()) {
        log.warn('request flood on websocket; closing connection', { connection: connection.id, remote: connection.remote });
        connection.end(1008, 'too many requests');
        return;
      }
      // The ArrayBuffer is only valid during this callback: handleText decodes it (strict
      // UTF-8) before returning.
      try {
        options.processor.handleText(connection, new Uint8Array(message)).catch((error: unknown) => {
          log.error('request processing failed', { connection: connection.id, error: error as Error });
        });
      } catch (error) {
        // Never let a bug in request handling reach uWS (it would abort the process).
        log.error('request processing failed', { connection: connection.id, error: error as Error });
      }
    },
    drain: (ws) => {
      ws.getUserData().connection.queuedChanged();
    },
    close: (ws, code) => {
      const { connection } = ws.getUserData();
      options.sendBudget.forget(connection);
      connection.closed = true;
      connection.socket = null;
      open.delete(connection);
      if (code === 1009 || code === 1006) {
        log.info('websocket closed abnormally (oversized frame or lost peer)', { connection: connection.id, code });
      } else {
        log.debug('websocket closed', { connection: connection.id, code });
      }
      try {
        options.onClose?.(connection);
      } catch (error) {
        log.error('connection close handling failed', { connection: connection.id, error: error as Error });
      }
    },
  };
  // Registered on the app, and again for each TLS server name added after a reload (uws-app.ts).
  const routes = (app: uws.TemplatedApp): void => {
    app.ws<UserData>('/*', behavior);
    // Janus answers plain HTTP on the WebSocket port with 403.
    app.any('/*', (res) => {
      res.writeStatus('403 Forbidden').end();
    });
  };

  const listener = await listenUws({ host: options.host, port: options.port, tls: options.tls, logger: log }, routes);
  log.info('websocket listener started', { host: options.host, port: listener.port, tls: options.tls !== undefined });
  return {
    port: listener.port,
    close: () => {
      for (const connection of [...open]) connection.end(1001, 'server shutting down');
      listener.close();
    },
  };
}
