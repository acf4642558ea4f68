// The bench's light peer (bench/lib/connect-peer.ts): what its offers carry, and the two SDP
// rules that work around libdatachannel's delays. Connecting it to a server is
// test/bench-scenarios.test.ts's `churn --connect --peer libdatachannel`.

import { expect } from 'chai';
import { ConnectPeer, ipv4CandidatesOnly, isIceLite } from '../bench/lib/connect-peer';
import { BenchFailure } from '../bench/lib/errors';
import { loadOptional } from '../bench/lib/optional-module';
import type { JsonObject } from '../src/plugin/json';

describe('luasfu-bench light peer (libdatachannel)', function () {
  this.timeout(20_000);

  it('keeps IPv4 candidates and every other line, drops IPv6 candidates', () => {
    const sdp = [
      'v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0',
      'a=candidate:1 1 udp 2015363327 192.0.2.2 58287 typ host',
      'a=candidate:2 1 udp 2015363583 fd00::2 33853 typ host',
      'a=candidate:3 1 udp 2015363839 fe80::fc:ff:fe00:1 45816 typ host',
      'a=end-of-candidates', '',
    ].join('\r\n');
    expect(ipv4CandidatesOnly(sdp)).to.equal([
      'v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0',
      'a=candidate:1 1 udp 2015363327 192.0.2.2 58287 typ host',
      'a=end-of-candidates', '',
    ].join('\r\n'));
  });

  it('a peer library that does not load fails with one line naming the fix', () => {
    expect(() => loadOptional('luasfu-no-such-peer-library', (reason) => `needs it (${reason}): npm install it`))
      .to.throw(BenchFailure, /^needs it \(Cannot find module 'luasfu-no-such-peer-library'\): npm install it$/);
  });

  it('tells an ICE-lite answer (mediasoup) from a full-ICE one (Janus)', () => {
    expect(isIceLite('v=0\r\na=ice-lite\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n')).to.equal(true);
    expect(isIceLite('v=0\r\na=ice-options:trickle\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n')).to.equal(false);
  });

  for (const dtlsClient of [false, true]) {
    it(`offers opus and VP8 with SSRCs over IPv4, ${dtlsClient ? 'as the DTLS client (a=setup:active)' : 'either DTLS role (a=setup:actpass)'}, then ends trickling`, async () => {
      const trickled: JsonObject[] = [];
      const peer = new ConnectPeer({ audio: true, video: true }, (candidate) => trickled.push(candidate), dtlsClient);
      try {
        const offer = await peer.offer();
        expect(offer.type).to.equal('offer');
        const lines = offer.sdp.split('\r\n');
        expect(lines.filter((l) => l.startsWith('m=')).map((l) => [l.split(' ')[0], l.split(' ').slice(2).join(' ')])).to.deep.equal([
          ['m=audio', 'UDP/TLS/RTP/SAVPF 111'], ['m=video', 'UDP/TLS/RTP/SAVPF 96'],
        ]);
        expect(lines.some((l) => l === 'a=rtpmap:111 opus/48000/2')).to.equal(true);
        expect(lines.some((l) => l === 'a=rtpmap:96 VP8/90000')).to.equal(true);
        expect(lines.filter((l) => /^a=ssrc:\d+ cname:/.test(l))).to.have.length(2);
        const candidates = lines.filter((l) => l.startsWith('a=candidate:'));
        expect(candidates).to.not.be.empty;
        for (const candidate of candidates) expect(candidate.split(' ')[4]).to.match(/^\d+\.\d+\.\d+\.\d+$/);
        const setups = lines.filter((l) => l.startsWith('a=setup:'));
        expect(setups).to.have.length(2);
        for (const setup of setups) expect(setup).to.equal(dtlsClient ? 'a=setup:active' : 'a=setup:actpass');
        expect(trickled).to.deep.equal([{ completed: true }]);
      } finally {
        peer.close();
      }
    });
  }
});
