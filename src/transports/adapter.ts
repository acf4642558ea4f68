// Bring your own transport: the Janus API (or the Admin API) over connections the embedding
// application accepts itself, e.g. a `ws` WebSocketServer on its own node:http server. The
// application reports what happens to each connection (open, a message arrived, closed);
// replies and events come back through the `send` it gave at open. No uWebSockets.js listener
// is involved.
//
//   const janus = sfu.transport();                           // Janus API, as janus.transport.websockets
//   wss.on('connection', (socket) => janus.acceptWebSocket(socket));
//   // or, for any other message channel:
//   const connection = janus.open({ send: (text) => channel.write(text), close: () => channel.end() });
//   channel.on('data', (text) => connection.message(text));
//   channel.on('end', () => connection.close());

import type { ReplySink, TransportConnection } from '../janus/connection';
import { type Logger, silentLogger } from '../log';
import type { JsonObject } from '../plugin/json';
import { RequestRateLimiter } from './rate-limit';
import type { RequestProcessor } from './websocket';
import { type JsonLayout, serialize } from './uws';

/** What processes a connection's messages (the Janus core or the Admin API): the WebSocket listener's. */
export type TextRequestProcessor = RequestProcessor;

/** The application's side of one connection. */
export interface TransportPeer {
  /** Deliver one JSON document (a reply or an event) to the client. */
  send(text: string): void;
  /** Close the client's connection (request flood, oversized message, server closing); optional. */
  close?(code: number, reason: string): void;
  /** The client's address, for logs. */
  remote?: string;
}

/** The part of a `ws` WebSocket (or any alike) that acceptWebSocket uses. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', listener: (data: unknown) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface TransportAdapterOptions {
  processor: TextRequestProcessor;
  /** Called once when a connection closes (the core ends its sessions, or keeps them for `claim`). */
  onClose?: (connection: TransportConnection) => void;
  /** Transport package the sessions report (admin handle_info `session_transport`). */
  transport: string;
  /** Prefix of the connection ids, for logs (default `adapter`). */
  idPrefix?: string;
  /** Reply layout (default 'indented', as Janus). */
  layout?: JsonLayout;
  /** Messages per second one connection may send before it is closed (default: unlimited). */
  maxRequestsPerSecond?: number;
  /** Largest message accepted, in bytes; a larger one closes the connection (default: unlimited). */
  maxMessageBytes?: number;
  logger?: Logger;
}

/** One message: text, or bytes as `ws` hands them over (Buffer, ArrayBuffer or fragments). */
export type TransportMessage = string | Uint8Array | ArrayBuffer | readonly Uint8Array[];

/** Text as it is; bytes as one Uint8Array (the core decodes them). */
function messageContent(data: TransportMessage): string | Uint8Array {
  if (typeof data === 'string' || data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return Buffer.concat(data);
}

function isTransportMessage(data: unknown): data is TransportMessage {
  return typeof data === 'string' || data instanceof Uint8Array || data instanceof ArrayBuffer
    || (Array.isArray(data) && data.every((part) => part instanceof Uint8Array));
}

/** WebSocket close codes the adapter uses. */
const CLOSE = { goingAway: 1001, policy: 1008, tooBig: 1009, unsupported: 1003 } as const;

/** A connection opened through the adapter: the core sees it as any TransportConnection. */
export class AdapterConnection implements TransportConnection {
  private open = true;
  private readonly limiter: RequestRateLimiter | undefined;

  constructor(
    readonly id: string,
    private readonly peer: TransportPeer,
    private readonly adapter: TransportAdapter,
    private readonly options: TransportAdapterOptions,
    private readonly log: Logger,
  ) {
    this.limiter = options.maxRequestsPerSecond ? new RequestRateLimiter(options.maxRequestsPerSecond) : undefined;
  }

  get transport(): string {
    return this.options.transport;
  }

  /** False once closed: messages are ignored and nothing more is sent. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Core → client: one reply or event. */
  send(message: JsonObject): void {
    if (!this.open) return;
    try {
      this.peer.send(serialize(message, this.options.layout));
    } catch (error) {
      this.log.warn('transport peer send failed', { connection: this.id, error: error as Error });
    }
  }

  /**
   * Client → core: one message (it may hold several JSON documents). Resolves with the
   * replies, which have also been sent; never rejects.
   */
  async message(data: TransportMessage): Promise<JsonObject[]> {
    if (!this.open) return [];
    if (this.limiter && !this.limiter.hit()) {
      this.log.warn('request flood; closing connection', { connection: this.id, remote: this.peer.remote });
      this.end(CLOSE.policy, 'too many requests');
      return [];
    }
    const content = messageContent(data);
    const limit = this.options.maxMessageBytes;
    if (limit !== undefined && (typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength) > limit) {
      this.log.warn('message too large; closing connection', { connection: this.id, limit });
      this.end(CLOSE.tooBig, 'message too large');
      return [];
    }
    try {
      return await this.options.processor.handleText(this, content);
    } catch (error) {
      this.log.error('request processing failed', { connection: this.id, error: error as Error });
      return [];
    }
  }

  /** The client's connection closed: its sessions end (or wait for `claim`). Idempotent. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.adapter.forget(this);
    try {
      this.options.onClose?.(this);
    } catch (error) {
      this.log.error('connection close handling failed', { connection: this.id, error: error as Error });
    }
  }

  /** Asks the application to close the client's connection, and closes ours. */
  end(code: number, reason: string): void {
    if (!this.open) return;
    try {
      this.peer.close?.(code, reason);
    } catch (error) {
      this.log.warn('transport peer close failed', { connection: this.id, error: error as Error });
    }
    this.close();
  }
}

export class TransportAdapter {
  private readonly live = new Set<AdapterConnection>();
  private readonly log: Logger;
  private nextId = 1;

  constructor(private readonly options: TransportAdapterOptions) {
    this.log = (options.logger ?? silentLogger()).child({ component: 'transport-adapter', transport: options.transport });
  }

  /** A client connected: replies and events for it go to `peer.send`. */
  open(peer: TransportPeer): AdapterConnection {
    const connection = new AdapterConnection(`${this.options.idPrefix ?? 'adapter'}-${this.nextId++}`, peer, this, this.options, this.log);
    this.live.add(connection);
    this.log.debug('connection opened', { connection: connection.id, remote: peer.remote });
    return connection;
  }

  /**
   * Wires a `ws` WebSocket (or alike): messages in, replies and events out, close. Checking
   * the subprotocol (`janus-protocol` / `janus-admin-protocol`) is the WebSocketServer's job
   * (its `handleProtocols` option).
   */
  acceptWebSocket(socket: WebSocketLike, remote?: string): AdapterConnection {
    const connection = this.open({
      send: (text) => socket.send(text),
      close: (code, reason) => socket.close(code, reason),
      remote,
    });
    socket.on('message', (data: unknown) => {
      if (isTransportMessage(data)) void connection.message(data);
      else connection.end(CLOSE.unsupported, 'unsupported message');
    });
    socket.on('close', () => connection.close());
    // A protocol error (bad frame, oversized message) is followed by 'close'; without a
    // listener the emitter would throw it into the application.
    socket.on('error', (error) => this.log.info('websocket error', { connection: connection.id, error }));
    return connection;
  }

  /** Open connections. */
  get size(): number {
    return this.live.size;
  }

  /** Server shutdown: every connection is closed (its peer asked to close with 1001). */
  closeAll(): void {
    for (const connection of [...this.live]) connection.end(CLOSE.goingAway, 'server shutting down');
  }

  /** @internal A connection closed. */
  forget(connection: AdapterConnection): void {
    this.live.delete(connection);
  }
}
