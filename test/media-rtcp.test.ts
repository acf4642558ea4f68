// The raw path's RTCP rules (src/media/rtcp.ts): the packets incomingRtcp gets and how a
// script's relayed RTCP is read. Bytes are checked against RFC 4585 / RFC 5104 layouts.

import { expect } from 'chai';
import { KeyFrameRequestWriter, RtcpParseError, readRelayedRtcp } from '../src/media/rtcp';

describe('media: raw-path RTCP packets', () => {
  it('writes a PLI (PT 206 FMT 1) naming the stream, and FIRs (PT 206 FMT 4) with increasing sequence numbers', () => {
    const writer = new KeyFrameRequestWriter();
    expect(writer.write('pli', 0x11223344).toString('hex')).to.equal('81ce0002' + '00000000' + '11223344');
    expect(writer.write('fir', 0x55667788).toString('hex')).to.equal('84ce0004' + '00000000' + '00000000' + '55667788' + '00000000');
    expect(writer.write('fir', 0x55667788).toString('hex')).to.equal('84ce0004' + '00000000' + '00000000' + '55667788' + '01000000');
  });

  it('reads PLI, FIR and REMB in a compound packet; anything else is unsupported', () => {
    const writer = new KeyFrameRequestWriter();
    // REMB: 150000 × 2^3 = 1.2 Mbps for one SSRC.
    const remb = Buffer.from('8fce0005' + '00000001' + '00000000' + '52454d42' + '010e49f0' + '00000002', 'hex');
    const sr = Buffer.from('80c80006' + '00000001' + '0'.repeat(40), 'hex');
    const nack = Buffer.from('81cd0003' + '00000001' + '00000002' + '00050000', 'hex');
    const packet = Buffer.concat([sr, writer.write('pli', 2), writer.write('fir', 2), remb, nack]);
    expect(readRelayedRtcp(packet)).to.deep.equal([
      { type: 'unsupported', packetType: 200 },
      { type: 'keyframe' },
      { type: 'keyframe' },
      { type: 'remb', bitrate: 1_200_000 },
      { type: 'unsupported', packetType: 205 },
    ]);
  });

  it('refuses what is not RTCP', () => {
    expect(() => readRelayedRtcp(Buffer.from('8060000100000000deadbeef', 'hex'))).to.throw(RtcpParseError);
    expect(() => readRelayedRtcp(Buffer.alloc(3))).to.throw(RtcpParseError);
  });
});
