// A Janus API client for the benchmark, over WebSocket (ws://, wss://) or HTTP with long
// polling (http://, https://), for luasfu or Janus alike. One connection carries one Janus
// session. Replies are matched by transaction; a `message` answered with `ack` resolves with
// the plugin's `event` on the same transaction. Janus errors and plugin errors (`error_code`
// in the plugin data) reject with JanusReplyError; every wait is bounded.

import WebSocket from 'ws';
import type { JsonObject } from '../../src/plugin/json';
import { isJsonObject } from '../../src/plugin/json';
import { JanusReplyError, TransportError, oneLine } from './errors';

export interface ConnectOptions {
  url: string;
  /** Added to every request as `token` (Janus's stored-token auth). */
  token?: string;
  /** Added to every request as `apisecret`. */
  apiSecret?: string;
  /** Bound on connecting and on each reply. */
  timeoutMs: number;
}

type FrameListener = (frame: JsonObject) => void;

interface Pending {
  resolve(frame: JsonObject): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  /** A `message` answered with `ack` goes on waiting for its event; other requests end at the ack. */
  ackIsFinal: boolean;
}

let transactions = 0;

/** The plugin's error in a reply or event (`plugindata.data.error_code`), if any. */
function pluginError(frame: JsonObject): JanusReplyError | undefined {
  const plugindata = frame.plugindata;
  if (!isJsonObject(plugindata) || !isJsonObject(plugindata.data)) return undefined;
  const data = plugindata.data;
  if (data.error_code === undefined && data.error === undefined) return undefined;
  return new JanusReplyError(String(data.error_code ?? 'plugin'), String(data.error ?? 'plugin error'));
}

export abstract class JanusConnection {
  /** The Janus session this connection created (0 before create). */
  sessionId = 0;
  protected closing = false;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<FrameListener>();
  private keepalive: NodeJS.Timeout | undefined;

  protected constructor(protected readonly options: ConnectOptions) {}

  /** Opens a connection for the URL's scheme; rejects with TransportError('connect') when nothing answers. */
  static async open(options: ConnectOptions): Promise<JanusConnection> {
    const scheme = new URL(options.url).protocol;
    if (scheme === 'ws:' || scheme === 'wss:') return WsConnection.connect(options);
    if (scheme === 'http:' || scheme === 'https:') return new HttpConnection(options);
    throw new TransportError('connect', `unsupported URL scheme ${scheme} (use ws://, wss://, http:// or https://)`);
  }

  get isOpen(): boolean {
    return !this.closing;
  }

  /** Frames that are not the reply to a pending request: webrtcup, media, hangup, events without a transaction… */
  onFrame(listener: FrameListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sends `message` (transaction and credentials added) and resolves with the final reply:
   * `success`, `ack` (requests other than `message`) or the plugin's `event`.
   */
  call(message: JsonObject, timeoutMs = this.options.timeoutMs): Promise<JsonObject> {
    if (this.closing) return Promise.reject(new TransportError('closed', 'connection closed'));
    transactions++;
    const transaction = `b${transactions}`;
    const request: JsonObject = { ...message, transaction };
    if (this.options.token !== undefined) request.token = this.options.token;
    if (this.options.apiSecret !== undefined) request.apisecret = this.options.apiSecret;
    return new Promise<JsonObject>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(new TransportError('timeout', `no reply to ${String(message.janus)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(transaction, { resolve, reject, timer, ackIsFinal: message.janus !== 'message' });
      this.transmit(request).catch((error: unknown) => this.fail(transaction, error));
    });
  }

  /** create: a session on this connection; keepalives every 15 s from then on. */
  async createSession(): Promise<number> {
    const reply = await this.call({ janus: 'create' });
    const data = reply.data;
    if (!isJsonObject(data) || typeof data.id !== 'number') throw new JanusReplyError('protocol', `create: no session id in ${JSON.stringify(reply)}`);
    this.sessionId = data.id;
    this.sessionCreated();
    this.keepalive = setInterval(() => {
      this.call({ janus: 'keepalive', session_id: this.sessionId }).catch(() => undefined);
    }, 15_000);
    return this.sessionId;
  }

  /** attach: a handle to `plugin` in this connection's session. */
  async attach(plugin: string, extra: JsonObject = {}): Promise<number> {
    const reply = await this.call({ janus: 'attach', session_id: this.sessionId, plugin, ...extra });
    const data = reply.data;
    if (!isJsonObject(data) || typeof data.id !== 'number') throw new JanusReplyError('protocol', `attach: no handle id in ${JSON.stringify(reply)}`);
    return data.id;
  }

  /** A plugin message (with an optional JSEP); resolves with the sync reply or the event. */
  message(handleId: number, body: JsonObject, jsep?: JsonObject, timeoutMs?: number): Promise<JsonObject> {
    const request: JsonObject = { janus: 'message', session_id: this.sessionId, handle_id: handleId, body };
    if (jsep) request.jsep = jsep;
    return this.call(request, timeoutMs);
  }

  trickle(handleId: number, candidate: JsonObject): void {
    this.call({ janus: 'trickle', session_id: this.sessionId, handle_id: handleId, candidate }).catch(() => undefined);
  }

  /**
   * Best-effort teardown, bounded: detach the handles, destroy the session, close. Errors are
   * swallowed (the server may be gone); what matters is that nothing is left when it is not.
   */
  async close(handles: readonly number[] = []): Promise<void> {
    if (this.closing) return;
    const bound = Math.min(this.options.timeoutMs, 3000);
    if (this.sessionId !== 0) {
      await Promise.all(handles.map((handleId) => this.call({ janus: 'detach', session_id: this.sessionId, handle_id: handleId }, bound).catch(() => undefined)));
      await this.call({ janus: 'destroy', session_id: this.sessionId }, bound).catch(() => undefined);
    }
    clearInterval(this.keepalive);
    this.closing = true;
    for (const [transaction, pending] of this.pending) this.fail(transaction, new TransportError('closed', 'connection closed'));
    await this.shutdown();
  }

  protected abstract transmit(request: JsonObject): Promise<void>;
  protected abstract shutdown(): Promise<void>;
  /** Called once the session exists (HTTP starts its long poll). */
  protected sessionCreated(): void {}

  /** Routes one received frame: to the pending request it answers, else to the listeners. */
  protected deliver(frame: JsonObject): void {
    const transaction = typeof frame.transaction === 'string' ? frame.transaction : undefined;
    const pending = transaction ? this.pending.get(transaction) : undefined;
    if (!pending || !transaction || (frame.janus === 'ack' && !pending.ackIsFinal)) {
      if (!pending) for (const listener of this.listeners) listener(frame);
      return;
    }
    if (frame.janus !== 'success' && frame.janus !== 'ack' && frame.janus !== 'event' && frame.janus !== 'error') {
      for (const listener of this.listeners) listener(frame);
      return;
    }
    this.pending.delete(transaction);
    clearTimeout(pending.timer);
    if (frame.janus === 'error') {
      const error = isJsonObject(frame.error) ? frame.error : {};
      pending.reject(new JanusReplyError(String(error.code ?? 'error'), String(error.reason ?? 'error')));
      return;
    }
    const plugin = pluginError(frame);
    if (plugin) pending.reject(plugin);
    else pending.resolve(frame);
  }

  /** Every pending request fails (connection lost). */
  protected lost(reason: string): void {
    clearInterval(this.keepalive);
    this.closing = true;
    for (const transaction of [...this.pending.keys()]) this.fail(transaction, new TransportError('closed', reason));
    for (const listener of this.listeners) listener({ janus: 'closed', reason });
  }

  private fail(transaction: string, error: unknown): void {
    const pending = this.pending.get(transaction);
    if (!pending) return;
    this.pending.delete(transaction);
    clearTimeout(pending.timer);
    pending.reject(error instanceof Error ? error : new TransportError('closed', oneLine(error)));
  }
}

/** Janus API over one WebSocket (subprotocol janus-protocol). */
class WsConnection extends JanusConnection {
  private constructor(
    options: ConnectOptions,
    private readonly socket: WebSocket,
  ) {
    super(options);
    socket.on('message', (data) => {
      let frame: unknown;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (isJsonObject(frame)) this.deliver(frame);
    });
    socket.on('close', () => this.lost('connection closed by the server'));
    socket.on('error', () => undefined);
  }

  static connect(options: ConnectOptions): Promise<WsConnection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(options.url, 'janus-protocol', { perMessageDeflate: false, handshakeTimeout: options.timeoutMs });
      // One bound on the whole connect (TCP, TLS, upgrade), whatever stage hangs.
      const timer = setTimeout(() => failed(`no WebSocket within ${options.timeoutMs} ms`), options.timeoutMs);
      const failed = (reason: string): void => {
        clearTimeout(timer);
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        socket.terminate();
        reject(new TransportError('connect', `cannot connect to ${options.url}: ${reason}`));
      };
      socket.once('open', () => {
        clearTimeout(timer);
        socket.removeAllListeners();
        resolve(new WsConnection(options, socket));
      });
      socket.once('error', (error: NodeJS.ErrnoException) => failed(error.code ?? oneLine(error)));
      socket.once('unexpected-response', (_request, response) => failed(`HTTP ${response.statusCode ?? '?'} instead of a WebSocket`));
    });
  }

  protected async transmit(request: JsonObject): Promise<void> {
    if (this.socket.readyState !== WebSocket.OPEN) throw new TransportError('closed', 'connection closed');
    this.socket.send(JSON.stringify(request));
  }

  protected async shutdown(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close();
    await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]);
    this.socket.terminate();
  }
}

/** Janus API over HTTP: requests POSTed to <url>[/<session>[/<handle>]], events by long poll (GET <url>/<session>). */
class HttpConnection extends JanusConnection {
  private readonly base: string;
  private readonly stop = new AbortController();

  constructor(options: ConnectOptions) {
    super(options);
    this.base = options.url.replace(/\/+$/, '');
  }

  protected async transmit(request: JsonObject): Promise<void> {
    let path = this.base;
    if (typeof request.session_id === 'number') path += `/${request.session_id}`;
    if (typeof request.handle_id === 'number') path += `/${request.handle_id}`;
    let response: Response;
    try {
      response = await fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
        signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.stop.signal]),
      });
    } catch (error) {
      // fetch wraps the socket error (ECONNREFUSED…) in `cause`, sometimes in an AggregateError.
      const cause = (error as { cause?: NodeJS.ErrnoException & { errors?: NodeJS.ErrnoException[] } }).cause;
      const code = cause?.code ?? cause?.errors?.[0]?.code ?? (cause ? oneLine(cause) : oneLine(error));
      throw new TransportError('connect', `cannot reach ${path}: ${code}`);
    }
    const text = await response.text();
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      throw new TransportError('http', `HTTP ${response.status} from ${path}: not a Janus reply`);
    }
    if (isJsonObject(frame)) this.deliver(frame);
  }

  protected override sessionCreated(): void {
    void this.poll();
  }

  /** The long poll: up to 10 events per GET, until closed or the session is gone. */
  private async poll(): Promise<void> {
    const query = new URLSearchParams({ maxev: '10' });
    if (this.options.token !== undefined) query.set('token', this.options.token);
    if (this.options.apiSecret !== undefined) query.set('apisecret', this.options.apiSecret);
    while (!this.closing) {
      try {
        const response = await fetch(`${this.base}/${this.sessionId}?${query.toString()}`, { signal: this.stop.signal });
        const body: unknown = await response.json();
        for (const frame of Array.isArray(body) ? body : [body]) {
          if (!isJsonObject(frame)) continue;
          if (frame.janus === 'error') {
            this.lost(`long poll: ${JSON.stringify(frame.error)}`);
            return;
          }
          if (frame.janus !== 'keepalive') this.deliver(frame);
        }
      } catch (error) {
        if (!this.closing) this.lost(`long poll failed: ${oneLine(error)}`);
        return;
      }
    }
  }

  protected async shutdown(): Promise<void> {
    this.stop.abort();
  }
}
