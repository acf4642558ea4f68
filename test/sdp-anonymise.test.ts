// Anonymisation of client SDPs (docs/contract.md §3.1) over recorded offers, and the jsep the
// script receives.
import { expect } from 'chai';
import { InvalidSdpError } from '../src/plugin/media-errors';
import { anonymiseClientSdp } from '../src/media/sdp/anonymise';
import { clientJsepForScript, extractClientSdp } from '../src/media/sdp/client-sdp';
import { readSdpFixture, sdpLines } from './fixtures/sdp/fixtures';

/** True when `sub` appears in `all` in the same relative order. */
function isSubsequence(sub: readonly string[], all: readonly string[]): boolean {
  let i = 0;
  for (const line of all) if (i < sub.length && sub[i] === line) i++;
  return i === sub.length;
}

describe('sdp anonymisation (docs/contract.md §3.1)', () => {
  const chrome = readSdpFixture('chrome-offer.sdp');
  const out = anonymiseClientSdp(chrome);
  const lines = sdpLines(out);

  it('ends every line with CRLF and has no bare LF', () => {
    expect(out.endsWith('\r\n')).to.equal(true);
    expect(out.replace(/\r\n/g, '')).to.not.include('\n');
  });

  it('Chrome offer: session lines are exactly v/o(1.1.1.1)/s/t, session attributes removed', () => {
    expect(lines.slice(0, 5)).to.deep.equal([
      'v=0',
      'o=- 7108948003333672339 2 IN IP4 1.1.1.1',
      's=-',
      't=0 0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
    ]);
  });

  it('Chrome offer: the audio section, line by line', () => {
    const start = lines.indexOf('m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126');
    const end = lines.findIndex((l) => l.startsWith('m=video'));
    expect(lines.slice(start, end)).to.deep.equal([
      'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
      'c=IN IP4 1.1.1.1',
      'a=sendrecv',
      'a=mid:0',
      'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
      'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
      'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
      'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
      'a=msid:d1439826-9b50-4ae6-a7ae-a97e12228294 da38ebba-66d0-4bc5-9ef0-7e1da2f2f702',
      'a=rtcp-xr:rcvr-rtt=all',
      'a=rtpmap:111 opus/48000/2',
      'a=rtcp-fb:111 transport-cc',
      'a=fmtp:111 minptime=10;useinbandfec=1',
      // Audio RED stays (only red/90000 is purged).
      'a=rtpmap:63 red/48000/2',
      'a=fmtp:63 111/111',
      'a=rtpmap:9 G722/8000',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:13 CN/8000',
      'a=rtpmap:110 telephone-event/48000',
      'a=rtpmap:126 telephone-event/8000',
    ]);
  });

  it('Chrome offer: video keeps only media PTs (rtx, red, ulpfec gone with all their lines)', () => {
    const video = lines.slice(lines.findIndex((l) => l.startsWith('m=video')), lines.findIndex((l) => l.startsWith('m=application')));
    expect(video[0]).to.equal('m=video 9 UDP/TLS/RTP/SAVPF 96 102 104 108 114 116 39 45 98 100');
    expect(video.slice(1, 4)).to.deep.equal(['c=IN IP4 1.1.1.1', 'a=sendrecv', 'a=mid:1']);
    for (const pt of [97, 103, 107, 109, 115, 117, 40, 46, 99, 101, 118, 119, 120]) {
      expect(video.filter((l) => new RegExp(`^a=(rtpmap|fmtp|rtcp-fb):${pt} `).test(l)), `PT ${pt}`).to.deep.equal([]);
    }
    expect(video.filter((l) => l.startsWith('a=rtpmap:'))).to.deep.equal([
      'a=rtpmap:96 VP8/90000',
      'a=rtpmap:102 H264/90000',
      'a=rtpmap:104 H264/90000',
      'a=rtpmap:108 H264/90000',
      'a=rtpmap:114 H264/90000',
      'a=rtpmap:116 H264/90000',
      'a=rtpmap:39 H264/90000',
      'a=rtpmap:45 AV1/90000',
      'a=rtpmap:98 VP9/90000',
      'a=rtpmap:100 VP9/90000',
    ]);
    expect(video.filter((l) => l.startsWith('a=extmap:')).length).to.equal(11);
    // m, c, direction, mid, 11 extmaps, msid, rtcp-xr; VP8 6 lines; 6 x H264, AV1, 2 x VP9 at 7 lines each.
    expect(video.length).to.equal(17 + 6 + 9 * 7);
  });

  it('Chrome offer: the data section is m/c/mid only', () => {
    expect(lines.slice(lines.findIndex((l) => l.startsWith('m=application')))).to.deep.equal([
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'c=IN IP4 1.1.1.1',
      'a=mid:2',
    ]);
  });

  it('Chrome offer: nothing transport-related survives; the rest keeps its order', () => {
    for (const bad of ['a=ice-', 'a=fingerprint', 'a=setup', 'a=ssrc', 'a=rtcp:', 'a=rtcp-mux', 'a=rtcp-rsize', 'a=group', 'a=msid-semantic', 'a=extmap-allow-mixed', 'a=candidate', 'a=sctp-port', 'a=max-message-size']) {
      expect(lines.filter((l) => l.startsWith(bad)), bad).to.deep.equal([]);
    }
    const rewritten = (l: string): boolean => /^(o|c|m)=/.test(l) || l === 'a=sendrecv';
    expect(isSubsequence(lines.filter((l) => !rewritten(l)), sdpLines(chrome))).to.equal(true);
    expect(lines.length).to.equal(4 + 21 + 86 + 3);
  });

  it('Firefox offer: PTs 109/120 numbering kept, rtx/red/ulpfec gone, media extmap-allow-mixed kept', () => {
    const ff = sdpLines(anonymiseClientSdp(readSdpFixture('firefox-offer.sdp')));
    expect(ff[1]).to.match(/^o=mozilla\.\.\.THIS_IS_SDPARTA-99\.0 \d+ 0 IN IP4 1\.1\.1\.1$/);
    expect(ff.slice(2, 5)).to.deep.equal(['s=-', 't=0 0', 'a=sendrecv']);
    expect(ff).to.include('m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101');
    expect(ff).to.include('m=video 9 UDP/TLS/RTP/SAVPF 120 121 99');
    expect(ff).to.include('a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level');
    expect(ff.filter((l) => l === 'a=extmap-allow-mixed').length).to.equal(2);
    expect(ff.filter((l) => /^a=(rtpmap|fmtp|rtcp-fb):(124|125|100|123|122|119) /.test(l))).to.deep.equal([]);
  });

  it('second data m-line and unsupported m-lines get port 0 and keep only mid', () => {
    const base = readSdpFixture('chrome-offer.sdp');
    const extra =
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:3\r\na=sctp-port:5000\r\n' +
      'm=text 9 RTP/AVP 98\r\nc=IN IP4 0.0.0.0\r\na=mid:4\r\na=rtpmap:98 t140/1000\r\n';
    const anon = sdpLines(anonymiseClientSdp(base + extra));
    expect(anon.slice(anon.indexOf('m=application 9 UDP/DTLS/SCTP webrtc-datachannel'))).to.deep.equal([
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'c=IN IP4 1.1.1.1',
      'a=mid:2',
      'm=application 0 UDP/DTLS/SCTP webrtc-datachannel',
      'c=IN IP4 1.1.1.1',
      'a=mid:3',
      'm=text 0 RTP/AVP 98',
      'c=IN IP4 1.1.1.1',
      'a=mid:4',
    ]);
  });

  it('IPv6 origin, session c= and encrypted extmaps', () => {
    const sdp =
      'v=0\r\no=- 5 7 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n' +
      'm=audio 50000 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP6 2001:db8::1\r\n' +
      'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n' +
      'a=extmap:5 urn:ietf:params:rtp-hdrext:encrypt urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n' +
      'a=rtpmap:111 opus/48000/2\r\na=recvonly\r\n';
    expect(anonymiseClientSdp(sdp)).to.equal(
      'v=0\r\no=- 5 7 IN IP4 1.1.1.1\r\ns=-\r\nc=IN IP4 1.1.1.1\r\nt=0 0\r\n' +
        'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 1.1.1.1\r\na=recvonly\r\n' +
        'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=rtpmap:111 opus/48000/2\r\n',
    );
  });

  it('throws InvalidSdpError for garbage', () => {
    expect(() => anonymiseClientSdp('garbage')).to.throw(InvalidSdpError, 'invalid SDP (no v= line)');
  });
});

describe('the jsep a script receives (clientJsepForScript)', () => {
  it('Chrome rid simulcast: rids high..low with the rid extension id', () => {
    const { jsep, client } = clientJsepForScript({ type: 'offer', sdp: readSdpFixture('chrome-simulcast-offer.sdp') });
    expect(jsep.type).to.equal('offer');
    expect(jsep.simulcast).to.deep.equal([{ mindex: 1, mid: '1', rids: ['h', 'm', 'l'], 'rid-ext': 10 }]);
    expect(jsep.update).to.equal(undefined);
    expect(jsep.e2ee).to.equal(undefined);
    expect(jsep.sdp).to.equal(anonymiseClientSdp(readSdpFixture('chrome-simulcast-offer.sdp')));
    expect(client.media[1].encodings).to.deep.equal([{ rid: 'l' }, { rid: 'm' }, { rid: 'h' }]);
  });

  it("rid_order 'lmh' reverses the client's list", () => {
    const { jsep, client } = clientJsepForScript({ type: 'offer', sdp: readSdpFixture('chrome-simulcast-offer.sdp'), rid_order: 'lmh' });
    expect(jsep.simulcast).to.deep.equal([{ mindex: 1, mid: '1', rids: ['l', 'm', 'h'], 'rid-ext': 10 }]);
    expect(client.media[1].encodings).to.deep.equal([{ rid: 'h' }, { rid: 'm' }, { rid: 'l' }]);
  });

  it('Firefox rid simulcast: rid-ext 9', () => {
    const { jsep } = clientJsepForScript({ type: 'offer', sdp: readSdpFixture('firefox-simulcast-offer.sdp') });
    expect(jsep.simulcast).to.deep.equal([{ mindex: 1, mid: '1', rids: ['h', 'm', 'l'], 'rid-ext': 9 }]);
  });

  it('libwebrtc SSRC simulcast (SIM group): ssrcs low..high', () => {
    const { jsep } = clientJsepForScript({ type: 'offer', sdp: readSdpFixture('wrtc-ssrc-simulcast-offer.sdp') });
    expect(jsep.simulcast).to.deep.equal([{ mindex: 1, mid: '1', ssrcs: [655245656, 655246656, 655247656] }]);
  });

  it('no simulcast key without simulcast; update and e2ee pass through', () => {
    const { jsep } = clientJsepForScript({ type: 'offer', sdp: readSdpFixture('chrome-offer.sdp'), e2ee: true }, { update: true });
    expect(Object.keys(jsep).sort()).to.deep.equal(['e2ee', 'sdp', 'type', 'update']);
    expect(jsep.e2ee).to.equal(true);
    expect(jsep.update).to.equal(true);
  });

  it('throws InvalidSdpError for an SDP without ICE credentials or fingerprint', () => {
    const noIce = readSdpFixture('chrome-offer.sdp').replace(/a=ice-(ufrag|pwd):[^\r]*\r\n/g, '');
    expect(() => clientJsepForScript({ type: 'offer', sdp: noIce })).to.throw(InvalidSdpError, 'missing ICE credentials');
    const noFp = readSdpFixture('chrome-offer.sdp').replace(/a=fingerprint:[^\r]*\r\n/g, '');
    expect(() => clientJsepForScript({ type: 'offer', sdp: noFp })).to.throw(InvalidSdpError, 'missing DTLS fingerprint');
    // A hash the media plane cannot check the certificate with fails the offer, not the call later.
    const md5 = readSdpFixture('chrome-offer.sdp').replace(/a=fingerprint:sha-256 /g, 'a=fingerprint:md5 ');
    expect(() => clientJsepForScript({ type: 'offer', sdp: md5 })).to.throw(InvalidSdpError, 'unsupported DTLS fingerprint hash');
    const sha512 = readSdpFixture('chrome-offer.sdp').replace(/a=fingerprint:sha-256 /g, 'a=fingerprint:SHA-512 ');
    expect(clientJsepForScript({ type: 'offer', sdp: sha512 }).client.fingerprint.algorithm).to.equal('sha-512');
  });
});

describe('extractClientSdp: transport and per m-line details', () => {
  it('wrtc offer (non-trickle): credentials, fingerprint, setup, candidates per m-line, SCTP', () => {
    const c = extractClientSdp(readSdpFixture('wrtc-offer.sdp'));
    expect([c.setup, c.fingerprint.algorithm, c.iceLite, c.bundle]).to.deep.equal(['actpass', 'sha-256', false, ['0', '1', '2']]);
    expect(c.media.map((m) => [m.mid, m.kind, m.candidates.length, m.endOfCandidates])).to.deep.equal([
      ['0', 'audio', 8, false],
      ['1', 'video', 8, false],
      ['2', 'application', 8, false],
    ]);
    expect(c.media[0].candidates[1]).to.equal('candidate:3229573512 1 udp 2122194687 192.0.2.2 34112 typ host generation 0 network-id 1');
    expect(c.media[2].sctp).to.deep.equal({ port: 5000, legacy: false, maxMessageSize: 262144 });
  });

  it('Chrome offer: msid, cname, FID rtx, extmaps, codecs with apt', () => {
    const c = extractClientSdp(readSdpFixture('chrome-offer.sdp'));
    const v = c.media[1];
    expect(v.msid).to.deep.equal({ streamId: 'd1439826-9b50-4ae6-a7ae-a97e12228294', trackId: 'e7e18ed6-7a7b-47cc-9bdb-1666e6d8f6cc' });
    expect(v.cname).to.equal('kSJ6XBifh5Y7kf3X');
    expect(v.ssrcGroups).to.deep.equal([{ semantics: 'FID', ssrcs: [1539015627, 1746190601] }]);
    expect(v.codecs.find((x) => x.payloadType === 97)).to.deep.equal({
      payloadType: 97, name: 'rtx', mimeType: 'video/rtx', clockRate: 90000, parameters: { apt: 96 }, fmtp: 'apt=96', rtcpFeedback: [],
    });
    expect(v.codecs.find((x) => x.payloadType === 108)?.parameters).to.deep.equal({
      'level-asymmetry-allowed': 1, 'packetization-mode': 1, 'profile-level-id': '42e01f',
    });
    expect(v.extmaps.find((e) => e.id === 13)).to.deep.equal({ id: 13, uri: 'urn:3gpp:video-orientation', encrypted: false });
    expect(c.media[0].codecs.find((x) => x.payloadType === 0)).to.deep.equal({
      payloadType: 0, name: 'PCMU', mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, parameters: {}, rtcpFeedback: [],
    });
  });
});
