// One piscina pool of ONE thread per script. `atomics: 'disabled'` because piscina's default
// Atomics.wait freezes an idle worker's event loop; `idleTimeout: Infinity` so the thread
// (and the script state in it) is never reaped. Several tasks may be in flight: the worker
// handles them one at a time, in order, so results come back in submission order.

import { join } from 'node:path';
import { Piscina } from 'piscina';
import { decodeReply, encodeTask, type Reply, type Task } from '../common/bridge';

export interface ScriptPoolOptions {
  /** Worker heap cap; the V8 heap above it kills the thread (ERR_WORKER_OUT_OF_MEMORY). */
  maxHeapMb: number;
  name: string;
  /** Tasks posted to the thread before the previous ones finished (pipelining). */
  inFlight?: number;
}

/** The script thread's young generation (V8 default: 3 x 16 MiB semispaces on 64-bit). */
const YOUNG_GENERATION_MB = 12;

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
      // 12 MiB young generation: server CPU per message measured the same as with 96 MiB
      // (bench:messages, 2026-12-02: 98-101 vs 96 µs), while the churn plateau of the
      // process tree drops (bench/README.md "Memory").
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
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
