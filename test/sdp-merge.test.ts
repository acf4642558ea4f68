// The merge of a script's minimal SDP with the transport (docs/contract.md §3.1 "What the core
// must add"), over janus-sdp.lua outputs recorded from the real Janus Lua helper.
import { expect } from 'chai';
import type { DtlsParameters, IceCandidate, IceParameters } from 'mediasoup/node/lib/WebRtcTransport';
import { InvalidSdpError } from '../src/plugin/media-errors';
import { clientJsepForScript, extractClientSdp } from '../src/media/sdp/client-sdp';
import { chooseLocalSsrcs } from '../src/media/sdp/local-ssrcs';
import { candidateLine, localMediaOf, mergeLocalSdp, type MergeContext } from '../src/media/sdp/merge';
import { readSdpFixture, sdpLines } from './fixtures/sdp/fixtures';

const ICE: IceParameters = { usernameFragment: 'msufrag', password: 'mspassword', iceLite: true };
const CANDIDATES: IceCandidate[] = [
  { foundation: 'udpcandidate', priority: 1076302079, ip: '203.0.113.7', protocol: 'udp', port: 40001, type: 'host', tcpType: undefined },
  { foundation: 'tcpcandidate', priority: 1076276479, ip: '203.0.113.7', protocol: 'tcp', port: 40002, type: 'host', tcpType: 'passive' },
];
const DTLS: DtlsParameters = {
  role: 'auto',
  fingerprints: [
    { algorithm: 'sha-384', value: '11:22' },
    { algorithm: 'sha-256', value: 'ab:cd:ef' },
  ],
};

function ctx(over: Partial<MergeContext>): MergeContext {
  return {
    type: 'answer',
    announcedIp: '203.0.113.7',
    iceParameters: ICE,
    iceCandidates: CANDIDATES,
    dtlsParameters: DTLS,
    dtlsRole: 'client',
    localSsrcs: {},
    ...over,
  };
}

/** Lines of one m-section (from its m= line to the next). */
function section(lines: string[], mPrefix: string): string[] {
  const start = lines.findIndex((l) => l.startsWith(mPrefix));
  expect(start, mPrefix).to.be.greaterThan(-1);
  const next = lines.findIndex((l, i) => i > start && l.startsWith('m='));
  return lines.slice(start, next < 0 ? undefined : next);
}

describe('mergeLocalSdp: script answers', () => {
  const client = clientJsepForScript({ type: 'offer', sdp: readSdpFixture('chrome-offer.sdp') }).client;

  it("echotest.lua's answer to a Chrome offer, merged, line by line", () => {
    const r = mergeLocalSdp(
      readSdpFixture('lua-echotest-answer-chrome.sdp'),
      ctx({ client, localSsrcs: { '0': { ssrc: 1111 }, '1': { ssrc: 2222, rtxSsrc: 3333 } } }),
    );
    const cands = [
      'a=candidate:udpcandidate 1 udp 1076302079 203.0.113.7 40001 typ host',
      'a=candidate:tcpcandidate 1 tcp 1076276479 203.0.113.7 40002 typ host tcptype passive',
      'a=end-of-candidates',
    ];
    const transport = ['a=ice-ufrag:msufrag', 'a=ice-pwd:mspassword', 'a=ice-options:trickle', 'a=setup:active'];
    expect(sdpLines(r.sdp)).to.deep.equal([
      'v=0',
      'o=- 7108948003333672339 2 IN IP4 203.0.113.7',
      's=-',
      't=0 0',
      'a=group:BUNDLE 0 1 2',
      'a=ice-options:trickle',
      'a=fingerprint:sha-256 AB:CD:EF',
      'a=extmap-allow-mixed',
      'a=msid-semantic: WMS *',
      'a=ice-lite',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'c=IN IP4 203.0.113.7',
      'a=sendrecv',
      'a=mid:0',
      'a=rtcp-mux',
      ...transport,
      'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
      'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
      'a=rtpmap:111 opus/48000/2',
      'a=rtcp-fb:111 transport-cc',
      'a=fmtp:111 minptime=10;useinbandfec=1',
      'a=msid:janus janus0',
      'a=ssrc:1111 cname:janus',
      ...cands,
      'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
      'c=IN IP4 203.0.113.7',
      'a=sendrecv',
      'a=mid:1',
      'a=rtcp-mux',
      ...transport,
      'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
      'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
      'a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
      'a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
      'a=rtpmap:96 VP8/90000',
      'a=rtcp-fb:96 goog-remb',
      'a=rtcp-fb:96 transport-cc',
      'a=rtcp-fb:96 ccm fir',
      'a=rtcp-fb:96 nack',
      'a=rtcp-fb:96 nack pli',
      // RTX: the client's rtx PT for VP8 (97), the server's SSRCs with an FID group.
      'a=rtpmap:97 rtx/90000',
      'a=fmtp:97 apt=96',
      'a=ssrc-group:FID 2222 3333',
      'a=msid:janus janus1',
      'a=ssrc:2222 cname:janus',
      'a=ssrc:3333 cname:janus',
      ...cands,
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'c=IN IP4 203.0.113.7',
      'a=mid:2',
      'a=sctp-port:5000',
      ...transport,
      ...cands,
    ]);
    expect(r.sdp.endsWith('a=end-of-candidates\r\n')).to.equal(true);
    expect(r.media).to.deep.equal([
      { mindex: 0, mid: '0', kind: 'audio', port: 9, direction: 'sendrecv', serverSends: true, serverReceives: true, ssrc: 1111, rtxPayloadTypes: {} },
      { mindex: 1, mid: '1', kind: 'video', port: 9, direction: 'sendrecv', serverSends: true, serverReceives: true, ssrc: 2222, rtxSsrc: 3333, rtxPayloadTypes: { 96: 97 } },
      { mindex: 2, mid: '2', kind: 'application', port: 9, direction: 'sendrecv', serverSends: true, serverReceives: true, rtxPayloadTypes: {} },
    ]);
  });

  it("Firefox numbering: the client's RTX PT 124 for VP8 120; o= version 0 becomes now/1", () => {
    const ff = clientJsepForScript({ type: 'offer', sdp: readSdpFixture('firefox-offer.sdp') }).client;
    const r = mergeLocalSdp(
      readSdpFixture('lua-echotest-answer-firefox.sdp'),
      ctx({ client: ff, localSsrcs: { '0': { ssrc: 1 }, '1': { ssrc: 2, rtxSsrc: 3 } }, sessionId: '1763700000000' }),
    );
    const lines = sdpLines(r.sdp);
    expect(lines[1]).to.equal('o=mozilla...THIS_IS_SDPARTA-99.0 1763700000000 1 IN IP4 203.0.113.7');
    const video = section(lines, 'm=video');
    expect(video[0]).to.equal('m=video 9 UDP/TLS/RTP/SAVPF 120 124');
    expect(video).to.include.members(['a=rtpmap:124 rtx/90000', 'a=fmtp:124 apt=120', 'a=ssrc-group:FID 2 3']);
    expect(section(lines, 'm=audio')[0]).to.equal('m=audio 9 UDP/TLS/RTP/SAVPF 109');
    // The script's duplicated session a=sendrecv (a janus-sdp.lua quirk) is passed through.
    expect(lines.filter((l) => l === 'a=sendrecv').length).to.equal(2 + 3);
    expect(r.media[1].rtxPayloadTypes).to.deep.equal({ 120: 124 });
  });

  it('videoroom publisher: recvonly answer with rid recv + simulcast:recv, no server SSRCs', () => {
    const sc = clientJsepForScript({ type: 'offer', sdp: readSdpFixture('chrome-simulcast-offer.sdp') }).client;
    const plugin = readSdpFixture('lua-videoroom-publisher-answer-chrome-simulcast.sdp');
    let n = 100;
    const ssrcs = chooseLocalSsrcs(localMediaOf(plugin, 'answer', sc), { random: () => ++n });
    expect(ssrcs).to.deep.equal({ '0': { ssrc: 101 }, '1': { ssrc: 102, rtxSsrc: 103 } });
    const r = mergeLocalSdp(plugin, ctx({ client: sc, localSsrcs: ssrcs }));
    const video = section(sdpLines(r.sdp), 'm=video');
    expect(video.slice(1, 4)).to.deep.equal(['c=IN IP4 203.0.113.7', 'a=recvonly', 'a=mid:1']);
    expect(video.filter((l) => l.startsWith('a=ssrc'))).to.deep.equal([]);
    expect(video.slice(-8)).to.deep.equal([
      'a=msid:janus janus1',
      'a=rid:h recv',
      'a=rid:m recv',
      'a=rid:l recv',
      'a=simulcast:recv h;m;l',
      'a=candidate:udpcandidate 1 udp 1076302079 203.0.113.7 40001 typ host',
      'a=candidate:tcpcandidate 1 tcp 1076276479 203.0.113.7 40002 typ host tcptype passive',
      'a=end-of-candidates',
    ]);
    expect(r.media.map((m) => [m.mid, m.serverSends, m.serverReceives, m.ssrc])).to.deep.equal([
      ['0', false, true, undefined],
      ['1', false, true, undefined],
      ['2', true, true, undefined],
    ]);
  });

  it('setup:passive for DTLS role server; no candidates in full-trickle mode; no ice-lite when off', () => {
    const r = mergeLocalSdp(
      readSdpFixture('lua-echotest-answer-chrome.sdp'),
      ctx({ client, dtlsRole: 'server', includeCandidates: false, iceLite: false }),
    );
    const lines = sdpLines(r.sdp);
    expect(lines.filter((l) => l.startsWith('a=setup:'))).to.deep.equal(['a=setup:passive', 'a=setup:passive', 'a=setup:passive']);
    expect(lines.filter((l) => l.startsWith('a=candidate') || l === 'a=end-of-candidates')).to.deep.equal([]);
    expect(lines).to.not.include('a=ice-lite');
    // No localSsrcs entry: no a=ssrc at all.
    expect(lines.filter((l) => l.startsWith('a=ssrc'))).to.deep.equal([]);
  });

  it('a rejected m-line: port 0, inactive, mid only, left out of BUNDLE', () => {
    const answer = readSdpFixture('lua-echotest-answer-chrome.sdp').replace(
      /m=video 9 UDP\/TLS\/RTP\/SAVPF 96\r\n(a=[^\r]*\r\n)*/,
      'm=video 0 UDP/TLS/RTP/SAVPF 0\r\n',
    );
    const r = mergeLocalSdp(answer, ctx({ client, localSsrcs: { '0': { ssrc: 5 }, '1': { ssrc: 6, rtxSsrc: 7 } } }));
    const lines = sdpLines(r.sdp);
    expect(lines).to.include('a=group:BUNDLE 0 2');
    expect(section(lines, 'm=video')).to.deep.equal(['m=video 0 UDP/TLS/RTP/SAVPF 0', 'c=IN IP4 203.0.113.7', 'a=inactive', 'a=mid:1']);
    expect(r.media[1]).to.deep.equal({ mindex: 1, mid: '1', kind: 'video', port: 0, direction: 'inactive', serverSends: false, serverReceives: false, rtxPayloadTypes: {} });
  });

  it('a minimal script SDP without s=, o= id 0 and stray transport lines', () => {
    const minimal =
      'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\nt=0 0\r\nc=IN IP4 127.0.0.1\r\n' +
      'm=audio 9 RTP/AVP 0\r\na=ice-ufrag:evil\r\na=ssrc:42 cname:x\r\na=sendonly\r\na=rtpmap:0 PCMU/8000\r\n';
    const r = mergeLocalSdp(minimal, ctx({ client, localSsrcs: { '0': { ssrc: 9 } }, sessionId: '42', includeCandidates: false }));
    expect(sdpLines(r.sdp)).to.deep.equal([
      'v=0',
      'o=- 42 1 IN IP4 203.0.113.7',
      's=Meetecho Janus',
      't=0 0',
      'a=group:BUNDLE 0',
      'a=ice-options:trickle',
      'a=fingerprint:sha-256 AB:CD:EF',
      'a=extmap-allow-mixed',
      'a=msid-semantic: WMS *',
      'a=ice-lite',
      'm=audio 9 UDP/TLS/RTP/SAVPF 0',
      'c=IN IP4 203.0.113.7',
      'a=sendonly',
      'a=mid:0',
      'a=rtcp-mux',
      'a=ice-ufrag:msufrag',
      'a=ice-pwd:mspassword',
      'a=ice-options:trickle',
      'a=setup:active',
      'a=rtpmap:0 PCMU/8000',
      'a=msid:janus janus0',
      'a=ssrc:9 cname:janus',
    ]);
  });

  it('legacy DTLS/SCTP data: sctpmap in the merge, legacy port in the extraction; non-SCTP application rejected', () => {
    const offer =
      'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n' +
      'm=application 9 DTLS/SCTP 5000\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:efghijklmnopqrstuvwxyz12\r\n' +
      'a=fingerprint:sha-256 AA:BB\r\na=setup:actpass\r\na=mid:data\r\na=sctpmap:5000 webrtc-datachannel 1024\r\n' +
      'm=application 9 UDP/BFCP *\r\na=mid:bfcp\r\n';
    const legacy = extractClientSdp(offer);
    expect(legacy.media[0].sctp).to.deep.equal({ port: 5000, legacy: true });
    const answer = 'v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\nm=application 9 DTLS/SCTP 5000\r\nm=application 9 UDP/BFCP *\r\n';
    const r = mergeLocalSdp(answer, ctx({ client: legacy, includeCandidates: false, sctpMaxMessageSize: 262144 }));
    expect(sdpLines(r.sdp).slice(4)).to.deep.equal([
      'a=group:BUNDLE data',
      'a=ice-options:trickle',
      'a=fingerprint:sha-256 AB:CD:EF',
      'a=extmap-allow-mixed',
      'a=msid-semantic: WMS *',
      'a=ice-lite',
      'm=application 9 DTLS/SCTP 5000',
      'c=IN IP4 203.0.113.7',
      'a=mid:data',
      'a=sctpmap:5000 webrtc-datachannel 16',
      'a=ice-ufrag:msufrag',
      'a=ice-pwd:mspassword',
      'a=ice-options:trickle',
      'a=setup:active',
      'a=max-message-size:262144',
      'm=application 0 UDP/BFCP *',
      'c=IN IP4 203.0.113.7',
      'a=inactive',
      'a=mid:bfcp',
    ]);
  });

  it('refuses garbage (InvalidSdpError), an answer without the client SDP, and a transport without sha-256', () => {
    expect(() => mergeLocalSdp('nope', ctx({ client }))).to.throw(InvalidSdpError);
    expect(() => mergeLocalSdp(readSdpFixture('lua-echotest-answer-chrome.sdp'), ctx({ client: undefined }))).to.throw(/client SDP/);
    expect(() =>
      mergeLocalSdp(readSdpFixture('lua-echotest-answer-chrome.sdp'), ctx({ client, dtlsParameters: { fingerprints: [{ algorithm: 'sha-1', value: 'AA' }] } })),
    ).to.throw(/sha-256/);
  });
});

describe('mergeLocalSdp: script offers (videoroom subscriber)', () => {
  const offer = readSdpFixture('lua-videoroom-subscriber-offer.sdp');

  it('mids from the m-line index, actpass, rid extmaps removed, RTX + FID + SSRCs for video', () => {
    const plan = localMediaOf(offer, 'offer');
    expect(plan.map((p) => [p.mid, p.kind, p.rejected, p.direction])).to.deep.equal([
      ['0', 'audio', false, 'sendonly'],
      ['1', 'video', false, 'sendonly'],
      ['2', 'application', false, 'sendrecv'],
    ]);
    const r = mergeLocalSdp(offer, ctx({ type: 'offer', dtlsRole: undefined, localSsrcs: { '0': { ssrc: 10 }, '1': { ssrc: 20, rtxSsrc: 21 } }, includeCandidates: false }));
    const lines = sdpLines(r.sdp);
    expect(lines[1]).to.equal('o=- 8054255244478880074 2 IN IP4 203.0.113.7');
    expect(lines.filter((l) => l.startsWith('a=setup:'))).to.deep.equal(['a=setup:actpass', 'a=setup:actpass', 'a=setup:actpass']);
    expect(lines.filter((l) => l.includes('rtp-stream-id'))).to.deep.equal([]);
    expect(section(lines, 'm=video')).to.deep.equal([
      'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
      'c=IN IP4 203.0.113.7',
      'a=sendonly',
      'a=mid:1',
      'a=rtcp-mux',
      'a=ice-ufrag:msufrag',
      'a=ice-pwd:mspassword',
      'a=ice-options:trickle',
      'a=setup:actpass',
      'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
      'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
      'a=rtpmap:96 VP8/90000',
      'a=rtcp-fb:96 goog-remb',
      'a=rtcp-fb:96 transport-cc',
      'a=rtcp-fb:96 ccm fir',
      'a=rtcp-fb:96 nack',
      'a=rtcp-fb:96 nack pli',
      'a=rtpmap:97 rtx/90000',
      'a=fmtp:97 apt=96',
      'a=ssrc-group:FID 20 21',
      'a=msid:janus janus1',
      'a=ssrc:20 cname:janus',
      'a=ssrc:21 cname:janus',
    ]);
    expect(section(lines, 'm=audio').slice(-2)).to.deep.equal(['a=msid:janus janus0', 'a=ssrc:10 cname:janus']);
  });

  it('uses the a=mid a script wrote, and a caller-chosen RTX PT (e.g. the publisher router one)', () => {
    const withMids = offer.replace('m=video 9 UDP/TLS/RTP/SAVPF 96\r\n', 'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\n');
    const r = mergeLocalSdp(withMids, ctx({ type: 'offer', localSsrcs: {}, rtxPayloadTypes: { 96: 101 }, includeCandidates: false }));
    const lines = sdpLines(r.sdp);
    expect(lines).to.include('a=group:BUNDLE 0 v 2');
    const video = section(lines, 'm=video');
    expect(video.filter((l) => l.startsWith('a=mid'))).to.deep.equal(['a=mid:v']);
    expect(video[0]).to.equal('m=video 9 UDP/TLS/RTP/SAVPF 96 101');
    expect(video).to.include.members(['a=rtpmap:101 rtx/90000', 'a=fmtp:101 apt=96']);
  });

  it('is accepted by extractClientSdp when the client answers (round trip of our own offer)', () => {
    const r = mergeLocalSdp(offer, ctx({ type: 'offer', localSsrcs: { '0': { ssrc: 10 }, '1': { ssrc: 20, rtxSsrc: 21 } } }));
    const seen = extractClientSdp(r.sdp);
    expect(seen.iceUfrag).to.equal('msufrag');
    expect(seen.fingerprint).to.deep.equal({ algorithm: 'sha-256', value: 'AB:CD:EF' });
    expect(seen.media[1].encodings).to.deep.equal([{ ssrc: 20, rtxSsrc: 21 }]);
    expect(seen.iceLite).to.equal(true);
  });
});

describe('chooseLocalSsrcs and candidateLine', () => {
  it('one SSRC per audio/video m-line, an RTX SSRC for video, unique and avoiding the client', () => {
    const values = [5, 5, 0, 7, 8, 9];
    const random = (): number => values.shift() ?? 1000;
    const out = chooseLocalSsrcs(
      [
        { mid: 'a', kind: 'audio' },
        { mid: 'v', kind: 'video' },
        { mid: 'd', kind: 'application' },
        { mid: 'x', kind: 'video', rejected: true },
      ],
      { avoid: [7], random },
    );
    // 5, then 5 again (taken) and 0 (invalid) skipped, 7 avoided.
    expect(out).to.deep.equal({ a: { ssrc: 5 }, v: { ssrc: 8, rtxSsrc: 9 } });
  });

  it('keeps previous SSRCs across renegotiation', () => {
    const out = chooseLocalSsrcs([{ mid: 'v', kind: 'video' }, { mid: 'a', kind: 'audio' }], {
      previous: { v: { ssrc: 1, rtxSsrc: 2 } },
      random: (() => {
        let n = 0;
        return () => ++n;
      })(),
    });
    // 1 and 2 belong to the kept video streams, so audio gets 3.
    expect(out).to.deep.equal({ v: { ssrc: 1, rtxSsrc: 2 }, a: { ssrc: 3 } });
  });

  it('draws real random uint32 values by default', () => {
    const out = chooseLocalSsrcs([{ mid: '0', kind: 'audio' }, { mid: '1', kind: 'video' }]);
    const all = [out['0'].ssrc, out['1'].ssrc, out['1'].rtxSsrc!];
    expect(new Set(all).size).to.equal(3);
    for (const s of all) expect(s).to.be.within(1, 0xffffffff);
  });

  it('formats mediasoup candidates like Janus', () => {
    expect(candidateLine(CANDIDATES[0])).to.equal('candidate:udpcandidate 1 udp 1076302079 203.0.113.7 40001 typ host');
    expect(candidateLine(CANDIDATES[1])).to.equal('candidate:tcpcandidate 1 tcp 1076276479 203.0.113.7 40002 typ host tcptype passive');
  });
});
