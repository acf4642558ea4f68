// HTTP transport (docs/contract.md §5.3): REST POSTs with ids from the path, GET long polls,
// CORS as Janus does it, Janus errors as HTTP 200. With `admin` set it serves the Admin API
// the same way, without long polls, with CORS only for allowed origins.
//
// It runs on node:http (not uWS, which silently drops HTTP/1.0 requests such as those nginx
// sends upstream by default). HttpTransport handles requests; startHttpListener only binds
// a server to it, so other servers (TLS, an embedding application's) can reuse the handling.

import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type Server as HttpsServer, createServer as createHttpsServer } from 'node:https';
import type { Logger } from '../log';
import type { JsonObject, JsonValue } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import type { ReplySink, TransportConnection } from '../janus/connection';
import { JanusErrorCode } from '../janus/errors';
import { decodeUtf8, parseStrictJson } from '../janus/json-documents';
import { errorReply, randomString } from '../janus/protocol';
import { parseJanusPath, parseMaxEvents, parsePathId } from './http-path';
import type { HttpEventRouter } from './long-poll';
import { OriginPolicy } from './origin';
import { KeyedRateLimiter } from './rate-limit';
import type { StaticFile, StaticFiles } from './static-files';
import { type TlsMaterial, type TlsSource, secureContextOptions } from './tls';
import { type JsonLayout, type Listener, ListenError, boundListener, serialize } from './uws';

/** What processes one parsed request: the Janus core or the Admin API. */
export interface HttpRequestProcessor {
  handleRequest(connection: TransportConnection, request: unknown, reply?: ReplySink): Promise<JsonObject>;
}

/** What the long poll needs from the core (it bypasses request dispatch, as in Janus). */
export interface LongPollCore {
  pollAuthorized(apisecret: string | undefined, token: string | undefined): boolean;
  touchSession(sessionId: number): boolean;
}

export interface HttpTransportOptions {
  basePath: string;
  processor: HttpRequestProcessor;
  /** Janus API only: long polls. Absent for the Admin API. */
  longPoll?: { core: LongPollCore; router: HttpEventRouter };
  /** Connection object handed to the processor for admin requests (no events). */
  adminConnection?: TransportConnection;
  /**
   * Admin API only: browser origins allowed to call it (CORS echoes them). A request carrying
   * any other Origin is refused with 403 before it runs; requests without Origin pass.
   */
  allowedOrigins?: readonly string[];
  maxBodyBytes: number;
  /** Requests per second one remote address may send; beyond that: 429 and the connection is closed. */
  maxRequestsPerSecond: number;
  /** How long a POST waits for the core's reply before the connection is dropped (Janus: 10 s). */
  replyTimeoutMs?: number;
  logger: Logger;
  layout?: JsonLayout;
  /** Files GETs under their prefix are answered with (the demo pages), before the API paths. */
  staticFiles?: StaticFiles;
}

export interface HttpListenerOptions extends HttpTransportOptions {
  host: string;
  port: number;
  /** https:// with these files, swapped in place on a reload (open connections keep theirs); absent = http://. */
  tls?: TlsSource;
}

interface Cors {
  /** Access-Control-Allow-Origin to send, if any. */
  allowOrigin: string | undefined;
  requestMethod: string;
  requestHeaders: string;
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value ?? '';
}

/** One request/response: guards against writing after the client went away. */
class Exchange {
  aborted = false;
  done = false;
  onAbort: (() => void) | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly cors: Cors,
    private readonly layout: JsonLayout,
  ) {
    res.on('close', () => {
      if (this.done) return;
      this.aborted = true;
      this.onAbort?.();
    });
  }

  private headers(): void {
    if (this.cors.allowOrigin) {
      this.res.setHeader('Access-Control-Allow-Origin', this.cors.allowOrigin);
      if (this.cors.allowOrigin !== '*') this.res.setHeader('Vary', 'Origin');
    }
    if (this.cors.requestMethod) this.res.setHeader('Access-Control-Allow-Methods', this.cors.requestMethod);
    if (this.cors.requestHeaders) this.res.setHeader('Access-Control-Allow-Headers', this.cors.requestHeaders);
  }

  json(value: JsonValue): void {
    if (this.aborted || this.done) return;
    this.done = true;
    const body = Buffer.from(serialize(value, this.layout));
    this.res.statusCode = 200;
    this.res.setHeader('Content-Type', 'application/json');
    this.res.setHeader('Content-Length', body.length);
    this.headers();
    this.res.end(body);
  }

  /** `status` is "<code> <text>". */
  empty(status: string, extra: Record<string, string> = {}, closeConnection = false): void {
    if (this.aborted || this.done) return;
    this.done = true;
    const [code, ...text] = status.split(' ');
    this.res.statusCode = Number(code);
    this.res.statusMessage = text.join(' ');
    this.headers();
    for (const [key, value] of Object.entries(extra)) this.res.setHeader(key, value);
    this.res.setHeader('Content-Length', 0);
    if (closeConnection) this.res.setHeader('Connection', 'close');
    this.res.end();
  }

  file(file: StaticFile): void {
    if (this.aborted || this.done) return;
    this.done = true;
    this.res.statusCode = 200;
    this.res.setHeader('Content-Type', file.contentType);
    this.res.setHeader('Content-Length', file.body.length);
    this.res.setHeader('Cache-Control', 'no-cache');
    this.res.end(file.body);
  }

  /** Drop the connection without an answer. */
  drop(): void {
    if (this.aborted || this.done) return;
    this.done = true;
    this.res.destroy();
  }
}

/** The HTTP request handling of the Janus API or the Admin API, independent of any listener. */
export class HttpTransport {
  private readonly admin: boolean;
  private readonly log: Logger;
  private readonly layout: JsonLayout;
  private readonly replyTimeoutMs: number;
  private readonly basePath: string;
  private readonly connection: TransportConnection;
  private readonly limiter: KeyedRateLimiter;
  private readonly origins: OriginPolicy | undefined;

  constructor(private readonly options: HttpTransportOptions) {
    this.admin = !options.longPoll;
    this.log = options.logger.child({ component: this.admin ? 'transport-admin-http' : 'transport-http' });
    this.layout = options.layout ?? 'indented';
    this.replyTimeoutMs = options.replyTimeoutMs ?? 10_000;
    this.basePath = options.basePath.replace(/\/+$/, '') || '/';
    this.connection = options.longPoll?.router ?? options.adminConnection ?? {
      id: 'admin-http', transport: 'janus.transport.http', send: () => undefined,
    };
    this.limiter = new KeyedRateLimiter(options.maxRequestsPerSecond);
    this.origins = this.admin ? new OriginPolicy(options.allowedOrigins ?? []) : undefined;
  }

  /** Handles one request; never throws. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.route(req, res);
    } catch (error) {
      this.log.error('HTTP request handling failed', { error: error as Error });
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('Connection', 'close');
      }
      res.end();
    }
  }

  /** Answers every waiting long poll (shutdown). */
  close(): void {
    this.options.longPoll?.router.close();
  }

  private dispatch(exchange: Exchange, request: JsonObject): void {
    const timer = setTimeout(() => {
      this.log.warn('no reply from the core in time; dropping the HTTP request');
      exchange.drop();
    }, this.replyTimeoutMs);
    timer.unref();
    void this.options.processor.handleRequest(this.connection, request, (reply) => {
      clearTimeout(timer);
      exchange.json(reply);
    });
  }

  private handlePost(exchange: Exchange, bytes: Buffer, session?: string, handle?: string): void {
    if (bytes.length === 0) {
      exchange.json(errorReply(0, undefined, JanusErrorCode.INVALID_JSON, 'Request payload missing'));
      return;
    }
    const text = decodeUtf8(bytes);
    const parsed = text === undefined ? { ok: false as const, error: 'invalid UTF-8' } : parseStrictJson(text);
    if (!parsed.ok) {
      exchange.json(errorReply(0, undefined, JanusErrorCode.INVALID_JSON, `JSON error: ${parsed.error}`));
      return;
    }
    const root = parsed.value;
    if (!isJsonObject(root)) {
      exchange.json(errorReply(0, undefined, JanusErrorCode.INVALID_JSON_OBJECT, 'JSON error: not an object'));
      return;
    }
    const transaction = typeof root.transaction === 'string' ? root.transaction : undefined;
    // Ids from the path go into the body; a conflicting body id is a path error.
    for (const [field, idText] of [['session_id', session], ['handle_id', handle]] as const) {
      if (idText === undefined) continue;
      const id = parsePathId(idText) as number;
      const inBody = root[field];
      if (typeof inBody === 'number' && inBody !== id) {
        exchange.json(errorReply(0, transaction, JanusErrorCode.INVALID_REQUEST_PATH, `Conflicting ${field} in path and body`));
        return;
      }
      root[field] = id;
    }
    this.dispatch(exchange, root);
  }

  private handleLongPoll(exchange: Exchange, rawQuery: string, session: string, handle: string | undefined): void {
    const longPoll = this.options.longPoll;
    const sessionId = parsePathId(session);
    if (!longPoll || sessionId === undefined) {
      exchange.empty('404 Not Found');
      return;
    }
    const query = new URLSearchParams(rawQuery);
    if (!longPoll.core.pollAuthorized(query.get('apisecret') ?? undefined, query.get('token') ?? undefined)) {
      exchange.empty('403 Forbidden');
      return;
    }
    // A long poll counts as a keepalive for the session.
    longPoll.core.touchSession(sessionId);
    if (handle !== undefined) {
      exchange.empty('302 Found', { Location: `${this.basePath === '/' ? '' : this.basePath}/${session}` });
      return;
    }
    const maxEvents = parseMaxEvents(query.get('maxev') ?? '1');
    const { accepted, cancel } = longPoll.router.poll(sessionId, {
      maxEvents,
      respond: (payload) => exchange.json(payload),
    });
    if (!accepted) {
      exchange.empty('404 Not Found');
      return;
    }
    exchange.onAbort = cancel;
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const method = (req.method ?? '').toUpperCase();
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const url = queryAt < 0 ? target : target.slice(0, queryAt);
    const query = queryAt < 0 ? '' : target.slice(queryAt + 1);
    const origin = req.headers.origin;
    // Only the Admin API has an allow-list; a request without Origin is not a browser's.
    const foreignOrigin = this.origins !== undefined && origin !== undefined && !this.origins.allows(origin);
    const allowOrigin = !this.origins ? '*' : origin !== undefined && !foreignOrigin ? origin : undefined;
    const cors: Cors = {
      allowOrigin,
      requestMethod: header(req, 'access-control-request-method'),
      requestHeaders: header(req, 'access-control-request-headers'),
    };
    const remote = req.socket.remoteAddress ?? '';
    const exchange = new Exchange(res, cors, this.layout);

    if (!this.limiter.hit(remote)) {
      this.log.warn('request flood on HTTP; closing connection', { remote });
      exchange.empty('429 Too Many Requests', {}, true);
      return;
    }
    // Admin API: a browser page from another origin must not drive it (not even blindly).
    if (foreignOrigin) {
      this.log.warn('Admin API request from a foreign origin refused', { remote, origin });
      exchange.empty('403 Forbidden', {}, true);
      return;
    }
    if (method !== 'GET' && method !== 'POST' && method !== 'OPTIONS') {
      // node:http leaves out the body of a HEAD answer.
      exchange.json(errorReply(0, undefined, JanusErrorCode.TRANSPORT_SPECIFIC, `Unsupported method ${method}`));
      return;
    }
    if (method === 'OPTIONS') {
      exchange.empty('200 OK', { 'Access-Control-Max-Age': '86400' });
      return;
    }
    if (method === 'GET' && this.options.staticFiles) {
      const file = this.options.staticFiles.lookup(url);
      if (file !== undefined) {
        if (file) exchange.file(file);
        else exchange.empty('404 Not Found');
        return;
      }
    }
    const path = parseJanusPath(url, this.basePath);
    if (path.kind === 'not-found') {
      exchange.empty('404 Not Found');
      return;
    }
    const { session, handle } = path;
    if (session === 'info') {
      if (method !== 'GET') {
        exchange.empty('400 Bad Request');
        return;
      }
      this.dispatch(exchange, { janus: 'info', transaction: randomString(12) });
      return;
    }
    if (method === 'GET') {
      if (this.admin || session === undefined) {
        if (this.admin) exchange.json(errorReply(0, undefined, JanusErrorCode.INVALID_JSON, 'Request payload missing'));
        else exchange.empty('404 Not Found');
        return;
      }
      this.handleLongPoll(exchange, query, session, handle);
      return;
    }
    // POST: ids in the path must be positive numbers.
    if ((session !== undefined && parsePathId(session) === undefined) || (handle !== undefined && parsePathId(handle) === undefined)) {
      exchange.empty('404 Not Found');
      return;
    }
    const contentLength = Number.parseInt(header(req, 'content-length') || '0', 10);
    if (contentLength > this.options.maxBodyBytes) {
      this.log.warn('HTTP request body too large; refused', { bytes: contentLength, limit: this.options.maxBodyBytes });
      exchange.empty('413 Payload Too Large', {}, true);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (exchange.done || exchange.aborted) return;
      size += chunk.length;
      if (size > this.options.maxBodyBytes) {
        this.log.warn('HTTP request body too large; refused', { limit: this.options.maxBodyBytes });
        exchange.empty('413 Payload Too Large', {}, true);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (exchange.done || exchange.aborted) return;
      try {
        this.handlePost(exchange, Buffer.concat(chunks), session, handle);
      } catch (error) {
        this.log.error('HTTP request handling failed', { error: error as Error });
        exchange.empty('500 Internal Server Error', {}, true);
      }
    });
    req.on('error', () => exchange.drop());
  }
}

const LISTEN_ERRORS: Record<string, string> = { EADDRINUSE: 'port in use', EADDRNOTAVAIL: 'address not available', EACCES: 'permission denied' };

/** Binds a node:http (or https) server to host:port; close() also drops open connections. */
export function listenHttp(server: Server | HttpsServer, host: string, port: number): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(new ListenError(host, port, LISTEN_ERRORS[error.code ?? ''] ?? error.message));
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      const address = server.address();
      const realPort = typeof address === 'object' && address ? address.port : port;
      resolve(
        boundListener(realPort, () => {
          server.close();
          server.closeAllConnections();
        }),
      );
    });
  });
}

export async function startHttpListener(options: HttpListenerOptions): Promise<Listener> {
  const transport = new HttpTransport(options);
  const handle = (req: IncomingMessage, res: ServerResponse): void => transport.handle(req, res);
  const { tls } = options;
  const server = tls ? createHttpsServer(secureContextOptions(tls.current), handle) : createServer(handle);
  const onReload = (material: TlsMaterial): void => (server as HttpsServer).setSecureContext(secureContextOptions(material));
  tls?.events.on('reload', onReload);
  const listener = await listenHttp(server, options.host, options.port);
  options.logger.info('HTTP listener started', { host: options.host, port: listener.port, path: options.basePath, tls: tls !== undefined });
  return {
    port: listener.port,
    close: () => {
      tls?.events.off('reload', onReload);
      transport.close();
      listener.close();
    },
  };
}
