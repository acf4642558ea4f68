// One piscina pool of ONE thread per script. `atomics: 'disabled'` because piscina's default
// Atomics.wait freezes an idle worker's event loop; `idleTimeout: Infinity` so the thread
// (and the script state in it) is never reaped. Several tasks may be in flight: the worker
// handles them one at a time, in order, so results come back in submission order.

import { join } from 'node:path';
import { Piscina } from 'piscina';
import { decodeReply, encodeTask, type Reply, type Task } from './bridge';

export interface ScriptPoolOptions {
  /** Worker heap cap; the V8 heap above it kills the thread (ERR_WORKER_OUT_OF_MEMORY). */
  maxHeapMb: number;
  name: string;
  /** Tasks posted to the thread before the previous ones finished (pipelining). */
  inFlight?: number;
}

/** dist/src/script/pool.js -> dist/workers/script-worker.js */
export const WORKER_FILE = join(__dirname, '..', '..', 'workers', 'script-worker.js');

export class ScriptPool {
  private readonly piscina: Piscina<Uint8Array, Uint8Array>;
  private closed = false;

  constructor(options: ScriptPoolOptions) {
    this.piscina = new Piscina<Uint8Array, Uint8Array>({
      filename: WORKER_FILE,
      name: 'default',
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Infinity,
      atomics: 'disabled',
      concurrentTasksPerWorker: options.inFlight ?? 32,
      // Never refuse a task: a refusal would look like a dead worker and restart the script.
      maxQueue: Infinity,
      // A large young generation: Fengari allocates a TValue per stack slot, so scavenges
      // dominate with V8's default 16 MiB semispaces (measured: 3x the cost per message).
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb, maxYoungGenerationSizeMb: 96 },
    });
    // A dying thread also surfaces as task rejections; this keeps the emitter from throwing.
    this.piscina.on('error', () => undefined);
  }

  async run(task: Task): Promise<Reply> {
    if (this.closed) throw new Error('script pool closed');
    const bytes = await this.piscina.run(encodeTask(task));
    return decodeReply(bytes);
  }

  get threadIds(): number[] {
    return this.piscina.threads.map((t) => t.threadId);
  }

  /** Terminates the thread at once (hung or replaced worker, shutdown). */
  async destroy(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina.destroy();
  }
}
