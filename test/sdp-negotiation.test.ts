// Negotiation → mediasoup parameters, pure, over recorded SDPs (mediasoup itself is exercised
// in sdp-mediasoup.test.ts).
import { expect } from 'chai';
import type { DtlsParameters, IceParameters } from 'mediasoup/node/lib/WebRtcTransport';
import { clientJsepForScript, extractClientSdp } from '../src/media/sdp/client-sdp';
import { mergeLocalSdp, type MergeContext } from '../src/media/sdp/merge';
import {
  type Negotiation,
  negotiate,
  toConsumerRtpCapabilities,
  toProducerRtpParameters,
} from '../src/media/sdp/negotiation';
import { readSdpFixture } from './fixtures/sdp/fixtures';

const ICE: IceParameters = { usernameFragment: 'u', password: 'p', iceLite: true };
const DTLS: DtlsParameters = { fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }] };

function answerFor(offerFixture: string, answerFixture: string) {
  const { client } = clientJsepForScript({ type: 'offer', sdp: readSdpFixture(offerFixture) });
  const merged = mergeLocalSdp(readSdpFixture(answerFixture), {
    type: 'answer',
    announcedIp: '127.0.0.1',
    iceParameters: ICE,
    iceCandidates: [],
    dtlsParameters: DTLS,
    client,
    localSsrcs: { '0': { ssrc: 1 }, '1': { ssrc: 2, rtxSsrc: 3 } },
  });
  return { client, merged, negotiation: negotiate({ client, local: merged.sdp, clientIsOfferer: true }) };
}

/** [mimeType, the client's PT, the client's RTX PT or null] of every audio/video codec negotiated. */
function codecPts(n: Negotiation): [string, number, number | null][] {
  return n.media.flatMap((m) => m.codecs.map((c): [string, number, number | null] => [c.mimeType, c.payloadType, c.rtxPayloadType ?? null]));
}

const TWCC = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
const MID = 'urn:ietf:params:rtp-hdrext:sdes:mid';
const VP8_FB = [
  { type: 'goog-remb' },
  { type: 'transport-cc' },
  { type: 'ccm', parameter: 'fir' },
  { type: 'nack' },
  { type: 'nack', parameter: 'pli' },
];

describe('negotiate: client offer + script answer (Chrome, echotest.lua)', () => {
  const { negotiation } = answerFor('chrome-offer.sdp', 'lua-echotest-answer-chrome.sdp');
  const [audio, video] = negotiation.media;

  it('per m-line: kind, mid, directions, codecs with PTs, RTX, encodings, cname', () => {
    expect(negotiation.media.map((m) => [m.mindex, m.mid, m.kind, m.clientSends, m.clientReceives])).to.deep.equal([
      [0, '0', 'audio', true, true],
      [1, '1', 'video', true, true],
    ]);
    expect(audio.codecs).to.deep.equal([
      { payloadType: 111, mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: { minptime: 10, useinbandfec: 1 }, rtcpFeedback: [{ type: 'transport-cc' }] },
    ]);
    expect(video.codecs).to.deep.equal([
      { payloadType: 96, mimeType: 'video/VP8', clockRate: 90000, parameters: {}, rtcpFeedback: VP8_FB, rtxPayloadType: 97 },
    ]);
    expect(audio.encodings).to.deep.equal([{ ssrc: 2417837932 }]);
    expect(video.encodings).to.deep.equal([{ ssrc: 1539015627, rtxSsrc: 1746190601 }]);
    expect(audio.cname).to.equal('kSJ6XBifh5Y7kf3X');
    expect(video.rtcpReducedSize).to.equal(true);
  });

  it("producers get every extension the client declared; consumers only the answer's (no rid)", () => {
    expect(audio.sendExtensions).to.deep.equal([
      { uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 1 },
      { uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', id: 2 },
      { uri: TWCC, id: 3 },
      { uri: MID, id: 4 },
    ]);
    expect(audio.recvExtensions).to.deep.equal([{ uri: TWCC, id: 3 }, { uri: MID, id: 4 }]);
    expect(video.sendExtensions.map((e) => e.id)).to.deep.equal([14, 2, 13, 3, 5, 6, 7, 8, 4, 10, 11]);
    expect(video.recvExtensions).to.deep.equal([{ uri: TWCC, id: 3 }, { uri: MID, id: 4 }]);
  });

  it('the data m-line: SCTP port and max-message-size from the client', () => {
    expect(negotiation.data).to.deep.equal({ mindex: 2, mid: '2', sctpPort: 5000, maxMessageSize: 262144, legacy: false });
  });

  it('toProducerRtpParameters: exact video parameters', () => {
    expect(toProducerRtpParameters(video)).to.deep.equal({
      mid: '1',
      codecs: [
        { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: VP8_FB },
        { mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 }, rtcpFeedback: [] },
      ],
      headerExtensions: video.sendExtensions,
      encodings: [{ ssrc: 1539015627, rtx: { ssrc: 1746190601 } }],
      rtcp: { reducedSize: true, mux: true, cname: 'kSJ6XBifh5Y7kf3X' },
    });
  });

  it("keeps the answer's codecs with the client's PTs, and the client's RTX PT", () => {
    expect(codecPts(negotiation)).to.deep.equal([['audio/opus', 111, null], ['video/VP8', 96, 97]]);
  });

  it("toConsumerRtpCapabilities: the client's PTs and extension IDs", () => {
    expect(toConsumerRtpCapabilities(video)).to.deep.equal({
      codecs: [
        { kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: VP8_FB },
        { kind: 'video', mimeType: 'video/rtx', preferredPayloadType: 97, clockRate: 90000, parameters: { apt: 96 }, rtcpFeedback: [] },
      ],
      headerExtensions: [
        { kind: 'video', uri: TWCC, preferredId: 3, preferredEncrypt: false, direction: 'sendrecv' },
        { kind: 'video', uri: MID, preferredId: 4, preferredEncrypt: false, direction: 'sendrecv' },
      ],
    });
  });
});

describe('negotiate: simulcast and Firefox numbering', () => {
  it('Chrome rid simulcast publisher: rid encodings low..high, client sends only', () => {
    const { negotiation } = answerFor('chrome-simulcast-offer.sdp', 'lua-videoroom-publisher-answer-chrome-simulcast.sdp');
    const video = negotiation.media[1];
    expect([video.clientSends, video.clientReceives]).to.deep.equal([true, false]);
    const p = toProducerRtpParameters(video);
    // VP8 simulcast layers carry three temporal layers each (libwebrtc's default).
    expect(p.encodings).to.deep.equal([
      { rid: 'l', scalabilityMode: 'L1T3' },
      { rid: 'm', scalabilityMode: 'L1T3' },
      { rid: 'h', scalabilityMode: 'L1T3' },
    ]);
    expect(p.headerExtensions!.filter((e) => e.uri.includes('rtp-stream-id'))).to.deep.equal([
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id', id: 10 },
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id', id: 11 },
    ]);
  });

  it('libwebrtc SSRC simulcast: three SSRCs with their RTX SSRCs, low..high', () => {
    const { negotiation } = answerFor('wrtc-ssrc-simulcast-offer.sdp', 'lua-echotest-answer-wrtc.sdp');
    expect(toProducerRtpParameters(negotiation.media[1]).encodings).to.deep.equal([
      { scalabilityMode: 'L1T3', ssrc: 655245656, rtx: { ssrc: 2956593368 } },
      { scalabilityMode: 'L1T3', ssrc: 655246656, rtx: { ssrc: 2956594368 } },
      { scalabilityMode: 'L1T3', ssrc: 655247656, rtx: { ssrc: 2956595368 } },
    ]);
  });

  it('Firefox: opus 109, VP8 120 with RTX 124; recvonly extensions left out of the producer', () => {
    const { negotiation } = answerFor('firefox-offer.sdp', 'lua-echotest-answer-firefox.sdp');
    expect(codecPts(negotiation)).to.deep.equal([['audio/opus', 109, null], ['video/VP8', 120, 124]]);
    expect(negotiation.media[0].codecs[0].parameters).to.deep.equal({ maxplaybackrate: 48000, stereo: 1, useinbandfec: 1 });
    // a=extmap:2/recvonly csrc-audio-level: Firefox only receives it.
    expect(negotiation.media[0].sendExtensions.map((e) => e.id)).to.deep.equal([1, 3, 7]);
    expect(negotiation.data).to.deep.equal({ mindex: 2, mid: '2', sctpPort: 5000, maxMessageSize: 1073741823, legacy: false });
  });
});

describe('negotiate: script offer + client answer (videoroom subscriber, Chromium answer)', () => {
  // The same inputs scripts/record-sdp.mjs used to build the offer Chromium answered.
  const context: MergeContext = {
    type: 'offer',
    announcedIp: '127.0.0.1',
    iceParameters: { usernameFragment: 'recordufrag', password: 'recordpassword1234567890', iceLite: true },
    iceCandidates: [{ foundation: 'udpcandidate', priority: 1076302079, ip: '127.0.0.1', protocol: 'udp', port: 40000, type: 'host', tcpType: undefined }],
    dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: '5A:6B:7C:8D:9E:AF:B0:C1:D2:E3:F4:05:16:27:38:49:5A:6B:7C:8D:9E:AF:B0:C1:D2:E3:F4:05:16:27:38:49' }] },
    localSsrcs: { '0': { ssrc: 11111111 }, '1': { ssrc: 22222222, rtxSsrc: 33333333 } },
    sessionId: '1763700000000',
  };
  const offer = mergeLocalSdp(readSdpFixture('lua-videoroom-subscriber-offer.sdp'), context);
  const answer = extractClientSdp(readSdpFixture('chrome-answer-to-subscriber-offer.sdp'));
  const negotiation = negotiate({ client: answer, local: offer.sdp, clientIsOfferer: false });

  it('the client only receives; codecs, RTX and extension IDs from its answer', () => {
    expect(answer.setup).to.equal('active');
    expect(negotiation.media.map((m) => [m.mid, m.kind, m.clientSends, m.clientReceives])).to.deep.equal([
      ['0', 'audio', false, true],
      ['1', 'video', false, true],
    ]);
    const video = negotiation.media[1];
    expect(video.codecs.map((c) => [c.mimeType, c.payloadType, c.rtxPayloadType])).to.deep.equal([['video/VP8', 96, 97]]);
    expect(video.recvExtensions).to.deep.equal([{ uri: TWCC, id: 3 }, { uri: MID, id: 4 }]);
    expect(video.encodings).to.deep.equal([]);
    expect(toConsumerRtpCapabilities(negotiation.media[0]).codecs!.map((c) => [c.mimeType, c.preferredPayloadType])).to.deep.equal([
      ['audio/opus', 111],
    ]);
    // No a=max-message-size in Chromium's answer: the default (64 KiB) applies.
    expect(negotiation.data).to.deep.equal({ mindex: 2, mid: '2', sctpPort: 5000, legacy: false });
  });
});
