// HTTP long-poll event queues (docs/contract.md §5.3). The HTTP transport is one
// TransportConnection for the core: events are queued per session (only for sessions created
// or claimed over HTTP) and handed to GET polls, up to `maxev` at a time, in order.

import type { Logger } from '../log';
import type { JsonObject, JsonValue } from '../plugin/json';
import type { TransportConnection } from '../janus/connection';

/** A waiting GET: answered once with events, or a keepalive after the hold time. */
export interface PendingPoll {
  maxEvents: number;
  respond(payload: JsonValue): void;
}

interface WaitingPoll {
  poll: PendingPoll;
  timer: NodeJS.Timeout;
}

class SessionQueue {
  readonly events: JsonObject[] = [];
  readonly polls: WaitingPoll[] = [];
  closed = false;
  flushScheduled = false;
}

export interface LongPollOptions {
  /** How long a poll is held before `{"janus":"keepalive"}` (Janus: 30 s). */
  holdMs: number;
  /** Polls one session may hold open; the oldest is answered early beyond that. */
  maxPolls: number;
  /** Events kept for a session nobody polls; the oldest are dropped beyond that. */
  maxQueuedEvents: number;
  /** How long an ended session's leftover events stay readable. */
  graceMs: number;
  logger: Logger;
}

/** Payload for a poll: one event object with maxev<=1, else an array of up to maxev. */
export function pollPayload(events: readonly JsonObject[], maxEvents: number): JsonValue {
  return maxEvents <= 1 ? events[0] : [...events];
}

export function keepalivePayload(maxEvents: number): JsonValue {
  return maxEvents <= 1 ? { janus: 'keepalive' } : [{ janus: 'keepalive' }];
}

export class HttpEventRouter implements TransportConnection {
  readonly id = 'http';
  /** HTTP clients have no connection identity: the session id is the credential. */
  readonly bearer = true;
  private readonly queues = new Map<number, SessionQueue>();

  constructor(
    readonly transport: string,
    private readonly options: LongPollOptions,
  ) {}

  hasQueue(sessionId: number): boolean {
    const queue = this.queues.get(sessionId);
    return queue !== undefined && (!queue.closed || queue.events.length > 0);
  }

  sessionCreated(sessionId: number): void {
    const existing = this.queues.get(sessionId);
    if (existing && !existing.closed) return;
    this.queues.set(sessionId, new SessionQueue());
  }

  sessionOver(sessionId: number, reason: 'destroyed' | 'timeout' | 'claimed'): void {
    const queue = this.queues.get(sessionId);
    if (!queue) return;
    this.flush(sessionId, queue);
    queue.closed = true;
    // Polls still waiting get nothing more: answer them now.
    for (const waiting of queue.polls.splice(0)) {
      clearTimeout(waiting.timer);
      waiting.poll.respond(keepalivePayload(waiting.poll.maxEvents));
    }
    if (queue.events.length === 0 || reason === 'claimed') {
      this.queues.delete(sessionId);
      return;
    }
    // Leftover events (e.g. `timeout`) stay readable by one last poll for a short while.
    const timer = setTimeout(() => {
      if (this.queues.get(sessionId) === queue) this.queues.delete(sessionId);
    }, this.options.graceMs);
    timer.unref();
  }

  /** Core events for HTTP-bound sessions. */
  send(message: JsonObject): void {
    const sessionId = typeof message.session_id === 'number' ? message.session_id : 0;
    const queue = this.queues.get(sessionId);
    if (!queue || queue.closed) {
      this.options.logger.debug('event for a session without an HTTP queue dropped', { session: sessionId });
      return;
    }
    if (queue.events.length >= this.options.maxQueuedEvents) {
      queue.events.shift();
      this.options.logger.warn('HTTP event queue full; oldest event dropped', { session: sessionId });
    }
    queue.events.push(message);
    // Gather events pushed in the same tick into one poll response.
    if (queue.polls.length > 0 && !queue.flushScheduled) {
      queue.flushScheduled = true;
      setImmediate(() => {
        queue.flushScheduled = false;
        this.flush(sessionId, queue);
      });
    }
  }

  private flush(sessionId: number, queue: SessionQueue): void {
    while (queue.polls.length > 0 && queue.events.length > 0) {
      const waiting = queue.polls.shift() as WaitingPoll;
      clearTimeout(waiting.timer);
      const events = queue.events.splice(0, Math.max(1, waiting.poll.maxEvents));
      waiting.poll.respond(pollPayload(events, waiting.poll.maxEvents));
    }
    if (queue.closed && queue.events.length === 0 && this.queues.get(sessionId) === queue) this.queues.delete(sessionId);
  }

  /**
   * A GET for this session. Returns false when there is no queue (404). The poll is
   * answered at once when events are waiting; otherwise it is held. `cancel` forgets it
   * (the client went away).
   */
  poll(sessionId: number, poll: PendingPoll): { accepted: boolean; cancel: () => void } {
    const queue = this.queues.get(sessionId);
    if (!queue || (queue.closed && queue.events.length === 0)) return { accepted: false, cancel: () => undefined };
    if (queue.events.length > 0) {
      const events = queue.events.splice(0, Math.max(1, poll.maxEvents));
      poll.respond(pollPayload(events, poll.maxEvents));
      if (queue.closed && queue.events.length === 0) this.queues.delete(sessionId);
      return { accepted: true, cancel: () => undefined };
    }
    if (queue.polls.length >= this.options.maxPolls) {
      const oldest = queue.polls.shift() as WaitingPoll;
      clearTimeout(oldest.timer);
      this.options.logger.info('too many pending long polls; answering the oldest', { session: sessionId });
      oldest.poll.respond(keepalivePayload(oldest.poll.maxEvents));
    }
    const waiting: WaitingPoll = {
      poll,
      timer: setTimeout(() => {
        const index = queue.polls.indexOf(waiting);
        if (index >= 0) queue.polls.splice(index, 1);
        poll.respond(keepalivePayload(poll.maxEvents));
      }, this.options.holdMs),
    };
    queue.polls.push(waiting);
    return {
      accepted: true,
      cancel: () => {
        clearTimeout(waiting.timer);
        const index = queue.polls.indexOf(waiting);
        if (index >= 0) queue.polls.splice(index, 1);
      },
    };
  }

  /** Answers every waiting poll and forgets all queues (shutdown). */
  close(): void {
    for (const queue of this.queues.values()) {
      for (const waiting of queue.polls.splice(0)) {
        clearTimeout(waiting.timer);
        waiting.poll.respond(keepalivePayload(waiting.poll.maxEvents));
      }
    }
    this.queues.clear();
  }
}
