// mediasoup workers, each with one router and one WebRtcServer: every WebRTC transport of a
// worker shares the WebRtcServer's sockets (one UDP port, and one TCP port with ICE-TCP, per
// address), so sockets do not grow with sessions and firewalls need a handful of ports. New
// transports go to the least loaded worker; producers are piped to other routers on demand
// (cached per pair). A worker that dies is replaced (same ports); the transports it carried
// are gone, which their peers see as `routerclose`.

import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import * as mediasoup from 'mediasoup';
import type { Router } from 'mediasoup/node/lib/Router';
import type { WebRtcServer, WebRtcServerListenInfo } from 'mediasoup/node/lib/WebRtcServer';
import type { Worker, WorkerLogLevel } from 'mediasoup/node/lib/Worker';
import type { Producer } from 'mediasoup/node/lib/Producer';
import type { MediaAddressConfig } from '../config';
import type { Logger } from '../log';
import { ROUTER_MEDIA_CODECS } from './codecs';
import type { MediaSocketAddress } from '../plugin/media-plane';
import { NamedError } from '../common/named-error';
import { once } from '../common/once';
import { assertMediasoupEdits } from './mediasoup-edits';

export interface EngineOptions {
  workers: number;
  logLevel: WorkerLogLevel;
  rtcMinPort: number;
  rtcMaxPort: number;
  /** Resolved media addresses: every worker's WebRtcServer listens on each. */
  addresses: readonly MediaAddressConfig[];
  /** The WebRtcServer port of worker `index`; 0 = a free port in rtcMinPort..rtcMaxPort. */
  portOf: (index: number) => number;
  /** Also listen on TCP (ICE-TCP candidates). */
  iceTcp: boolean;
  logger: Logger;
  /** First delay before retrying a failed replacement (doubles up to 10 s); default 500 ms. */
  respawnDelayMs?: number;
}

/** One socket of a worker's WebRtcServer, as the startup line and the tests report it. */
export interface MediaListenAddress extends MediaSocketAddress {
  worker: number;
}

/** A new transport's place: the router and WebRtcServer of one worker. */
export interface RouterLease {
  router: Router;
  webRtcServer: WebRtcServer;
  /** Call once when the transport closes. */
  release(): void;
}

export interface EngineEvents {
  /** A worker process died; its transports are gone. */
  workerDied: [{ index: number; pid: number; error: Error }];
  /** The replacement of worker `index` is ready. */
  workerReplaced: [{ index: number; pid: number }];
}

/** A WebRtcServer could not bind one of its sockets (port in use, address not local). */
export class MediaListenError extends NamedError {
  constructor(
    readonly protocols: string,
    readonly addresses: string,
    readonly port: number,
    cause: unknown,
  ) {
    const where = port === 0 ? `${addresses} (a free port in the range)` : `${addresses} port ${port}`;
    super(`cannot listen for media (${protocols}) on ${where}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** No worker is running (all died and none has been replaced in time, or the engine closed). */
export class NoMediaWorkerError extends NamedError {
  constructor(reason: string) {
    super(`no mediasoup worker available: ${reason}`);
  }
}

interface Slot {
  index: number;
  worker: Worker;
  router: Router;
  webRtcServer: WebRtcServer;
  listening: MediaListenAddress[];
  /** Transports placed here (what "least loaded" counts). */
  load: number;
}

interface WebRtcServerDump {
  udpSockets?: Array<{ ip: string; port: number }>;
  tcpServers?: Array<{ ip: string; port: number }>;
}

/** How long a new transport waits for a replacement when every worker is down. */
const WAIT_FOR_WORKER_MS = 10_000;
const MAX_RESPAWN_DELAY_MS = 10_000;

export class MediaEngine extends EventEmitter<EngineEvents> {
  private readonly slots: Slot[] = [];
  /** `${producerId}>${routerId}` → pipe in progress or done. */
  private readonly pipes = new Map<string, Promise<void>>();
  private closed = false;

  private constructor(
    private readonly options: EngineOptions,
    private readonly logger: Logger,
  ) {
    super();
  }

  static async start(options: EngineOptions): Promise<MediaEngine> {
    assertMediasoupEdits();
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

  private listenInfos(port: number): WebRtcServerListenInfo[] {
    const protocols: Array<'udp' | 'tcp'> = this.options.iceTcp ? ['udp', 'tcp'] : ['udp'];
    const infos: WebRtcServerListenInfo[] = [];
    for (const protocol of protocols) {
      for (const address of this.options.addresses) {
        const info: WebRtcServerListenInfo = { protocol, ip: address.ip };
        if (address.announcedIp) info.announcedIp = address.announcedIp;
        // No port: mediasoup picks a free one in rtcMinPort..rtcMaxPort.
        if (port !== 0) info.port = port;
        infos.push(info);
      }
    }
    return infos;
  }

  private async spawn(index: number): Promise<Slot> {
    const worker = await mediasoup.createWorker({
      logLevel: this.options.logLevel,
      rtcMinPort: this.options.rtcMinPort,
      rtcMaxPort: this.options.rtcMaxPort,
      appData: { index },
    });
    let slot: Slot;
    try {
      const router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
      const port = this.options.portOf(index);
      let webRtcServer: WebRtcServer;
      try {
        webRtcServer = await worker.createWebRtcServer({ listenInfos: this.listenInfos(port), appData: { index } });
      } catch (error) {
        const protocols = this.options.iceTcp ? 'udp, tcp' : 'udp';
        throw new MediaListenError(protocols, this.options.addresses.map((a) => a.ip).join(', '), port, error);
      }
      slot = { index, worker, router, webRtcServer, listening: await this.listeningOf(index, webRtcServer), load: 0 };
    } catch (error) {
      worker.close();
      throw error;
    }
    worker.on('died', (error: Error) => this.onDied(slot, error));
    return slot;
  }

  /** The sockets a WebRtcServer actually bound (the real port when 0 was asked for). */
  private async listeningOf(index: number, server: WebRtcServer): Promise<MediaListenAddress[]> {
    const dump = (await server.dump()) as WebRtcServerDump;
    const addresses = this.options.addresses;
    const out: MediaListenAddress[] = [];
    const add = (protocol: 'udp' | 'tcp', sockets: Array<{ ip: string; port: number }> | undefined): void => {
      (sockets ?? []).forEach((socket, position) => {
        const entry: MediaListenAddress = { worker: index, protocol, ip: socket.ip, port: socket.port };
        const announcedIp = addresses[position]?.announcedIp;
        if (announcedIp) entry.announcedIp = announcedIp;
        out.push(entry);
      });
    };
    add('udp', dump.udpSockets);
    add('tcp', dump.tcpServers);
    return out;
  }

  private onDied(slot: Slot, error: Error): void {
    if (this.closed) return;
    const position = this.slots.indexOf(slot);
    if (position >= 0) this.slots.splice(position, 1);
    this.logger.error('mediasoup worker died; its PeerConnections are hung up, starting a replacement', {
      worker: slot.index,
      pid: slot.worker.pid,
      transports: slot.load,
      error,
    });
    this.emit('workerDied', { index: slot.index, pid: slot.worker.pid, error });
    void this.replace(slot.index);
  }

  /** Spawns worker `index` again, retrying with backoff until it works or the engine closes. */
  private async replace(index: number): Promise<void> {
    let delay = this.options.respawnDelayMs ?? 500;
    while (!this.closed) {
      try {
        const slot = await this.spawn(index);
        if (this.closed) {
          slot.worker.close();
          return;
        }
        this.slots.push(slot);
        this.slots.sort((a, b) => a.index - b.index);
        this.logger.info('mediasoup worker replaced', { worker: index, pid: slot.worker.pid, listening: slot.listening });
        this.emit('workerReplaced', { index, pid: slot.worker.pid });
        return;
      } catch (error) {
        this.logger.error('could not replace mediasoup worker; retrying', { worker: index, retryInMs: delay, error: error as Error });
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, MAX_RESPAWN_DELAY_MS);
      }
    }
  }

  get routers(): Router[] {
    return this.slots.map((slot) => slot.router);
  }

  /** Workers configured, and workers running now (a dead one is missing until its replacement runs). */
  workerHealth(): { expected: number; running: number } {
    return { expected: this.options.workers, running: this.slots.length };
  }

  get workerPids(): number[] {
    return this.slots.map((slot) => slot.worker.pid);
  }

  /** Every socket of every worker's WebRtcServer. */
  get listening(): MediaListenAddress[] {
    return this.slots.flatMap((slot) => slot.listening);
  }

  get iceTcp(): boolean {
    return this.options.iceTcp;
  }

  /**
   * The least loaded worker for a new transport. When every worker is down it waits (at
   * most 10 s) for a replacement.
   */
  async acquire(): Promise<RouterLease> {
    if (this.slots.length === 0) await this.waitForWorker();
    let best = this.slots[0]!;
    for (const slot of this.slots) if (slot.load < best.load) best = slot;
    best.load++;
    const slot = best;
    return {
      router: slot.router,
      webRtcServer: slot.webRtcServer,
      release: once(() => {
        slot.load--;
      }),
    };
  }

  private async waitForWorker(): Promise<void> {
    if (this.closed) throw new NoMediaWorkerError('the media engine is closed');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('workerReplaced', ready);
        reject(new NoMediaWorkerError(`none was replaced within ${WAIT_FOR_WORKER_MS / 1000} s`));
      }, WAIT_FOR_WORKER_MS);
      const ready = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('workerReplaced', ready);
    });
    if (this.closed || this.slots.length === 0) throw new NoMediaWorkerError('the media engine is closed');
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
