// SDP rules kept in one place each: the negotiated video codec a script session records
// (janus_sdp_find_first_codec) and our DTLS role (Janus answers active).

import { expect } from 'chai';
import { ourDtlsRole } from '../src/media/sdp/client-sdp';
import { firstVideoCodec } from '../src/script/host-calls';

/** An SDP with these m-line blocks after a minimal session part. */
const sdp = (...media: string[][]): string =>
  ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', ...media.flat(), ''].join('\r\n');

const audio = ['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'a=sendrecv', 'a=rtpmap:111 opus/48000/2'];
const video = (port: number, pts: string, rtpmaps: string[], direction = 'a=sendrecv'): string[] => [
  `m=video ${port} UDP/TLS/RTP/SAVPF ${pts}`, 'a=mid:1', direction, ...rtpmaps,
];

describe('SDP rules: first video codec', () => {
  it('takes the first payload type of the first video m-line', () => {
    expect(firstVideoCodec(sdp(audio, video(9, '96 97 98', ['a=rtpmap:96 VP8/90000', 'a=rtpmap:97 rtx/90000', 'a=rtpmap:98 H264/90000'])))).to.equal('vp8');
    expect(firstVideoCodec(sdp(video(9, '102 96', ['a=rtpmap:96 VP8/90000', 'a=rtpmap:102 H264/90000'])))).to.equal('h264');
  });

  it('skips a rejected (port 0) or inactive video m-line', () => {
    const rejected = video(0, '96', ['a=rtpmap:96 VP8/90000']);
    const inactive = video(9, '100', ['a=rtpmap:100 AV1/90000'], 'a=inactive');
    const live = video(9, '98', ['a=rtpmap:98 VP9/90000']);
    expect(firstVideoCodec(sdp(audio, rejected, live))).to.equal('vp9');
    expect(firstVideoCodec(sdp(inactive, live))).to.equal('vp9');
    expect(firstVideoCodec(sdp(audio, rejected))).to.equal(undefined);
  });

  it('looks behind RED and past codecs the codec list does not know', () => {
    expect(firstVideoCodec(sdp(video(9, '63 45', ['a=rtpmap:63 red/90000', 'a=rtpmap:45 AV1/90000'])))).to.equal('av1');
    const unknown = video(9, '120', ['a=rtpmap:120 theora/90000']);
    expect(firstVideoCodec(sdp(unknown, video(9, '96', ['a=rtpmap:96 VP8/90000'])))).to.equal('vp8');
    expect(firstVideoCodec(sdp(unknown))).to.equal(undefined);
    expect(firstVideoCodec(sdp(audio))).to.equal(undefined);
  });
});

describe('SDP rules: DTLS role', () => {
  it('is the DTLS client unless the client took active', () => {
    expect(ourDtlsRole('actpass')).to.equal('client');
    expect(ourDtlsRole('passive')).to.equal('client');
    expect(ourDtlsRole(undefined)).to.equal('client');
    expect(ourDtlsRole('active')).to.equal('server');
  });
});
