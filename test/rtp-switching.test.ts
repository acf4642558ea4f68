// The RTP switching context (src/media/rtp/switching.ts) that keeps recordings continuous.

import { expect } from 'chai';
import { RtpSwitchingContext } from '../src/media/rtp/switching';
import { buildRtpPacket } from './support/rtp-packet';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('rtp: switching context', () => {
  const pkt = (ssrc: number, seq: number, ts: number, pt = 111): Buffer =>
    buildRtpPacket({ payloadType: pt, sequenceNumber: seq, timestamp: ts, ssrc, payload: hex('00') });

  it('starts at seq 1 / ts 0 and follows the stream (Janus renormalisation)', () => {
    const ctx = new RtpSwitchingContext();
    const a = pkt(1000, 500, 90000);
    const orig = ctx.rewritePacket(a, false, 1_000_000);
    expect(orig).to.deep.equal({ sequenceNumber: 500, timestamp: 90000 });
    expect([a.readUInt16BE(2), a.readUInt32BE(4)]).to.deep.equal([1, 0]);
    const b = pkt(1000, 501, 90960);
    ctx.rewritePacket(b, false, 1_020_000);
    expect([b.readUInt16BE(2), b.readUInt32BE(4)]).to.deep.equal([2, 960]);
  });

  it('re-bases seq to last+1 and advances ts by the wall-clock gap on an SSRC change', () => {
    const ctx = new RtpSwitchingContext();
    ctx.rewrite({ ssrc: 1, sequenceNumber: 100, timestamp: 5000, payloadType: 111 }, false, 1_000_000);
    ctx.rewrite({ ssrc: 1, sequenceNumber: 101, timestamp: 5960, payloadType: 111 }, false, 1_020_000);
    // 50 ms later a new SSRC with unrelated numbering: 48 kHz * 50 ms = 2400
    const r = ctx.rewrite({ ssrc: 2, sequenceNumber: 40000, timestamp: 123456, payloadType: 111 }, false, 1_070_000);
    expect(r).to.deep.equal({ sequenceNumber: 3, timestamp: 960 + 2400, ssrcChanged: true });
    const r2 = ctx.rewrite({ ssrc: 2, sequenceNumber: 40001, timestamp: 123456 + 960, payloadType: 111 }, false, 1_090_000);
    expect(r2).to.deep.equal({ sequenceNumber: 4, timestamp: 960 + 2400 + 960, ssrcChanged: false });
  });

  it('uses 8 kHz for PT 0/8/9 and 90 kHz for video', () => {
    const g711 = new RtpSwitchingContext();
    g711.rewrite({ ssrc: 1, sequenceNumber: 1, timestamp: 0, payloadType: 0 }, false, 1_000_000);
    expect(g711.rewrite({ ssrc: 2, sequenceNumber: 9, timestamp: 77, payloadType: 0 }, false, 1_100_000).timestamp).to.equal(800);
    const video = new RtpSwitchingContext();
    video.rewrite({ ssrc: 1, sequenceNumber: 1, timestamp: 0, payloadType: 96 }, true, 1_000_000);
    expect(video.rewrite({ ssrc: 2, sequenceNumber: 9, timestamp: 77, payloadType: 96 }, true, 1_100_000)).to.deep.equal({
      sequenceNumber: 2,
      timestamp: 9000,
      ssrcChanged: true,
    });
    // audio state is separate from video state
    expect(video.rewrite({ ssrc: 2, sequenceNumber: 9, timestamp: 77, payloadType: 111 }, false, 1_100_000).sequenceNumber).to.equal(1);
  });

  it('wraps seq and ts, advances at least 1 tick, and can skip or reset seq', () => {
    const ctx = new RtpSwitchingContext();
    ctx.rewrite({ ssrc: 1, sequenceNumber: 10, timestamp: 10, payloadType: 96 }, true, 5);
    // ts goes back past zero: renormalised ts wraps modulo 2^32
    expect(ctx.rewrite({ ssrc: 1, sequenceNumber: 9, timestamp: 0, payloadType: 96 }, true, 6).timestamp).to.equal(0xfffffff6);
    // seq jumps backwards: wraps modulo 2^16
    expect(ctx.rewrite({ ssrc: 1, sequenceNumber: 8, timestamp: 0, payloadType: 96 }, true, 7).sequenceNumber).to.equal(0xffff);
    // same instant, new SSRC: ts advances by the minimum of 1
    expect(ctx.rewrite({ ssrc: 3, sequenceNumber: 1, timestamp: 1, payloadType: 96 }, true, 7)).to.deep.equal({
      sequenceNumber: 0,
      timestamp: 0xfffffff7,
      ssrcChanged: true,
    });
    ctx.skipSequenceNumber(true); // a dropped packet (seq 2) leaves no gap
    expect(ctx.rewrite({ ssrc: 3, sequenceNumber: 3, timestamp: 1, payloadType: 96 }, true, 8).sequenceNumber).to.equal(1);
    ctx.resetSeq(true);
    expect(ctx.rewrite({ ssrc: 3, sequenceNumber: 900, timestamp: 1, payloadType: 96 }, true, 9).sequenceNumber).to.equal(2);
    ctx.reset();
    expect(ctx.rewrite({ ssrc: 3, sequenceNumber: 900, timestamp: 1, payloadType: 96 }, true, 10)).to.deep.equal({
      sequenceNumber: 1,
      timestamp: 0,
      ssrcChanged: true,
    });
  });
});
