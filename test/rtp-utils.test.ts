import { expect } from 'chai';
import {
  buildFir,
  buildPli,
  buildRemb,
  buildRtpPacket,
  encodeRembBitrate,
  filterRtcpForRelay,
  getRembBitrate,
  getRtpExtension,
  hasFir,
  hasPli,
  isH264Keyframe,
  isKeyframe,
  isRtcp,
  isVp8Keyframe,
  isVp9Keyframe,
  parseRemb,
  parseRtcpCompound,
  parseRtpHeader,
  parseVp8Descriptor,
  removeRtpExtension,
  RtpSwitchingContext,
  setRtpExtension,
  stripRtpExtensions,
  summarizeRtcpFeedback,
  vp8KeyframeSize,
  writeVp8Descriptor,
} from '../src/media/rtp';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('rtp: header parsing', () => {
  it('parses a packet with CSRCs, a one-byte extension block and padding', () => {
    // V=2 P=1 X=1 CC=1 | M=1 PT=111 | seq 0x1234 | ts 0xdeadbeef | ssrc 0x01020304 | csrc
    // 0x0a0b0c0d | BEDE len=2 words: id1 len1 (aa bb), id3 len0 (cc), pad 0, then 0,0,0
    // payload f8 ff fe, then 2 padding bytes (00 02)
    const p = hex('b1 ef 1234 deadbeef 01020304 0a0b0c0d bede0002 11aabb 30cc 00 0000 f8fffe 0002');
    const h = parseRtpHeader(p)!;
    expect(h).to.not.equal(null);
    expect(h.version).to.equal(2);
    expect(h.padding).to.equal(true);
    expect(h.marker).to.equal(true);
    expect(h.payloadType).to.equal(111);
    expect(h.sequenceNumber).to.equal(0x1234);
    expect(h.timestamp).to.equal(0xdeadbeef);
    expect(h.ssrc).to.equal(0x01020304);
    expect(h.csrcs).to.deep.equal([0x0a0b0c0d]);
    expect(h.extensionProfile).to.equal(0xbede);
    expect(h.extensions.map((e) => [e.id, e.value.toString('hex')])).to.deep.equal([
      [1, 'aabb'],
      [3, 'cc'],
    ]);
    expect(h.headerLength).to.equal(12 + 4 + 4 + 8);
    expect(h.paddingLength).to.equal(2);
    expect(p.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength).toString('hex')).to.equal('f8fffe');
  });

  it('parses two-byte extensions (0x1000) including a zero-length element', () => {
    const p = hex('90 60 0001 00000002 00000003 10000002 0500 0702abcd 0000 11');
    const h = parseRtpHeader(p)!;
    expect(h.extensionProfile).to.equal(0x1000);
    expect(h.extensions.map((e) => [e.id, e.value.toString('hex')])).to.deep.equal([
      [5, ''],
      [7, 'abcd'],
    ]);
    expect(p.subarray(h.payloadOffset).toString('hex')).to.equal('11');
  });

  it('rejects malformed packets', () => {
    expect(parseRtpHeader(hex('80 60 0001 00000002'))).to.equal(null); // too short
    expect(parseRtpHeader(hex('40 60 0001 00000002 00000003'))).to.equal(null); // version 1
    expect(parseRtpHeader(hex('81 60 0001 00000002 00000003'))).to.equal(null); // CSRC missing
    expect(parseRtpHeader(hex('90 60 0001 00000002 00000003 bede0002 1122'))).to.equal(null); // ext overrun
    expect(parseRtpHeader(hex('90 60 0001 00000002 00000003 bede0001 3aaa0000'))).to.equal(null); // element overrun
    expect(parseRtpHeader(hex('a0 60 0001 00000002 00000003 05'))).to.equal(null); // padding > size
  });

  it('tells RTCP from RTP on a muxed port', () => {
    expect(isRtcp(buildPli(1, 2))).to.equal(true);
    expect(isRtcp(hex('80 e0 0001 00000002 00000003'))).to.equal(false); // M=1, PT=96
    expect(isRtcp(hex('80 c8 0006'))).to.equal(true); // SR
  });
});

describe('rtp: header extensions', () => {
  const base = buildRtpPacket({
    payloadType: 96,
    sequenceNumber: 7,
    timestamp: 9,
    ssrc: 0x11223344,
    extensions: [
      { id: 1, value: hex('aa') },
      { id: 4, value: hex('313233') },
    ],
    payload: hex('cafe'),
  });

  it('builds one-byte blocks padded to 32 bits', () => {
    expect(base.toString('hex')).to.equal('90600007000000091122334' + '4' + 'bede0002' + '10aa' + '42313233' + '0000' + 'cafe');
    expect(getRtpExtension(base, 4)!.toString()).to.equal('123');
    expect(getRtpExtension(base, 2)).to.equal(undefined);
  });

  it('strips every extension and clears X', () => {
    expect(stripRtpExtensions(base).toString('hex')).to.equal('80600007000000091122334' + '4' + 'cafe');
  });

  it('replaces, appends and removes one extension', () => {
    const replaced = setRtpExtension(base, 1, hex('bbcc'));
    expect(replaced.toString('hex')).to.equal('90600007000000091122334' + '4' + 'bede0002' + '11bbcc' + '42313233' + '00' + 'cafe');
    const appended = setRtpExtension(base, 3, hex('01'));
    expect(parseRtpHeader(appended)!.extensions.map((e) => e.id)).to.deep.equal([1, 4, 3]);
    const removed = removeRtpExtension(base, 1);
    expect(removed.toString('hex')).to.equal('90600007000000091122334' + '4' + 'bede0001' + '42313233' + 'cafe');
    expect(removeRtpExtension(removed, 4).toString('hex')).to.equal('80600007000000091122334' + '4' + 'cafe');
  });

  it('switches to the two-byte form for ids above 14 or long values', () => {
    const p = setRtpExtension(base, 20, hex('0102'));
    expect(p.toString('hex')).to.equal(
      '90600007000000091122334' + '4' + '10000003' + '0101aa' + '0403313233' + '14020102' + 'cafe',
    );
    expect(getRtpExtension(p, 20)!.toString('hex')).to.equal('0102');
  });
});

describe('rtcp: feedback parsing and builders', () => {
  it('builds a PLI with the exact RFC 4585 layout', () => {
    expect(buildPli(0x01020304, 0x0a0b0c0d).toString('hex')).to.equal('81ce0002010203040a0b0c0d');
  });

  it('builds a FIR with one FCI entry', () => {
    expect(buildFir(1, 0xaabbccdd, 5).toString('hex')).to.equal('84ce0004' + '00000001' + '00000000' + 'aabbccdd' + '05000000');
  });

  it('encodes REMB bitrates like Janus (smallest exponent)', () => {
    expect(encodeRembBitrate(256000)).to.deep.equal({ exp: 0, mantissa: 256000 });
    expect(encodeRembBitrate(10_000_000)).to.deep.equal({ exp: 6, mantissa: 156250 });
    expect(encodeRembBitrate(0x3ffff + 1)).to.deep.equal({ exp: 1, mantissa: 0x20000 });
    // 10 Mbps for SSRC 0x11223344: 8f ce 0005 | sender 0 | media 0 | REMB | 01 | exp 6 -> 0x18 | mantissa 156250 = 0x2625a
    expect(buildRemb(10_000_000, [0x11223344]).toString('hex')).to.equal(
      '8fce0005' + '00000000' + '00000000' + '52454d42' + '01' + '1a' + '625a' + '11223344',
    );
  });

  it('finds PLI, FIR and REMB in a compound and ignores a truncated tail', () => {
    const rr = hex('81c90007 00000001 00000002 00000000 00000000 00000000 00000000 00000000');
    const compound = Buffer.concat([rr, buildRemb(1_500_000, [7, 8]), buildPli(1, 2), hex('81ce0005 0000')]);
    const packets = parseRtcpCompound(compound);
    expect(packets.map((p) => [p.packetType, p.count, p.bytes.length])).to.deep.equal([
      [201, 1, 32],
      [206, 15, 28],
      [206, 1, 12],
    ]);
    expect(parseRemb(packets[1])).to.deep.equal({ bitrate: 1_500_000, ssrcs: [7, 8] });
    expect(summarizeRtcpFeedback(compound)).to.deep.equal({ pli: true, fir: false, remb: 1_500_000 });
    expect(hasPli(rr)).to.equal(false);
    expect(hasFir(buildFir(1, 2, 3))).to.equal(true);
    expect(hasPli(buildFir(1, 2, 3))).to.equal(false);
    expect(getRembBitrate(rr)).to.equal(null);
  });

  it('filters relayed RTCP like janus_rtcp_filter', () => {
    const sr = hex('80c80006 00000001 00000000 00000000 00000000 00000000 00000000');
    const sdes = hex('81ca0002 00000001 00000000');
    const nack = hex('81cd0003 00000001 00000002 00050000');
    const twcc = hex('8fcd0002 00000001 00000002');
    const bye = hex('81cb0001 00000001');
    const pli = buildPli(1, 2);
    const remb = buildRemb(300000, [2]);
    const out = filterRtcpForRelay(Buffer.concat([sr, sdes, pli, nack, twcc, remb, bye]));
    expect(out!.toString('hex')).to.equal(Buffer.concat([pli, twcc, remb, bye]).toString('hex'));
    expect(filterRtcpForRelay(Buffer.concat([sr, sdes]))).to.equal(null);
    expect(filterRtcpForRelay(Buffer.concat([pli, hex('81ce0005 0000')]))).to.equal(null); // truncated
    // a header-only packet ends the compound
    expect(filterRtcpForRelay(Buffer.concat([pli, hex('80cc0000'), bye]))!.toString('hex')).to.equal(pli.toString('hex'));
  });

  it('does not take a non-REMB application feedback for a REMB', () => {
    const afb = buildRemb(1000, [1]);
    afb.write('XXXX', 12, 'latin1');
    expect(getRembBitrate(afb)).to.equal(null);
  });
});

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

describe('rtp: codec payloads', () => {
  // VP8: descriptor X=1,S=1 | I=1,L=1,T=1,K=1 | M=1 picture id 0x1234 | tl0picidx 7 |
  // tid 2, Y=1, keyidx 3 | frame tag (P=0) 3 bytes | start code | 640x480
  const vp8Key = hex('90 f0 9234 07 a3 500100 9d012a 8002 e001 00000000');
  const vp8Inter = hex('90 f0 9234 07 a3 510100 9d012a 8002 e001 00000000');

  it('parses the VP8 payload descriptor', () => {
    expect(parseVp8Descriptor(vp8Key)).to.deep.equal({
      nonReference: false,
      startOfPartition: true,
      partitionId: 0,
      pictureId: 0x1234,
      pictureIdBits: 15,
      pictureIdOffset: 2,
      tl0PicIdx: 7,
      tl0PicIdxOffset: 4,
      temporalLayer: 2,
      layerSync: true,
      keyIdx: 3,
      length: 6,
    });
    expect(parseVp8Descriptor(hex('10'))).to.deep.equal({ nonReference: false, startOfPartition: true, partitionId: 0, length: 1 });
    expect(parseVp8Descriptor(hex('90 80'))).to.equal(null);
  });

  it('rewrites picture id and TL0PICIDX in place', () => {
    const p = Buffer.from(vp8Key);
    expect(writeVp8Descriptor(p, { pictureId: 0x8001, tl0PicIdx: 0x1ff })).to.equal(true);
    expect(p.subarray(0, 6).toString('hex')).to.equal('90f08001ffa3');
    const short = hex('90 80 05 10');
    expect(writeVp8Descriptor(short, { pictureId: 0x86 })).to.equal(true); // 7-bit field keeps 7 bits
    expect(short.toString('hex')).to.equal('90800610');
    expect(writeVp8Descriptor(short, { tl0PicIdx: 1 })).to.equal(false);
  });

  it('detects VP8 keyframes and their size', () => {
    expect(vp8KeyframeSize(vp8Key)).to.deep.equal({ width: 640, height: 480 });
    expect(isVp8Keyframe(vp8Inter)).to.equal(false);
    const notStart = Buffer.from(vp8Key);
    notStart[0] = 0x80; // S=0: continuation packet
    expect(isVp8Keyframe(notStart)).to.equal(false);
    expect(isKeyframe('VP8', vp8Key)).to.equal(true);
  });

  it('detects VP9 keyframes through the scalability structure', () => {
    // I=1 (7-bit pid 5) B=1 E=1 V=1 | SS: N_S=0 Y=1 G=0 | 320x240
    const key = hex('8e 05 10 0140 00f0 00000000');
    expect(isVp9Keyframe(key)).to.equal(true);
    expect(isKeyframe('vp9', key)).to.equal(true);
    const noSs = hex('8c 05 00000000000000000000');
    expect(isVp9Keyframe(noSs)).to.equal(false);
    const zeroSize = hex('8e 05 10 0000 0000 00000000');
    expect(isVp9Keyframe(zeroSize)).to.equal(false);
  });

  it('detects H.264 keyframes by SPS (single NAL, STAP-A, FU-A)', () => {
    expect(isH264Keyframe(hex('67 42c01f'))).to.equal(true);
    // STAP-A: SEI (2 bytes) then SPS
    expect(isH264Keyframe(hex('18 0002 0601 0003 6742c0'))).to.equal(true);
    // STAP-A with only PPS
    expect(isH264Keyframe(hex('18 0002 68ce'))).to.equal(false);
    // FU-A carrying an SPS / an IDR slice
    expect(isH264Keyframe(hex('7c 87 0000'))).to.equal(true);
    expect(isH264Keyframe(hex('7c 85 0000'))).to.equal(false);
    expect(isH264Keyframe(hex('41 9a'))).to.equal(false);
    expect(isKeyframe('opus', hex('67 42c01f'))).to.equal(false);
  });
});
