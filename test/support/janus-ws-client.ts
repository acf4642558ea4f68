// A raw Janus WebSocket client for tests (package `ws`): sends JSON, keeps every frame it
// receives, and waits (bounded) for replies by transaction or for events by predicate.

import WebSocket from 'ws';
import type { JsonObject } from '../../src/plugin/json';

let transactionCounter = 0;

export function newTransaction(): string {
  transactionCounter++;
  return `t${transactionCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

export class JanusWsClient {
  /** Every parsed frame received, in order. */
  readonly received: JsonObject[] = [];
  private readonly taken = new Set<JsonObject>();
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.received.push(JSON.parse(data.toString()) as JsonObject);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.wake();
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  /** `protocol` null: offer no subprotocol at all. */
  static connect(url: string, protocol: string | string[] | null = 'janus-protocol'): Promise<JanusWsClient> {
    return new Promise((resolve, reject) => {
      const socket = protocol === null ? new WebSocket(url) : new WebSocket(url, protocol);
      socket.once('open', () => resolve(new JanusWsClient(socket)));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  sendRaw(data: string | Buffer): void {
    this.socket.send(data);
  }

  send(message: JsonObject): void {
    this.socket.send(JSON.stringify(message));
  }

  /** Next not-yet-taken frame matching `predicate`, waiting up to `timeoutMs`. */
  async next(predicate: (message: JsonObject) => boolean, timeoutMs = 3000): Promise<JsonObject> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((message) => !this.taken.has(message) && predicate(message));
      if (found) {
        this.taken.add(found);
        return found;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for a frame; received: ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** Sends a request (a transaction is added when missing) and waits for its first reply. */
  async request(message: JsonObject, timeoutMs = 3000): Promise<JsonObject> {
    const transaction = typeof message.transaction === 'string' ? message.transaction : newTransaction();
    this.send({ ...message, transaction });
    return this.next((reply) => reply.transaction === transaction && reply.janus !== 'event', timeoutMs);
  }

  /** Frames not yet taken by next()/request(). */
  untaken(): JsonObject[] {
    return this.received.filter((message) => !this.taken.has(message));
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close();
    await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
  }
}

/** create + attach over one client; returns the ids. */
export async function createAndAttach(
  client: JanusWsClient,
  plugin: string,
  extra: JsonObject = {},
): Promise<{ sessionId: number; handleId: number }> {
  const created = await client.request({ janus: 'create' });
  const sessionId = (created.data as JsonObject).id as number;
  const attached = await client.request({ janus: 'attach', session_id: sessionId, plugin, ...extra });
  const handleId = (attached.data as JsonObject).id as number;
  return { sessionId, handleId };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
