// One WebRtcServer per mediasoup worker: every PeerConnection of a worker shares its sockets,
// so the worker's socket count stays the same from 1 to 50 PeerConnections; ICE-TCP sockets
// and candidates exist only when enabled, and server_info's ice-tcp says which.

import { expect } from 'chai';
import { createSocket } from 'node:dgram';
import { defaultConfig, type MediaConfig } from '../src/config';
import { silentLogger } from '../src/log';
import type { Peer, PeerEvents } from '../src/plugin/media-plane';
import type { MediasoupPeer } from '../src/media/peer';
import { MediasoupMediaPlane } from '../src/media/plane';
import { readSdpFixture } from './fixtures/sdp/fixtures';
import { countSockets } from './support/proc-sockets';
import { startTestServer } from './support/test-server';

const QUIET: PeerEvents = {
  connected: () => undefined,
  failed: () => undefined,
  media: () => undefined,
  slowLink: () => undefined,
  data: () => undefined,
  dataReady: () => undefined,
  substreamChanged: () => undefined,
  temporalLayerChanged: () => undefined,
};

function mediaConfig(overrides: Partial<MediaConfig>): MediaConfig {
  return { ...defaultConfig().media, workers: 1, listenIps: [{ ip: '127.0.0.1' }], ...overrides };
}

/** Opens `count` PeerConnections (a client offer each, which creates the transport). */
async function openPeers(media: MediasoupMediaPlane, count: number, first: number): Promise<Peer[]> {
  const offer = readSdpFixture('chrome-offer.sdp');
  const peers: Peer[] = [];
  for (let i = 0; i < count; i++) {
    const peer = media.createPeer({ id: first + i, sessionId: 1 }, QUIET);
    await peer.setRemoteDescription({ type: 'offer', sdp: offer });
    peers.push(peer);
  }
  return peers;
}

function candidatesOf(peer: Peer): Array<{ protocol: string; ip: string; port: number }> {
  return (peer as MediasoupPeer).webRtcTransport!.iceCandidates.map((c) => ({ protocol: c.protocol, ip: c.ip, port: c.port }));
}

/** A port p with p and p + 1 free on 127.0.0.1 (UDP), checked by binding them. */
async function freeUdpPortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 30000 + Math.floor(Math.random() * 9000);
    const sockets = [createSocket('udp4'), createSocket('udp4')];
    const bound = await Promise.all(
      sockets.map((socket, i) => new Promise<boolean>((resolve) => {
        socket.once('error', () => resolve(false));
        socket.bind(base + i, '127.0.0.1', () => resolve(true));
      })),
    );
    for (const socket of sockets) socket.close();
    if (bound.every(Boolean)) return base;
  }
  throw new Error('no free UDP port pair found');
}

describe('media: one WebRtcServer per mediasoup worker', function () {
  this.timeout(60000);
  let media: MediasoupMediaPlane | undefined;

  afterEach(async () => {
    await media?.close();
    media = undefined;
  });

  it('keeps the worker socket count constant from 1 to 50 PeerConnections (UDP only by default)', async () => {
    media = await MediasoupMediaPlane.start(mediaConfig({}), silentLogger());
    const [pid] = media.engine.workerPids;
    const idle = countSockets(pid!);
    expect(idle.udp, 'the WebRtcServer socket').to.equal(1);
    expect(idle.tcpListening, 'no ICE-TCP socket unless enabled').to.equal(0);
    const [port] = media.addresses().map((a) => a.port);

    const one = await openPeers(media, 1, 1);
    expect(countSockets(pid!)).to.deep.equal(idle);
    const fifty = [...one, ...(await openPeers(media, 49, 2))];
    expect(countSockets(pid!)).to.deep.equal(idle);
    for (const peer of fifty) {
      expect(candidatesOf(peer)).to.deep.equal([{ protocol: 'udp', ip: '127.0.0.1', port }]);
    }
    await Promise.all(fifty.map((peer) => peer.close()));
    expect(countSockets(pid!)).to.deep.equal(idle);
  });

  it('with iceTcp: one TCP listening socket per worker, TCP candidates on it, same counts at 50', async () => {
    media = await MediasoupMediaPlane.start(mediaConfig({ workers: 2, iceTcp: true }), silentLogger());
    const pids = media.engine.workerPids;
    const idle = pids.map(countSockets);
    expect(idle).to.deep.equal([{ udp: 1, tcpListening: 1 }, { udp: 1, tcpListening: 1 }]);
    const peers = await openPeers(media, 50, 100);
    expect(pids.map(countSockets)).to.deep.equal(idle);
    const listening = media.addresses();
    expect(listening.map((a) => `${a.worker} ${a.protocol}`).sort()).to.deep.equal(['0 tcp', '0 udp', '1 tcp', '1 udp']);
    const protocols = new Set(peers.flatMap((peer) => candidatesOf(peer).map((c) => c.protocol)));
    expect([...protocols].sort()).to.deep.equal(['tcp', 'udp']);
    for (const peer of peers) {
      for (const candidate of candidatesOf(peer)) {
        expect(listening.some((a) => a.protocol === candidate.protocol && a.port === candidate.port)).to.equal(true);
      }
    }
    await Promise.all(peers.map((peer) => peer.close()));
  });

  it('listens on the configured ports (base port + worker index) and fails naming a port in use', async () => {
    const first = await MediasoupMediaPlane.start(mediaConfig({ workers: 2 }), silentLogger());
    try {
      const taken = first.addresses().find((a) => a.worker === 0)!.port;
      const error = await MediasoupMediaPlane.start(mediaConfig({ ports: [taken] }), silentLogger()).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.name).to.equal('MediaListenError');
      expect(error?.message).to.include(`127.0.0.1 port ${taken}`);
    } finally {
      await first.close();
    }
    const base = await freeUdpPortPair();
    media = await MediasoupMediaPlane.start(mediaConfig({ workers: 2, basePort: base }), silentLogger());
    expect(media.addresses().map((a) => [a.worker, a.port])).to.deep.equal([[0, base], [1, base + 1]]);
  });

  it("server_info's ice-tcp follows the media plane", async () => {
    media = await MediasoupMediaPlane.start(mediaConfig({ iceTcp: true }), silentLogger());
    const ts = await startTestServer({ mediaPlane: media });
    try {
      const info = (await (await fetch(`${ts.urls.http}/info`)).json()) as Record<string, unknown>;
      expect(info['ice-tcp']).to.equal(true);
    } finally {
      await ts.close();
    }
    const plain = await startTestServer();
    try {
      const info = (await (await fetch(`${plain.urls.http}/info`)).json()) as Record<string, unknown>;
      expect(info['ice-tcp']).to.equal(false);
    } finally {
      await plain.close();
    }
  });
});
