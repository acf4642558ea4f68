// The thread of one script: a worker_threads Worker running workers/script-worker.js. Each
// task is one protobuf Task posted as bytes, each answer one Reply as bytes (or the text of an
// error the worker entry caught). The worker handles tasks one at a time, in order, so answers
// come back in submission order and several tasks may be in flight (pipelining). A thread that
// dies (out of memory, exit, terminated) fails every task in flight and every later one: the
// channel then starts a new ScriptPool. (A bare Worker rather than a piscina pool of one: per
// task, piscina's bookkeeping and its wrapped messages cost more than the thread hop itself.)

import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SCRIPT_WORKER_DATA, decodeReply, encodeTask, type Reply, type Task } from '../common/bridge';

export interface ScriptPoolOptions {
  /** Worker heap cap; the V8 heap above it kills the thread (ERR_WORKER_OUT_OF_MEMORY). */
  maxHeapMb: number;
  name: string;
}

/** The script thread's young generation (V8 default: 3 x 16 MiB semispaces on 64-bit). */
const YOUNG_GENERATION_MB = 12;

/** dist/src/script/pool.js -> dist/workers/script-worker.js */
export const WORKER_FILE = join(__dirname, '..', '..', 'workers', 'script-worker.js');

interface PendingTask {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

export class ScriptPool {
  private readonly worker: Worker;
  /** Tasks posted and not answered yet, oldest first. */
  private readonly pending: PendingTask[] = [];
  private failure: Error | undefined;
  private closed = false;

  constructor(options: ScriptPoolOptions) {
    this.worker = new Worker(WORKER_FILE, {
      workerData: SCRIPT_WORKER_DATA,
      // 12 MiB young generation: server CPU per message measured the same as with 96 MiB
      // (bench:messages, 2026-12-02: 98-101 vs 96 µs), while the churn plateau of the
      // process tree drops (bench/README.md "Memory").
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    // Only a task in flight keeps the process alive (ref'd in run()).
    this.worker.unref();
    this.worker.on('message', (answer: Uint8Array | string) => this.answered(answer));
    this.worker.on('error', (error: Error) => this.fail(error));
    this.worker.on('exit', (code: number) => this.fail(new Error(`script thread exited (code ${code})`)));
  }

  run(task: Task): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('script pool closed'));
    if (this.failure) return Promise.reject(this.failure);
    const bytes = encodeTask(task);
    return new Promise<Reply>((resolve, reject) => {
      if (this.pending.length === 0) this.worker.ref();
      this.pending.push({ resolve, reject });
      this.worker.postMessage(bytes);
    });
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  /** Terminates the thread at once (hung or replaced worker, shutdown). */
  async destroy(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error('script pool closed'));
    await this.worker.terminate();
  }

  private answered(answer: Uint8Array | string): void {
    const task = this.pending.shift();
    if (this.pending.length === 0) this.worker.unref();
    if (!task) return;
    if (typeof answer === 'string') {
      task.reject(new Error(answer));
      return;
    }
    let reply: Reply;
    try {
      reply = decodeReply(answer);
    } catch (error) {
      task.reject(error as Error);
      return;
    }
    task.resolve(reply);
  }

  /** The thread is gone (or going): every task in flight fails, and so will later ones. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const task of this.pending.splice(0)) task.reject(this.failure);
    this.worker.unref();
  }
}
