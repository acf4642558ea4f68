// One piscina pool of ONE thread per script. `atomics: 'disabled'` because piscina's default
// Atomics.wait freezes an idle worker's event loop; `idleTimeout: Infinity` so the thread
// (and the script state in it) is never reaped. piscina owns the thread (start, resource
// limits, termination, replacement); the tasks themselves go over a MessagePort handed to the
// thread in one piscina task at start: each Task posted as its protobuf bytes, each answer a
// Reply as bytes (or the text of an error the worker entry caught), in order, since the worker
// runs tasks one at a time. piscina's own task messages are objects cloned field by field
// around its per-task bookkeeping, which cost more than the hop itself. When the thread dies
// (heap cap, exit, terminate, replaced by piscina), the port closes: every task in flight and
// every later one fails, and the channel loads the script again in a new pool.

import { join } from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { decodeReply, encodeTask, type Reply, type Task, type TaskPort } from '../common/bridge';

export interface ScriptPoolOptions {
  /** Worker heap cap; the V8 heap above it kills the thread (ERR_WORKER_OUT_OF_MEMORY). */
  maxHeapMb: number;
  name: string;
}

/** The script thread's young generation (3 semispaces' worth; V8's default on 64-bit). */
const YOUNG_GENERATION_MB = 48;

/** dist/src/script/pool.js -> dist/workers/script-worker.js */
export const WORKER_FILE = join(__dirname, '..', '..', 'workers', 'script-worker.js');

interface PendingTask {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

export class ScriptPool {
  private readonly piscina: Piscina<TaskPort, null>;
  /** Our end of the task port; the thread holds the other. */
  private readonly port: MessagePort;
  /** Tasks posted and not answered yet, oldest first. */
  private readonly pending: PendingTask[] = [];
  private failure: Error | undefined;
  private closed = false;

  constructor(options: ScriptPoolOptions) {
    this.piscina = new Piscina<TaskPort, null>({
      filename: WORKER_FILE,
      name: 'default',
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Infinity,
      atomics: 'disabled',
      // Never refuse a task: a refusal would look like a dead worker and restart the script.
      maxQueue: Infinity,
      // 48 MiB young generation (16 MiB semispaces, V8's default): ten offers at once caught a
      // 1-5 ms scavenge of Fengari's garbage with 12 MiB; 48 answered them in 0.66x the time
      // with the same churn plateau (bench/README.md "Eighteenth session").
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    // A dying thread also surfaces as the port closing; this keeps the emitter from throwing.
    this.piscina.on('error', () => undefined);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    // Only a task in flight keeps the process alive (ref'd in run()).
    this.port.unref();
    this.port.on('message', (answer: Uint8Array | string) => this.answered(answer));
    // piscina's 'error' (ERR_WORKER_OUT_OF_MEMORY, ...) comes after the port closes, if at all.
    this.port.on('close', () => this.fail(new Error('script thread ended (heap cap, exit or terminate)')));
    // Tasks posted before the thread takes the port wait in it, in order.
    this.piscina.run({ taskPort: port2 }, { transferList: [port2] }).catch((error: unknown) => {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    });
  }

  run(task: Task): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('script pool closed'));
    if (this.failure) return Promise.reject(this.failure);
    const bytes = encodeTask(task);
    return new Promise<Reply>((resolve, reject) => {
      if (this.pending.length === 0) this.port.ref();
      this.pending.push({ resolve, reject });
      // encodeTask's bytes fill their own ArrayBuffer: moved, not copied.
      this.port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
    });
  }

  get threadIds(): number[] {
    return this.piscina.threads.map((t) => t.threadId);
  }

  /** Terminates the thread at once (hung or replaced worker, shutdown). */
  async destroy(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error('script pool closed'));
    this.port.close();
    await this.piscina.destroy();
  }

  private answered(answer: Uint8Array | string): void {
    const task = this.pending.shift();
    if (this.pending.length === 0) this.port.unref();
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
    this.port.unref();
  }
}
