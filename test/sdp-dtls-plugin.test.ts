// DTLS role helpers and the pushEvent-time inspection of a script's SDP.
import { expect } from 'chai';
import { JanusError } from '../src/janus/errors';
import { answererDtlsRole, remoteDtlsRole, setupForRole } from '../src/media/sdp/dtls';
import { inspectPluginSdp } from '../src/media/sdp/plugin-sdp';
import { clientJsepForScript } from '../src/media/sdp/client-sdp';
import { mergeLocalSdp } from '../src/media/sdp/merge';
import { readSdpFixture, sdpLines } from './fixtures/sdp/fixtures';

describe('DTLS roles', () => {
  it('we answer active (DTLS client) unless the client offered active', () => {
    expect(answererDtlsRole('actpass')).to.equal('client');
    expect(answererDtlsRole(undefined)).to.equal('client');
    expect(answererDtlsRole('passive')).to.equal('client');
    expect(answererDtlsRole('active')).to.equal('server');
    expect(setupForRole('client')).to.equal('active');
    expect(setupForRole('server')).to.equal('passive');
  });

  it("transport.connect() gets the client's role", () => {
    expect(remoteDtlsRole({ weOffered: false, ourRole: 'client' })).to.equal('server');
    expect(remoteDtlsRole({ weOffered: false, ourRole: 'server' })).to.equal('client');
    expect(remoteDtlsRole({ weOffered: true, clientSetup: 'active' })).to.equal('client');
    expect(remoteDtlsRole({ weOffered: true, clientSetup: 'passive' })).to.equal('server');
    // Chromium answered our recorded offer with a=setup:active.
    const answer = clientJsepForScript({ type: 'answer', sdp: readSdpFixture('chrome-answer-to-subscriber-offer.sdp') }).client;
    expect(remoteDtlsRole({ weOffered: true, clientSetup: answer.setup })).to.equal('client');
  });
});

describe('inspectPluginSdp (pushEvent)', () => {
  it('records the first video codec of a script answer', () => {
    expect(inspectPluginSdp(readSdpFixture('lua-echotest-answer-chrome.sdp'))).to.deep.equal({ firstVideoCodec: 'vp8', simulcastCapable: true });
    const vp9 = readSdpFixture('lua-echotest-answer-chrome.sdp').replace('a=rtpmap:96 VP8/90000', 'a=rtpmap:96 VP9/90000');
    expect(inspectPluginSdp(vp9)).to.deep.equal({ firstVideoCodec: 'vp9', simulcastCapable: false });
    const audioOnly = 'v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n';
    expect(inspectPluginSdp(audioOnly)).to.deep.equal({ simulcastCapable: true });
  });

  it('throws JanusError 465 when the SDP does not parse', () => {
    expect(() => inspectPluginSdp('{"not":"sdp"}')).to.throw(JanusError).with.property('code', 465);
  });
});

describe('merge: session attributes a script copied from the client are not duplicated', () => {
  it('a client a=ice-lite that survives anonymisation and generateAnswer appears once', () => {
    const client = clientJsepForScript({ type: 'offer', sdp: readSdpFixture('chrome-offer.sdp') }).client;
    const answer = readSdpFixture('lua-echotest-answer-chrome.sdp').replace('t=0 0\r\n', 't=0 0\r\na=ice-lite\r\na=x-custom\r\n');
    const lines = sdpLines(
      mergeLocalSdp(answer, {
        type: 'answer',
        announcedIp: '127.0.0.1',
        iceParameters: { usernameFragment: 'u', password: 'p' },
        iceCandidates: [],
        dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] },
        client,
        localSsrcs: {},
      }).sdp,
    );
    expect(lines.slice(4, 11)).to.deep.equal([
      'a=group:BUNDLE 0 1 2',
      'a=ice-options:trickle',
      'a=fingerprint:sha-256 AA',
      'a=extmap-allow-mixed',
      'a=msid-semantic: WMS *',
      'a=ice-lite',
      'a=x-custom',
    ]);
    expect(lines.filter((l) => l === 'a=ice-lite').length).to.equal(1);
  });
});
