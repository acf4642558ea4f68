// The SDP layer's parameters against a real mediasoup worker: routers with the server's codec
// list, produce() with our RtpParameters (the client's PTs), canConsume()/consume() with our
// capabilities, and a live libwebrtc client (@roamhq/wrtc) whose media reaches Producers.
// Required once the worker binary exists; skipped (and logged) only when it is absent.
import { expect } from 'chai';
import fs from 'node:fs';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { clientJsepForScript } from '../src/media/sdp/client-sdp';
import { chooseLocalSsrcs } from '../src/media/sdp/local-ssrcs';
import { localMediaOf, mergeLocalSdp } from '../src/media/sdp/merge';
import {
  type Negotiation,
  negotiate,
  toConsumerRtpCapabilities,
  toProducerRtpParameters,
} from '../src/media/sdp/negotiation';
import { ROUTER_MEDIA_CODECS } from '../src/media/codecs';
import { readSdpFixture } from './fixtures/sdp/fixtures';

const LISTEN = [{ ip: '127.0.0.1' }];

function negotiateRecorded(offer: string, answer: string, transport?: types.WebRtcTransport): { negotiation: Negotiation; sdp: string } {
  const { client } = clientJsepForScript({ type: 'offer', sdp: offer });
  const plugin = answer;
  const merged = mergeLocalSdp(plugin, {
    type: 'answer',
    announcedIp: '127.0.0.1',
    iceParameters: transport?.iceParameters ?? { usernameFragment: 'u', password: 'p' },
    iceCandidates: transport?.iceCandidates ?? [],
    dtlsParameters: transport?.dtlsParameters ?? { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] },
    dtlsRole: 'client',
    client,
    localSsrcs: chooseLocalSsrcs(localMediaOf(plugin, 'answer', client), { avoid: client.media.flatMap((m) => m.ssrcs) }),
  });
  return { negotiation: negotiate({ client, local: merged.sdp, clientIsOfferer: true }), sdp: merged.sdp };
}

describe('SDP layer against a real mediasoup worker', function () {
  let worker: types.Worker | undefined;

  before(async function () {
    if (!fs.existsSync(mediasoup.workerBin)) {
      console.log(`    (skipped: no mediasoup worker binary at ${mediasoup.workerBin})`);
      this.skip();
    }
    worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 41000, rtcMaxPort: 41999 });
  });

  after(() => worker?.close());

  const cases: [string, string, string, Record<string, number>][] = [
    ['Chrome', 'chrome-offer.sdp', 'lua-echotest-answer-chrome.sdp', { 'audio/opus': 111, 'video/VP8': 96 }],
    ['Firefox', 'firefox-offer.sdp', 'lua-echotest-answer-firefox.sdp', { 'audio/opus': 109, 'video/VP8': 120 }],
    ['Chrome rid simulcast', 'chrome-simulcast-offer.sdp', 'lua-videoroom-publisher-answer-chrome-simulcast.sdp', { 'audio/opus': 111, 'video/VP8': 96 }],
    ['libwebrtc SSRC simulcast', 'wrtc-ssrc-simulcast-offer.sdp', 'lua-echotest-answer-wrtc.sdp', { 'audio/opus': 111, 'video/VP8': 96 }],
  ];

  for (const [label, offerFile, answerFile, pts] of cases) {
    it(`${label}: produce() accepts our parameters with the client's PTs, consumers can consume`, async () => {
      const { negotiation } = negotiateRecorded(readSdpFixture(offerFile), readSdpFixture(answerFile));
      const router = await worker!.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
      try {
        const clientPts = Object.fromEntries(negotiation.media.map((m) => [m.codecs[0].mimeType, m.codecs[0].payloadType]));
        expect(clientPts).to.deep.equal(pts);
        const transport = await router.createWebRtcTransport({ listenIps: LISTEN, enableSctp: true });
        const recipient = await router.createWebRtcTransport({ listenIps: LISTEN });
        for (const m of negotiation.media.filter((x) => x.clientSends)) {
          const params = toProducerRtpParameters(m);
          const producer = await transport.produce({ kind: m.kind, rtpParameters: params });
          expect(producer.rtpParameters.mid).to.equal(m.mid);
          expect(producer.rtpParameters.encodings!.map((e) => e.rid ?? e.ssrc)).to.deep.equal(params.encodings!.map((e) => e.rid ?? e.ssrc));
          expect(producer.type).to.equal(params.encodings!.length > 1 ? 'simulcast' : 'simple');
          const caps = toConsumerRtpCapabilities(m);
          expect(router.canConsume({ producerId: producer.id, rtpCapabilities: caps })).to.equal(true);
          const consumer = await recipient.consume({ producerId: producer.id, rtpCapabilities: caps, paused: true, mid: m.mid });
          // The Consumer carries this codec (on the wire with the client's PT: our worker edit).
          expect(consumer.rtpParameters.codecs[0].mimeType.toLowerCase()).to.equal(m.codecs[0].mimeType.toLowerCase());
        }
      } finally {
        router.close();
      }
    });
  }

  it('a live libwebrtc client: merged answer accepted, ICE+DTLS up, audio and video reach the Producers', async function () {
    this.timeout(25000);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const wrtc = require('@roamhq/wrtc') as WrtcModule;
    const pc = new wrtc.RTCPeerConnection();
    const audioSource = new wrtc.nonstandard.RTCAudioSource();
    const videoSource = new wrtc.nonstandard.RTCVideoSource();
    const audioTrack = audioSource.createTrack();
    const videoTrack = videoSource.createTrack();
    const stream = new wrtc.MediaStream([audioTrack, videoTrack]);
    pc.addTrack(audioTrack, stream);
    pc.addTrack(videoTrack, stream);
    pc.createDataChannel('JanusDataChannel');
    const frame = { width: 320, height: 240, data: new Uint8ClampedArray(320 * 240 * 1.5) };
    const samples = new Int16Array(480);
    const timers = [
      setInterval(() => videoSource.onFrame(frame), 33),
      setInterval(() => audioSource.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 }), 10),
    ];
    // The recorded echotest answer matches this libwebrtc's PT and extension layout.
    const plugin = readSdpFixture('lua-echotest-answer-wrtc.sdp');
    let router: types.Router | undefined;
    try {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      const { client } = clientJsepForScript({ type: 'offer', sdp: offer.sdp });
      const { negotiation: pre } = negotiateRecorded(offer.sdp, plugin);
      router = await worker!.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
      const transport = await router.createWebRtcTransport({ listenIps: LISTEN, enableSctp: true });
      const { negotiation, sdp } = negotiateRecorded(offer.sdp, plugin, transport);
      expect(negotiation.media.find((m) => m.kind === 'video')?.codecs[0]).to.include({ payloadType: 96, rtxPayloadType: 97 });
      await pc.setRemoteDescription({ type: 'answer', sdp });
      // We answered a=setup:active (DTLS client), so the remote peer is the DTLS server.
      await transport.connect({ dtlsParameters: { role: 'server', fingerprints: [{ algorithm: 'sha-256', value: client.fingerprint.value }] } });
      const producers = await Promise.all(
        negotiation.media.filter((m) => m.clientSends).map((m) => transport.produce({ kind: m.kind, rtpParameters: toProducerRtpParameters(m) })),
      );
      expect(producers.map((p) => p.kind)).to.deep.equal(['audio', 'video']);
      let bytes: number[] = [0, 0];
      for (let i = 0; i < 100 && !(bytes[0] > 0 && bytes[1] > 0); i++) {
        await new Promise((r) => setTimeout(r, 100));
        bytes = await Promise.all(producers.map(async (p) => (await p.getStats()).reduce((n, s) => n + s.byteCount, 0)));
      }
      expect(transport.dtlsState).to.equal('connected');
      expect(bytes[0], 'audio bytes').to.be.greaterThan(0);
      expect(bytes[1], 'video bytes').to.be.greaterThan(0);
    } finally {
      timers.forEach((t) => clearInterval(t));
      audioTrack.stop();
      videoTrack.stop();
      pc.close();
      router?.close();
    }
  });
});

describe('SDP layer: a live libwebrtc client answers a merged script offer', () => {
  it('the videoroom subscriber offer is accepted; its answer negotiates recv-only VP8 96 + RTX 97', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const wrtc = require('@roamhq/wrtc') as WrtcModule;
    const pc = new wrtc.RTCPeerConnection();
    try {
      const merged = mergeLocalSdp(readSdpFixture('lua-videoroom-subscriber-offer.sdp'), {
        type: 'offer',
        announcedIp: '127.0.0.1',
        iceParameters: { usernameFragment: 'subscriberufrag1', password: 'subscriberpassword123456', iceLite: true },
        iceCandidates: [{ foundation: 'udpcandidate', priority: 1076302079, ip: '127.0.0.1', protocol: 'udp', port: 40000, type: 'host', tcpType: undefined }],
        dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: '5A:6B:7C:8D:9E:AF:B0:C1:D2:E3:F4:05:16:27:38:49:5A:6B:7C:8D:9E:AF:B0:C1:D2:E3:F4:05:16:27:38:49' }] },
        localSsrcs: { '0': { ssrc: 11111111 }, '1': { ssrc: 22222222, rtxSsrc: 33333333 } },
      });
      await pc.setRemoteDescription({ type: 'offer', sdp: merged.sdp });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      const { client } = clientJsepForScript({ type: 'answer', sdp: answer.sdp });
      expect(client.setup).to.equal('active');
      const negotiation = negotiate({ client, local: merged.sdp, clientIsOfferer: false });
      expect(negotiation.media.map((m) => [m.mid, m.clientSends, m.clientReceives])).to.deep.equal([
        ['0', false, true],
        ['1', false, true],
      ]);
      expect(negotiation.media[1].codecs.map((c) => [c.payloadType, c.rtxPayloadType])).to.deep.equal([[96, 97]]);
      expect(negotiation.data?.sctpPort).to.equal(5000);
    } finally {
      pc.close();
    }
  });
});

/** The parts of @roamhq/wrtc this test uses (the package ships no types). */
interface WrtcModule {
  RTCPeerConnection: new () => {
    addTrack(track: unknown, stream: unknown): unknown;
    createDataChannel(label: string): unknown;
    createOffer(): Promise<{ type: 'offer'; sdp: string }>;
    createAnswer(): Promise<{ type: 'answer'; sdp: string }>;
    setLocalDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
    setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
    close(): void;
  };
  MediaStream: new (tracks: unknown[]) => unknown;
  nonstandard: {
    RTCAudioSource: new () => {
      createTrack(): { stop(): void };
      onData(data: { samples: Int16Array; sampleRate: number; bitsPerSample: number; channelCount: number; numberOfFrames: number }): void;
    };
    RTCVideoSource: new () => {
      createTrack(): { stop(): void };
      onFrame(frame: { width: number; height: number; data: Uint8ClampedArray }): void;
    };
  };
}
