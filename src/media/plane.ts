// The mediasoup media plane: what the Janus core gets (MediaPlane). It wires a Peer per
// handle into the relay, which is also the MediaRouter plugins drive.

import type { MediaConfig } from '../config';
import { mediaWorkerCount, mediaWorkerPort } from '../config';
import type { Logger } from '../log';
import type { DataMessage } from '../plugin/plugin';
import { resolveMediaAddresses } from './addresses';
import { MediaEngine, type MediaListenAddress } from './engine';
import type { MediaPlane, Peer, PeerEvents } from '../plugin/media-plane';
import { MediasoupMonitor } from './monitor';
import { MediasoupPeer } from './peer';
import { MediaRelay } from './relay';
import { SdpWarmUp } from './sdp/warm-up';

export class MediasoupMediaPlane implements MediaPlane {
  readonly router: MediaRelay;
  readonly monitor: MediasoupMonitor;
  private readonly warmUp = new SdpWarmUp();

  private constructor(
    readonly engine: MediaEngine,
    config: MediaConfig,
    private readonly logger: Logger,
  ) {
    this.router = new MediaRelay(engine, logger, config.recordingsFolder, config.recordingRoots, config.recordingsTmpExt);
    this.monitor = new MediasoupMonitor(engine);
    // The first offers after a start would otherwise run the SDP path cold (src/media/sdp/warm-up.ts).
    this.warmUp.start((done) => {
      if (done.failure !== undefined) logger.warn('the SDP warm-up stopped', { error: done.failure });
      else logger.debug('the SDP warm-up is done', { passes: done.done });
    });
  }

  /** Starts the workers. Throws ConfigError (ports vs workers) or MediaListenError (a port in use). */
  static async start(config: MediaConfig, logger: Logger): Promise<MediasoupMediaPlane> {
    const workers = mediaWorkerCount(config);
    // Checked for every worker now, not when a crashed one is replaced.
    for (let index = 0; index < workers; index++) mediaWorkerPort(config, index);
    const { addresses, warning } = resolveMediaAddresses(config.listenIps);
    if (warning) logger.warn(warning);
    const engine = await MediaEngine.start({
      workers,
      logLevel: config.workerLogLevel,
      rtcMinPort: config.rtcMinPort,
      rtcMaxPort: config.rtcMaxPort,
      addresses,
      portOf: (index) => mediaWorkerPort(config, index),
      iceTcp: config.iceTcp,
      logger,
    });
    return new MediasoupMediaPlane(engine, config, logger);
  }

  /** Every media socket (per worker, protocol and address) with its real port. */
  addresses(): MediaListenAddress[] {
    return this.engine.listening;
  }

  get iceTcp(): boolean {
    return this.engine.iceTcp;
  }

  createPeer(handle: { id: number; sessionId: number }, events: PeerEvents): Peer {
    const relay = this.router;
    // Data is recorded before any plugin hook sees it (docs/contract.md §3.2).
    const wrapped: PeerEvents = {
      ...events,
      data: (message) => {
        relay.recordIncomingData(handle.id, message);
        events.data(message);
      },
    };
    const peer = new MediasoupPeer(handle.id, wrapped, {
      engine: this.engine,
      logger: this.logger,
      onClose: () => relay.unregister(handle.id),
      routing: () => relay.describe(handle.id),
    });
    relay.register(peer);
    return peer;
  }

  relayIncomingData(handleId: number, message: DataMessage): void {
    this.router.relayIncomingData(handleId, message);
  }

  async close(): Promise<void> {
    this.warmUp.stop();
    await this.engine.close();
  }
}
