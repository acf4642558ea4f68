// What operations tooling learns from the mediasoup media plane: whether every worker runs,
// worker deaths, and RTP totals sampled from mediasoup's stats (getStats on the producers and
// consumers of client-facing WebRTC transports, when asked: never per packet). Pipe and plain
// transports (router-to-router pipes, recordings) are not counted.

import { EventEmitter } from 'node:events';
import type { Consumer, ConsumerStat } from 'mediasoup/node/lib/Consumer';
import type { Producer, ProducerStat } from 'mediasoup/node/lib/Producer';
import type { Router } from 'mediasoup/node/lib/Router';
import type { Transport } from 'mediasoup/node/lib/Transport';
import { WebRtcTransport } from 'mediasoup/node/lib/WebRtcTransport';
import type { Readiness } from '../plugin/monitor';
import type { MediaEngine } from './engine';
import type { MediaMonitor, MediaMonitorEvents, RtpTotals } from '../plugin/media-plane';

/** A sample that takes longer than this returns the totals so far (a stuck worker must not stall a scrape). */
const SAMPLE_TIMEOUT_MS = 2000;

interface StreamCounters {
  packets: number;
  bytes: number;
  lost: number;
}

type Stream = { kind: 'in'; source: Producer } | { kind: 'out'; source: Consumer };

function zeroRtpTotals(): RtpTotals {
  return { packetsIn: 0, bytesIn: 0, packetsLostIn: 0, packetsOut: 0, bytesOut: 0, packetsLostOut: 0 };
}

export class MediasoupMonitor implements MediaMonitor {
  readonly events = new EventEmitter<MediaMonitorEvents>();
  /** Live streams and the counters last seen per RTP stream (by stat type and SSRC). */
  private readonly streams = new Map<Stream, Map<string, StreamCounters>>();
  private readonly totals = zeroRtpTotals();
  private sampling: Promise<RtpTotals> | null = null;
  private readonly watched = new WeakSet<Router>();

  constructor(private readonly engine: MediaEngine) {
    this.watchNewRouters();
    // Synchronous with the replacement joining the engine: no transport is placed on it before.
    engine.on('workerReplaced', () => this.watchNewRouters());
    engine.on('workerDied', ({ pid }) => this.events.emit('workerRestart', pid));
  }

  private watchNewRouters(): void {
    for (const router of this.engine.routers) {
      if (this.watched.has(router)) continue;
      this.watched.add(router);
      this.watch(router);
    }
  }

  readiness(): Readiness {
    const { expected, running } = this.engine.workerHealth();
    if (running < expected) return { ready: false, reason: `mediasoup workers: ${running} of ${expected} running` };
    return { ready: true };
  }

  private watch(router: Router): void {
    router.observer.on('newtransport', (transport: Transport) => {
      if (!(transport instanceof WebRtcTransport)) return;
      transport.observer.on('newproducer', (producer: Producer) => this.track({ kind: 'in', source: producer }));
      transport.observer.on('newconsumer', (consumer: Consumer) => this.track({ kind: 'out', source: consumer }));
    });
  }

  private track(stream: Stream): void {
    this.streams.set(stream, new Map());
    const forget = (): void => {
      this.streams.delete(stream);
    };
    if (stream.kind === 'in') stream.source.observer.once('close', forget);
    else stream.source.observer.once('close', forget);
  }

  /** Totals since start; concurrent callers share one sample. */
  sampleRtp(): Promise<RtpTotals> {
    if (!this.sampling) {
      this.sampling = this.sample().finally(() => {
        this.sampling = null;
      });
    }
    return this.sampling;
  }

  private async sample(): Promise<RtpTotals> {
    const work = Promise.all([...this.streams].map(([stream, seen]) => this.sampleStream(stream, seen)));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SAMPLE_TIMEOUT_MS);
    });
    await Promise.race([work, timeout]);
    clearTimeout(timer);
    return { ...this.totals };
  }

  private async sampleStream(stream: Stream, seen: Map<string, StreamCounters>): Promise<void> {
    let stats: Array<ProducerStat | ConsumerStat>;
    try {
      stats = await stream.source.getStats();
    } catch {
      return; // closed meanwhile, or its worker died
    }
    // A consumer's stats also hold its producer's inbound stream: count only its own.
    const wanted = stream.kind === 'in' ? 'inbound-rtp' : 'outbound-rtp';
    for (const stat of stats) {
      if (stat.type !== wanted) continue;
      const key = `${stat.ssrc}`;
      const before = seen.get(key) ?? { packets: 0, bytes: 0, lost: 0 };
      const now = { packets: stat.packetCount, bytes: stat.byteCount, lost: stat.packetsLost };
      seen.set(key, now);
      // Counters only grow; a smaller value means a reset stream (or a corrected loss count).
      const grew = (a: number, b: number): number => (b >= a ? b - a : 0);
      if (stream.kind === 'in') {
        this.totals.packetsIn += grew(before.packets, now.packets);
        this.totals.bytesIn += grew(before.bytes, now.bytes);
        this.totals.packetsLostIn += grew(before.lost, now.lost);
      } else {
        this.totals.packetsOut += grew(before.packets, now.packets);
        this.totals.bytesOut += grew(before.bytes, now.bytes);
        this.totals.packetsLostOut += grew(before.lost, now.lost);
      }
    }
  }
}
