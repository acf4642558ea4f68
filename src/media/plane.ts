// The mediasoup media plane: what the Janus core gets (MediaPlane). It wires a Peer per
// handle into the relay, which is also the MediaRouter plugins drive.

import type { MediaConfig } from '../config';
import { mediaWorkerCount } from '../config';
import type { Logger } from '../log';
import type { DataMessage } from '../plugin/plugin';
import { MediaEngine } from './engine';
import type { MediaPlane, Peer, PeerEvents } from './media-plane';
import { MediasoupPeer } from './peer';
import { MediaRelay } from './relay';

export class MediasoupMediaPlane implements MediaPlane {
  readonly router: MediaRelay;

  private constructor(
    readonly engine: MediaEngine,
    private readonly config: MediaConfig,
    private readonly logger: Logger,
  ) {
    this.router = new MediaRelay(engine, logger, config.recordingsFolder, config.recordingRoots);
  }

  static async start(config: MediaConfig, logger: Logger): Promise<MediasoupMediaPlane> {
    const engine = await MediaEngine.start({
      workers: mediaWorkerCount(config),
      logLevel: config.workerLogLevel,
      rtcMinPort: config.rtcMinPort,
      rtcMaxPort: config.rtcMaxPort,
      logger,
    });
    return new MediasoupMediaPlane(engine, config, logger);
  }

  createPeer(handle: { id: number; sessionId: number }, events: PeerEvents): Peer {
    const relay = this.router;
    // Data is recorded before any plugin hook sees it (janus-contract §3.2).
    const wrapped: PeerEvents = {
      ...events,
      data: (message) => {
        relay.recordIncomingData(handle.id, message);
        events.data(message);
      },
    };
    const peer = new MediasoupPeer(handle.id, wrapped, {
      engine: this.engine,
      listenIp: this.config.listenIp,
      announcedIp: this.config.announcedIp,
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
    await this.engine.close();
  }
}
