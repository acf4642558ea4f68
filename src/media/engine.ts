// mediasoup workers and their routers: one router per worker, new transports placed on the
// least loaded router, producers piped to other routers on demand (cached per pair).

import { readFileSync } from 'node:fs';
import * as mediasoup from 'mediasoup';
import type { Router } from 'mediasoup/node/lib/Router';
import type { Worker, WorkerLogLevel } from 'mediasoup/node/lib/Worker';
import type { Producer } from 'mediasoup/node/lib/Producer';
import type { Logger } from '../log';
import { ROUTER_MEDIA_CODECS } from './codecs';

export interface EngineOptions {
  workers: number;
  logLevel: WorkerLogLevel;
  rtcMinPort: number;
  rtcMaxPort: number;
  logger: Logger;
}

interface Slot {
  worker: Worker;
  router: Router;
  /** Transports placed here (what "least loaded" counts). */
  load: number;
}

export class MediaEngine {
  private readonly slots: Slot[] = [];
  /** `${producerId}>${routerId}` → pipe in progress or done. */
  private readonly pipes = new Map<string, Promise<void>>();
  private closed = false;

  private constructor(
    private readonly options: EngineOptions,
    private readonly logger: Logger,
  ) {}

  static async start(options: EngineOptions): Promise<MediaEngine> {
    const engine = new MediaEngine(options, options.logger.child({ component: 'media-engine' }));
    try {
      for (let index = 0; index < options.workers; index++) engine.slots.push(await engine.spawn(index));
    } catch (error) {
      await engine.close();
      throw error;
    }
    engine.logger.info('mediasoup workers started', {
      workers: engine.slots.map((slot) => slot.worker.pid),
      version: mediasoup.version,
    });
    return engine;
  }

  private async spawn(index: number): Promise<Slot> {
    const worker = await mediasoup.createWorker({
      logLevel: this.options.logLevel,
      rtcMinPort: this.options.rtcMinPort,
      rtcMaxPort: this.options.rtcMaxPort,
      appData: { index },
    });
    const router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    const slot: Slot = { worker, router, load: 0 };
    worker.on('died', (error: Error) => {
      if (this.closed) return;
      this.logger.error('mediasoup worker died; its transports are gone, starting a replacement', {
        pid: worker.pid,
        error,
      });
      const position = this.slots.indexOf(slot);
      void this.spawn(index).then(
        (replacement) => {
          if (this.closed) replacement.worker.close();
          else if (position >= 0) this.slots[position] = replacement;
        },
        (spawnError: unknown) => this.logger.error('could not replace mediasoup worker', { error: spawnError }),
      );
    });
    return slot;
  }

  get routers(): Router[] {
    return this.slots.map((slot) => slot.router);
  }

  get workerPids(): number[] {
    return this.slots.map((slot) => slot.worker.pid);
  }

  /** The router for a new transport; call `release` when the transport closes. */
  acquireRouter(): { router: Router; release: () => void } {
    if (this.closed || this.slots.length === 0) throw new Error('media engine is closed');
    let best = this.slots[0]!;
    for (const slot of this.slots) if (slot.load < best.load) best = slot;
    best.load++;
    let released = false;
    const slot = best;
    return {
      router: slot.router,
      release: () => {
        if (!released) {
          released = true;
          slot.load--;
        }
      },
    };
  }

  /** Makes `producer` (living on `from`) consumable on `to`. Idempotent. */
  async ensurePiped(producer: Producer, from: Router, to: Router): Promise<void> {
    if (from === to) return;
    const key = `${producer.id}>${to.id}`;
    let pipe = this.pipes.get(key);
    if (!pipe) {
      pipe = from.pipeToRouter({ producerId: producer.id, router: to }).then(({ pipeProducer }) => {
        pipeProducer?.observer.once('close', () => this.pipes.delete(key));
      });
      pipe.catch(() => this.pipes.delete(key));
      producer.observer.once('close', () => this.pipes.delete(key));
      this.pipes.set(key, pipe);
    }
    await pipe;
  }

  /** Closes the workers and waits (at most `timeoutMs`) until their processes have exited. */
  async close(timeoutMs = 3000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pids = this.workerPids;
    for (const slot of this.slots) slot.worker.close();
    this.slots.length = 0;
    const deadline = Date.now() + timeoutMs;
    while (pids.some(running) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether a process still runs (an exited child waiting to be reaped counts as gone). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
