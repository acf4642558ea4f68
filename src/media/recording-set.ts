// One handle's recorders (docs/contract.md §1 startRecording/stopRecording, §3.3): an .mjr
// Recorder per medium, fed for audio/video by a Consumer of the handle's Producer on a
// DirectTransport (RTP reaches Node), for data by the relay. Recorders survive hangups and
// pick up the new Producers after a renegotiation.

import type { Consumer } from 'mediasoup/node/lib/Consumer';
import type { Router } from 'mediasoup/node/lib/Router';
import type { MediaKind } from 'mediasoup/node/lib/RtpParameters';
import type { Logger } from '../log';
import type { MediumKind, RecordingRequest } from '../plugin/media';
import type { DataMessage } from '../plugin/plugin';
import type { DirectTransports } from './direct-transports';
import type { MediaEngine } from './engine';
import type { MediasoupPeer } from './peer';
import { Recorder, openRecorders } from './recording/writer';
import type { RecordingRoots } from '../common/recording-roots';

export interface RecordingSetOptions {
  engine: MediaEngine;
  logger: Logger;
  /** Where files may go; names without a folder go to the default root. */
  roots: RecordingRoots;
  /** Extra extension of a file while it is open (media.recordingsTmpExt); renamed away on close. */
  tempExtension?: string;
  /** The user's DirectTransports (the recorders' Consumers go on the one of the Producer's router). */
  directs: DirectTransports;
}

interface Tap {
  producerId: string;
  consumer: Consumer;
}

export class RecordingSet {
  private readonly recorders = new Map<MediumKind, Recorder>();
  private readonly taps = new Map<MediaKind, Tap>();
  private readonly paused: Record<MediaKind, boolean> = { audio: false, video: false };

  constructor(private readonly options: RecordingSetOptions) {}

  /** Opens recorders for media not already recorded; false if none could be opened. */
  start(requests: readonly RecordingRequest[], paused: Record<MediaKind, boolean>): boolean {
    const fresh = requests.filter((r) => {
      if (!this.recorders.has(r.type)) return true;
      this.options.logger.warn('already recording this medium, skipped', { type: r.type });
      return false;
    });
    if (fresh.length === 0) return false;
    let opened: Map<MediumKind, Recorder>;
    try {
      // Relative names (and a request naming no folder) resolve against the default root.
      opened = openRecorders(fresh, {
        logger: this.options.logger,
        roots: this.options.roots,
        tempExtension: this.options.tempExtension,
      });
    } catch (error) {
      this.options.logger.warn('cannot start recording', { error: error as Error });
      return false;
    }
    for (const [type, recorder] of opened) this.recorders.set(type, recorder);
    this.paused.audio = paused.audio;
    this.paused.video = paused.video;
    return opened.size > 0;
  }

  stop(types: readonly MediumKind[]): void {
    for (const type of types) {
      const recorder = this.recorders.get(type);
      if (!recorder) continue;
      this.recorders.delete(type);
      void recorder.close();
      if (type !== 'data') {
        this.taps.get(type)?.consumer.close();
        this.taps.delete(type);
      }
    }
  }

  setPaused(kind: MediaKind, paused: boolean): void {
    this.paused[kind] = paused;
  }

  saveData(message: DataMessage): void {
    this.recorders.get('data')?.saveData(message.payload);
  }

  /** Feeds each audio/video recorder from the peer's current Producer of that kind. */
  attachProducers(peer: MediasoupPeer): void {
    for (const kind of ['audio', 'video'] as const) {
      const recorder = this.recorders.get(kind);
      const producer = peer.producer(kind);
      const router = peer.mediaRouter;
      const tap = this.taps.get(kind);
      if (!recorder || !producer || !router || tap?.producerId === producer.id) continue;
      tap?.consumer.close();
      this.taps.delete(kind);
      void this.tap(kind, producer.id, router, recorder).catch((error: unknown) =>
        this.options.logger.warn('cannot feed the recorder', { kind, error }),
      );
    }
  }

  async close(): Promise<void> {
    for (const tap of this.taps.values()) tap.consumer.close();
    this.taps.clear();
    await Promise.all([...this.recorders.values()].map((r) => r.close()));
    this.recorders.clear();
  }

  private async tap(kind: MediaKind, producerId: string, router: Router, recorder: Recorder): Promise<void> {
    const direct = await this.options.directs.get(router);
    if (this.recorders.get(kind) !== recorder) return;
    const consumer = await direct.consume({ producerId, rtpCapabilities: router.rtpCapabilities });
    if (this.recorders.get(kind) !== recorder) {
      consumer.close();
      return;
    }
    consumer.on('rtp', (packet: Buffer) => {
      if (!this.paused[kind]) recorder.saveRtp(packet);
    });
    this.taps.set(kind, { producerId, consumer });
    if (kind === 'video') void consumer.requestKeyFrame().catch(() => undefined);
  }
}
