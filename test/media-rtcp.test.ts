// The raw path's RTCP rules (src/media/rtcp.ts), as Janus applies them: which medium a user's
// RTCP is about, and how a script's relayed RTCP is filtered and gets its SSRCs fixed. Bytes
// are checked against RFC 3550 / RFC 4585 / RFC 5104 layouts.

import { expect } from 'chai';
import { type UserSsrcs, RtcpParseError, prepareRelayedRtcp, rtcpMedium } from '../src/media/rtcp';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

// The user sends audio 0x0a and video 0x0b (simulcast 0x0b, 0x0c, 0x0d); we send it 0xa0 / 0xb0.
const SSRCS: UserSsrcs = {
  audio: { local: 0xa0, peer: [0x0a] },
  video: { local: 0xb0, peer: [0x0b, 0x0c, 0x0d] },
};

describe('media: raw-path RTCP packets', () => {
  describe('the medium of a user RTCP packet', () => {
    it('is the one of its sender SSRC (an SR from the video stream), else of the SSRC it reports on', () => {
      const sr = hex('80c80006 0000000b' + '00'.repeat(20));
      expect(rtcpMedium(sr, SSRCS)).to.equal('video');
      // A receive-only RR (sender SSRC 1) reporting on our audio stream 0xa0.
      const rr = hex('81c90007 00000001 000000a0' + '00'.repeat(20));
      expect(rtcpMedium(rr, SSRCS)).to.equal('audio');
      // A PLI from SSRC 1 about our video stream.
      expect(rtcpMedium(hex('81ce0002 00000001 000000b0'), SSRCS)).to.equal('video');
    });

    it('is unknown when the packet names no SSRC of the user or ours', () => {
      expect(rtcpMedium(hex('81ce0002 00000001 00000099'), SSRCS)).to.equal(undefined);
      expect(rtcpMedium(hex('00'), SSRCS)).to.equal(undefined);
    });
  });

  describe('a relayed packet', () => {
    it('gets our sender SSRC and the user stream as media SSRC; a video PLI goes to every simulcast stream', () => {
      const { packet, stripped } = prepareRelayedRtcp(hex('81ce0002 00000000 00000000'), SSRCS.video, true);
      expect(stripped).to.equal(0);
      expect(packet!.toString('hex')).to.equal('81ce0002000000b00000000b' + '81ce0002000000b00000000c' + '81ce0002000000b00000000d');
    });

    it('names the user stream in a FIR (media SSRC and FCI), as janus_rtcp_fix_ssrc does', () => {
      const fir = hex('84ce0004 00000000 00000000 00000000 07000000');
      expect(prepareRelayedRtcp(fir, SSRCS.audio, false).packet!.toString('hex')).to.equal('84ce0004000000a00000000a0000000a07000000');
    });

    it('strips SR, RR, SDES, NACK and transport-cc, counting them; an empty RR goes before a REMB', () => {
      const sr = hex('80c80006 00000001' + '00'.repeat(20));
      const rr = hex('80c90001 00000001');
      const sdes = hex('81ca0003 00000001 01027878 00000000');
      const nack = hex('81cd0003 00000001 00000002 00050000');
      const tcc = hex('8fcd0005 00000001 00000002 00010001 00000000 00000000');
      // REMB of 300000 bps naming 2 SSRCs.
      const remb = hex('8fce0006 00000000 00000000 52454d42 0206 49f0 00000005 00000006');
      const { packet, stripped, remb: bitrate } = prepareRelayedRtcp(Buffer.concat([sr, rr, sdes, nack, tcc, remb]), SSRCS.video, true);
      expect(stripped).to.equal(5);
      expect(bitrate).to.equal(300000);
      expect(packet!.toString('hex')).to.equal('80c90001000000b0' + '8fce0006000000b00000000052454d42020649f00000000b0000000c');
    });

    it('leaves nothing to send when everything is stripped', () => {
      const { packet, stripped } = prepareRelayedRtcp(hex('80c90001 00000001'), SSRCS.video, true);
      expect(packet).to.equal(undefined);
      expect(stripped).to.equal(1);
    });

    it('keeps the SSRCs a script wrote when the user has no such medium', () => {
      const none = { local: 0, peer: [] };
      expect(prepareRelayedRtcp(hex('81ce0002 00000007 00000008'), none, true).packet!.toString('hex')).to.equal('81ce00020000000700000008');
    });

    it('refuses what is not RTCP', () => {
      expect(() => prepareRelayedRtcp(hex('8060000100000000deadbeef'), SSRCS.video, true)).to.throw(RtcpParseError);
      expect(() => prepareRelayedRtcp(Buffer.alloc(3), SSRCS.video, true)).to.throw(RtcpParseError);
    });
  });
});
