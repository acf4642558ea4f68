// What the scenarios share: opening a session (connection, create, attach) with the run's
// target and credentials, and formatting.

import { performance } from 'node:perf_hooks';
import { JanusConnection } from '../lib/janus-client';
import { BenchFailure, JanusReplyError, TransportError, oneLine } from '../lib/errors';
import type { RunContext } from '../lib/run';

export interface OpenSession {
  connection: JanusConnection;
  handleId: number;
}

/**
 * A connection with a session and a handle on the run's plugin. A failure here is a
 * BenchFailure with the reason: nothing listens, the plugin is missing, auth refused.
 */
export async function openSession(context: RunContext, plugin = context.options.plugin): Promise<OpenSession> {
  const { options } = context;
  let connection: JanusConnection | undefined;
  try {
    connection = await JanusConnection.open({ url: options.url, token: options.token, apiSecret: options.apiSecret, timeoutMs: options.timeoutMs });
    await connection.createSession();
    const handleId = await connection.attach(plugin);
    return { connection, handleId };
  } catch (error) {
    await connection?.close();
    if (error instanceof TransportError) throw new BenchFailure(error.message);
    if (error instanceof JanusReplyError) {
      const step = connection?.sessionId ? `attach to ${plugin}` : 'create session';
      throw new BenchFailure(`${step} at ${options.url}: ${error.message}`);
    }
    throw new BenchFailure(`${options.url}: ${oneLine(error)}`);
  }
}

export const fmtMs = (value: number | null): string => (value === null ? '-' : `${value.toFixed(1)} ms`);

/**
 * Watches a handle's unsolicited frames (webrtcup, media, hangup…) from creation on, so one
 * that arrives before anybody waits for it is not missed; records when each first came.
 */
export class HandleWatch {
  private readonly firstAt = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private readonly unsubscribe: () => void;

  constructor(connection: JanusConnection, private readonly handleId: number) {
    this.unsubscribe = connection.onFrame((frame) => {
      if (frame.janus === 'closed' || frame.sender === handleId) {
        const type = String(frame.janus);
        if (!this.firstAt.has(type)) this.firstAt.set(type, performance.now());
        for (const waiter of this.waiters) waiter();
      }
    });
  }

  at(type: string): number | undefined {
    return this.firstAt.get(type);
  }

  /** Resolves with the time `type` first came; rejects on timeout, a hangup or a lost connection. */
  wait(type: string, timeoutMs: number, signal: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const at = this.firstAt.get(type);
        if (at !== undefined) return done(() => resolve(at));
        if (this.firstAt.has('hangup')) return done(() => reject(new TransportError('closed', `hangup before ${type} on handle ${this.handleId}`)));
        if (this.firstAt.has('closed')) return done(() => reject(new TransportError('closed', `connection lost before ${type}`)));
        if (signal.aborted) return done(() => reject(signal.reason));
      };
      const timer = setTimeout(() => done(() => reject(new TransportError('timeout', `no ${type} within ${timeoutMs} ms on handle ${this.handleId}`))), timeoutMs);
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal.removeEventListener('abort', check);
        settle();
      };
      this.waiters.add(check);
      signal.addEventListener('abort', check);
      check();
    });
  }

  close(): void {
    this.unsubscribe();
    this.waiters.clear();
  }
}

/** A rate for people: whole numbers from 100 up, one decimal below. */
export const fmtRate = (value: number | null): string =>
  value === null ? '-' : value.toLocaleString('en-US', { maximumFractionDigits: value >= 100 ? 0 : 1 });
