// A Janus session: its handles, the transport connection it is bound to (events go there),
// and its activity clock for the timeout watchdog.

import type { Logger } from '../log';
import type { JsonObject } from '../plugin/json';
import type { TransportConnection } from './connection';
import type { Handle } from './handle';
import { monotonicMicros, monotonicMs } from './serial-queue';

export class Session {
  readonly handles = new Map<number, Handle>();
  readonly createdMicros = monotonicMicros();
  /** Monotonic ms of the last request addressed to this session. */
  lastActivity = monotonicMs();
  /** Per-session timeout in seconds (Admin set_session_timeout); -1 = the global value. */
  timeout = -1;
  destroyed = false;
  /**
   * Created or claimed over a connection-less transport (HTTP): anyone with the id may drive
   * it. Otherwise only `connection` may (others must `claim` it first).
   */
  bearer = false;
  /** Monotonic ms when the bound connection closed (reclaim pending), else null. */
  transportGoneAt: number | null = null;

  constructor(
    readonly id: number,
    public connection: TransportConnection | null,
    private readonly logger: Logger,
  ) {}

  touch(): void {
    this.lastActivity = monotonicMs();
  }

  /** Send an event to the bound connection; dropped once destroyed or while unbound. */
  sendEvent(message: JsonObject): void {
    if (this.destroyed || !this.connection) return;
    try {
      this.connection.send(message);
    } catch (error) {
      this.logger.warn('event delivery failed', { session: this.id, error: error as Error });
    }
  }
}
