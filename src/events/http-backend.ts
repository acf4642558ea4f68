// The HTTP event handler backend, like Janus's janus.eventhandler.sampleevh: events of the
// configured types are queued (bounded: the oldest are dropped with a warning), batched and
// POSTed as JSON (an array per batch when grouping, else one object per POST) over one
// keep-alive connection with node:http/https (fetch took ~2.5x the CPU per POST, in its
// Request and stream objects and their garbage: bench/README.md "Nineteenth session");
// failures are retried with backoff, then the batch is dropped with a warning. It never
// blocks or throws into the server; stop() flushes what is queued.

import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { HttpEventsConfig } from '../config';
import type { Logger } from '../log';
import { type EventBackend, type JanusEvent, eventTypeMask } from './event-bus';

export type { HttpEventsConfig };

export const DEFAULT_MAX_QUEUE = 10_000;
/** First retry delay; doubled per attempt, capped at RETRY_MAX_MS. */
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 5000;

export interface HttpEventBackendOptions {
  config: HttpEventsConfig;
  logger: Logger;
  /** Events kept at most while the collector is slow or down (default 10,000). */
  maxQueue?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class HttpEventBackend implements EventBackend {
  private readonly mask: number;
  private readonly maxQueue: number;
  private readonly config: HttpEventsConfig;
  private readonly log: Logger;
  private readonly target: URL;
  private readonly request: typeof httpRequest;
  /** One connection, kept open between POSTs (they go one at a time). */
  private readonly agent: HttpAgent;
  private queue: JanusEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private pumping: Promise<void> | null = null;
  private stopping = false;
  /** Counters (tests, diagnostics). */
  sent = 0;
  dropped = 0;
  private overflowDrops = 0;

  constructor(options: HttpEventBackendOptions) {
    this.config = options.config;
    this.mask = eventTypeMask(options.config.events);
    this.maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.log = options.logger.child({ component: 'events-http', url: options.config.url });
    this.target = new URL(options.config.url);
    const secure = this.target.protocol === 'https:';
    this.request = secure ? httpsRequest : httpRequest;
    this.agent = new (secure ? HttpsAgent : HttpAgent)({ keepAlive: true, maxSockets: 1 });
  }

  handle(event: JanusEvent): void {
    if (this.stopping || (event.type & this.mask) === 0) return;
    if (this.queue.length >= this.maxQueue) {
      this.queue.shift();
      this.dropped++;
      this.overflowDrops++;
      // The first drop and then one line per 1,000: a dead collector must not flood the log.
      if (this.overflowDrops % 1000 === 1) {
        this.log.warn('event queue full, oldest events dropped', { dropped: this.overflowDrops, maxQueue: this.maxQueue });
      }
    }
    this.queue.push(event);
    if (this.pumping) return;
    if (this.queue.length >= this.batchSize) {
      this.startPump();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.startPump();
      }, this.config.flushMs);
      this.timer.unref();
    }
  }

  private get batchSize(): number {
    return this.config.grouping ? this.config.maxBatch : 1;
  }

  private startPump(): void {
    if (this.pumping || this.queue.length === 0) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.pumping = this.pump()
      .catch((error: unknown) => this.log.error('event delivery loop failed', { error: error as Error }))
      .finally(() => {
        this.pumping = null;
        // Events that arrived meanwhile: send them after flushMs (or at once when a batch is full / stopping).
        if (this.queue.length === 0) return;
        if (this.stopping || this.queue.length >= this.batchSize) this.startPump();
        else if (!this.timer) {
          this.timer = setTimeout(() => {
            this.timer = null;
            this.startPump();
          }, this.config.flushMs);
          this.timer.unref();
        }
      });
  }

  /** Sends batches until the queue is empty (one POST at a time, in order). */
  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize);
      const body = JSON.stringify(this.config.grouping ? batch : batch[0]);
      if (await this.post(body)) {
        this.sent += batch.length;
      } else {
        this.dropped += batch.length;
        this.log.warn('event handler collector unreachable, events dropped', { dropped: batch.length });
      }
    }
  }

  /** One POST with retries (fewer while stopping). True when the collector answered 2xx. */
  private async post(body: string): Promise<boolean> {
    let lastError = '';
    for (let attempt = 0; ; attempt++) {
      try {
        const status = await this.send(body);
        if (status >= 200 && status < 300) return true;
        lastError = `HTTP ${status}`;
      } catch (error) {
        lastError = (error as Error).message;
      }
      const retries = this.stopping ? Math.min(this.config.retries, 1) : this.config.retries;
      if (attempt >= retries) break;
      this.log.debug('event POST failed, retrying', { attempt: attempt + 1, error: lastError });
      await sleep(Math.min(RETRY_BASE_MS * 2 ** attempt, RETRY_MAX_MS));
    }
    this.log.debug('event POST failed', { error: lastError });
    return false;
  }

  /** One POST; resolves with the status once the answer's body is read (the connection is reused). */
  private send(body: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const request = this.request(this.target, {
        method: 'POST',
        agent: this.agent,
        headers: { ...this.config.headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      }, (response) => {
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(deadline);
          resolve(response.statusCode ?? 0);
        });
        response.resume();
      });
      // The whole exchange, as fetch's AbortSignal.timeout bounded it: a collector that accepts
      // and never answers costs timeoutMs, not a hung pump.
      const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${this.config.timeoutMs} ms`)), this.config.timeoutMs);
      deadline.unref();
      function fail(error: Error): void {
        clearTimeout(deadline);
        reject(error);
      }
      request.on('error', fail);
      request.end(body);
    });
  }

  /** Sends what is queued (at most one retry per batch), then stops taking events. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.pumping || this.queue.length > 0) {
      if (!this.pumping) this.startPump();
      await this.pumping;
    }
    this.agent.destroy();
  }

  /** Events waiting to be sent. */
  get queued(): number {
    return this.queue.length;
  }
}
