// HTTP transport (janus-contract §5.3): REST POSTs with ids from the path, GET long polls,
// CORS as Janus does it, Janus errors as HTTP 200. With `admin` set it serves the Admin API
// the same way, without long polls.

import type { Logger } from '../log';
import type { JsonObject, JsonValue } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import type { ReplySink, TransportConnection } from '../janus/connection';
import { JanusErrorCode } from '../janus/errors';
import { errorReply, randomString } from '../janus/protocol';
import { parseJanusPath, parseMaxEvents, parsePathId } from './http-path';
import { HttpEventRouter } from './long-poll';
import { KeyedRateLimiter } from './rate-limit';
import { type JsonLayout, type Listener, listen, serialize, uws } from './uws';

/** What processes one parsed request: the Janus core or the Admin API. */
export interface HttpRequestProcessor {
  handleRequest(connection: TransportConnection, request: unknown, reply?: ReplySink): Promise<JsonObject>;
}

/** What the long poll needs from the core (it bypasses request dispatch, as in Janus). */
export interface LongPollCore {
  apiSecretValid(given: string | undefined): boolean;
  touchSession(sessionId: number): boolean;
}

export interface HttpListenerOptions {
  host: string;
  port: number;
  basePath: string;
  processor: HttpRequestProcessor;
  /** Janus API only: long polls. Absent for the Admin API. */
  longPoll?: { core: LongPollCore; router: HttpEventRouter };
  /** Connection object handed to the processor for admin requests (no events). */
  adminConnection?: TransportConnection;
  maxBodyBytes: number;
  /** Requests per second one remote address may send; beyond that: 429 and the connection is closed. */
  maxRequestsPerSecond: number;
  /** How long a POST waits for the core's reply before the connection is dropped (Janus: 10 s). */
  replyTimeoutMs?: number;
  logger: Logger;
  layout?: JsonLayout;
}

interface Cors {
  requestMethod: string;
  requestHeaders: string;
}

/** One request/response: guards against writing after the client aborted. */
class Exchange {
  aborted = false;
  done = false;
  onAbort: (() => void) | null = null;

  constructor(
    private readonly res: uws.HttpResponse,
    private readonly cors: Cors,
    private readonly layout: JsonLayout,
  ) {
    res.onAborted(() => {
      this.aborted = true;
      this.onAbort?.();
    });
  }

  private headers(): void {
    this.res.writeHeader('Access-Control-Allow-Origin', '*');
    if (this.cors.requestMethod) this.res.writeHeader('Access-Control-Allow-Methods', this.cors.requestMethod);
    if (this.cors.requestHeaders) this.res.writeHeader('Access-Control-Allow-Headers', this.cors.requestHeaders);
  }

  json(value: JsonValue): void {
    if (this.aborted || this.done) return;
    this.done = true;
    const body = serialize(value, this.layout);
    this.res.cork(() => {
      this.res.writeStatus('200 OK');
      this.res.writeHeader('Content-Type', 'application/json');
      this.headers();
      this.res.end(body);
    });
  }

  empty(status: string, extra: Record<string, string> = {}, closeConnection = false): void {
    if (this.aborted || this.done) return;
    this.done = true;
    this.res.cork(() => {
      this.res.writeStatus(status);
      this.headers();
      for (const [key, value] of Object.entries(extra)) this.res.writeHeader(key, value);
      this.res.end(undefined, closeConnection);
    });
  }

  /** Drop the connection without an answer. */
  drop(): void {
    if (this.aborted || this.done) return;
    this.done = true;
    this.res.close();
  }
}

function queryParam(query: string, key: string): string | undefined {
  const params = new URLSearchParams(query);
  const value = params.get(key);
  return value === null ? undefined : value;
}

export async function startHttpListener(options: HttpListenerOptions): Promise<Listener> {
  const admin = !options.longPoll;
  const log = options.logger.child({ component: admin ? 'transport-admin-http' : 'transport-http' });
  const layout = options.layout ?? 'indented';
  const replyTimeoutMs = options.replyTimeoutMs ?? 10_000;
  const basePath = options.basePath.replace(/\/+$/, '') || '/';
  const connection: TransportConnection = options.longPoll?.router ?? options.adminConnection ?? {
    id: 'admin-http', transport: 'janus.transport.http', send: () => undefined,
  };
  const limiter = new KeyedRateLimiter(options.maxRequestsPerSecond);
  const app = uws.App();

  const dispatch = (exchange: Exchange, request: JsonObject): void => {
    const timer = setTimeout(() => {
      log.warn('no reply from the core in time; dropping the HTTP request');
      exchange.drop();
    }, replyTimeoutMs);
    timer.unref();
    void options.processor.handleRequest(connection, request, (reply) => {
      clearTimeout(timer);
      exchange.json(reply);
    });
  };

  const handlePost = (exchange: Exchange, body: string, session?: string, handle?: string): void => {
    if (body.length === 0) {
      exchange.json(errorReply(0, undefined, JanusErrorCode.INVALID_JSON, 'Request payload missing'));
      return;
    }
    let root: unknown;
    try {
      root = JSON.parse(body);
    } catch (error) {
      exchange.json(errorReply(0, undefined, JanusErrorCode.INVALID_JSON, `JSON error: ${(error as Error).message}`));
      return;
    }
    if (!isJsonObject(root)) {
      exchange.json(errorReply(0, undefined, JanusErrorCode.INVALID_JSON_OBJECT, 'JSON error: not an object'));
      return;
    }
    const transaction = typeof root.transaction === 'string' ? root.transaction : undefined;
    // Ids from the path go into the body; a conflicting body id is a path error.
    for (const [field, text] of [['session_id', session], ['handle_id', handle]] as const) {
      if (text === undefined) continue;
      const id = parsePathId(text) as number;
      const inBody = root[field];
      if (typeof inBody === 'number' && inBody !== id) {
        exchange.json(errorReply(0, transaction, JanusErrorCode.INVALID_REQUEST_PATH, `Conflicting ${field} in path and body`));
        return;
      }
      root[field] = id;
    }
    dispatch(exchange, root);
  };

  const handleLongPoll = (exchange: Exchange, query: string, session: string, handle: string | undefined): void => {
    const longPoll = options.longPoll;
    const sessionId = parsePathId(session);
    if (!longPoll || sessionId === undefined) {
      exchange.empty('404 Not Found');
      return;
    }
    if (!longPoll.core.apiSecretValid(queryParam(query, 'apisecret'))) {
      exchange.empty('403 Forbidden');
      return;
    }
    // A long poll counts as a keepalive for the session.
    longPoll.core.touchSession(sessionId);
    if (handle !== undefined) {
      exchange.empty('302 Found', { Location: `${basePath === '/' ? '' : basePath}/${session}` });
      return;
    }
    const maxEvents = parseMaxEvents(queryParam(query, 'maxev') ?? '1');
    const { accepted, cancel } = longPoll.router.poll(sessionId, {
      maxEvents,
      respond: (payload) => exchange.json(payload),
    });
    if (!accepted) {
      exchange.empty('404 Not Found');
      return;
    }
    exchange.onAbort = cancel;
  };

  app.any('/*', (res, req) => {
    try {
      route(res, req);
    } catch (error) {
      // Never let a bug in request handling reach uWS (it would abort the process).
      log.error('HTTP request handling failed', { error: error as Error });
      try {
        res.cork(() => res.writeStatus('500 Internal Server Error').end(undefined, true));
      } catch {
        // Already answered or aborted.
      }
    }
  });

  const route = (res: uws.HttpResponse, req: uws.HttpRequest): void => {
    // HttpRequest is only valid synchronously: read everything now.
    const method = req.getMethod().toUpperCase();
    const url = req.getUrl();
    const query = req.getQuery() ?? '';
    const cors: Cors = {
      requestMethod: req.getHeader('access-control-request-method'),
      requestHeaders: req.getHeader('access-control-request-headers'),
    };
    const contentLength = Number.parseInt(req.getHeader('content-length') || '0', 10);
    const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
    const exchange = new Exchange(res, cors, layout);

    if (!limiter.hit(remote)) {
      log.warn('request flood on HTTP; closing connection', { remote });
      exchange.empty('429 Too Many Requests', {}, true);
      return;
    }
    if (method !== 'GET' && method !== 'POST' && method !== 'OPTIONS') {
      exchange.json(errorReply(0, undefined, JanusErrorCode.TRANSPORT_SPECIFIC, `Unsupported method ${method}`));
      return;
    }
    if (method === 'OPTIONS') {
      exchange.empty('200 OK', { 'Access-Control-Max-Age': '86400' });
      return;
    }
    const path = parseJanusPath(url, basePath);
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
      dispatch(exchange, { janus: 'info', transaction: randomString(12) });
      return;
    }
    if (method === 'GET') {
      if (admin || session === undefined) {
        if (admin) exchange.json(errorReply(0, undefined, JanusErrorCode.INVALID_JSON, 'Request payload missing'));
        else exchange.empty('404 Not Found');
        return;
      }
      handleLongPoll(exchange, query, session, handle);
      return;
    }
    // POST: ids in the path must be positive numbers.
    if ((session !== undefined && parsePathId(session) === undefined) || (handle !== undefined && parsePathId(handle) === undefined)) {
      exchange.empty('404 Not Found');
      return;
    }
    if (contentLength > options.maxBodyBytes) {
      log.warn('HTTP request body too large; refused', { bytes: contentLength, limit: options.maxBodyBytes });
      exchange.empty('413 Payload Too Large', {}, true);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (exchange.done || exchange.aborted) return;
      size += chunk.byteLength;
      if (size > options.maxBodyBytes) {
        log.warn('HTTP request body too large; refused', { limit: options.maxBodyBytes });
        exchange.empty('413 Payload Too Large', {}, true);
        return;
      }
      // The chunk is neutered after this callback: copy it.
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) {
        try {
          handlePost(exchange, Buffer.concat(chunks).toString('utf8'), session, handle);
        } catch (error) {
          log.error('HTTP request handling failed', { error: error as Error });
          exchange.empty('500 Internal Server Error', {}, true);
        }
      }
    });
  };

  const listener = await listen(app, options.host, options.port);
  log.info('HTTP listener started', { host: options.host, port: listener.port, path: basePath });
  return {
    port: listener.port,
    close: () => {
      options.longPoll?.router.close();
      listener.close();
    },
  };
}
