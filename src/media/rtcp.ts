// The RTCP of the raw path (Janus's incomingRtcp / relayRtcp), as far as mediasoup 3.12 lets
// it through. mediasoup terminates RTCP: it makes the SR/RR/SDES of every stream itself and
// tells Node only of the key frame requests a user sends about a stream it receives (Consumer
// 'trace' events 'pli' / 'fir' with the stream's SSRC; 'nack' carries no sequence numbers, and
// a sender's SR is not reported at all). So:
//   - incomingRtcp gets a PLI (RFC 4585 §6.3.1, PT 206 FMT 1) or a FIR (RFC 5104 §4.3.1,
//     PT 206 FMT 4) rebuilt from those events: media SSRC as the user named it, sender SSRC 0,
//     FIR sequence numbers counted here;
//   - relayRtcp acts on what has an equivalent: PLI/FIR → a key frame request to that user,
//     REMB (draft-alvestrand-rmcat-remb, PT 206 FMT 15) → its bitrate cap; the rest is dropped.
// Packets are parsed and built with rtp.js.

import { CompoundPacket, FeedbackPacket, GenericFeedbackPacket, PliPacket } from 'rtp.js/packets';
import type { PsFeedbackMessageType, RtcpPacketType } from 'rtp.js/packets';

const PT_PSFB = 206;
const PSFB_PLI = 1;
const PSFB_FIR = 4;
const PSFB_AFB = 15;
const REMB_ID = 0x52454d42; // "REMB"

/** A key frame request a user sent about a stream it receives. */
export type KeyFrameRequestType = 'pli' | 'fir';

/** What a script's relayed RTCP asks of the user it is sent to. */
export type RelayedRtcp =
  | { type: 'keyframe' }
  | { type: 'remb'; bitrate: number }
  | { type: 'unsupported'; packetType: number; messageType?: number };

/** Builds the RTCP a user's key frame requests become (incomingRtcp); one FIR counter per user. */
export class KeyFrameRequestWriter {
  private firSequence = 0;

  write(type: KeyFrameRequestType, mediaSsrc: number): Buffer {
    if (type === 'pli') {
      const pli = new PliPacket();
      pli.setMediaSsrc(mediaSsrc);
      return bytesOf(pli);
    }
    // FIR: media SSRC 0 in the header; the FCI names the stream and the request number.
    const fir = new GenericFeedbackPacket(undefined, PT_PSFB as RtcpPacketType.PSFB, PSFB_FIR as PsFeedbackMessageType);
    const fci = new DataView(new ArrayBuffer(8));
    fci.setUint32(0, mediaSsrc);
    fci.setUint8(4, this.firSequence);
    this.firSequence = (this.firSequence + 1) & 0xff;
    fir.setBody(fci);
    return bytesOf(fir);
  }
}

/** Reads a script's (compound) RTCP packet; throws RtcpParseError when it is not RTCP. */
export function readRelayedRtcp(packet: Uint8Array): RelayedRtcp[] {
  let compound: CompoundPacket;
  try {
    compound = new CompoundPacket(new DataView(packet.buffer, packet.byteOffset, packet.byteLength));
  } catch (error) {
    throw new RtcpParseError((error as Error).message);
  }
  return compound.getPackets().map((rtcp): RelayedRtcp => {
    const packetType: number = rtcp.getPacketType();
    if (packetType !== PT_PSFB || !(rtcp instanceof FeedbackPacket)) return { type: 'unsupported', packetType };
    const messageType: number = rtcp.getMessageType();
    if (messageType === PSFB_PLI || messageType === PSFB_FIR) return { type: 'keyframe' };
    const bitrate = messageType === PSFB_AFB && rtcp instanceof GenericFeedbackPacket ? rembBitrate(rtcp.getBody()) : undefined;
    return bitrate === undefined ? { type: 'unsupported', packetType, messageType } : { type: 'remb', bitrate };
  });
}

/** The bitrate of a REMB FCI ("REMB", #SSRCs, 6-bit exponent, 18-bit mantissa), if it is one. */
function rembBitrate(fci: DataView): number | undefined {
  if (fci.byteLength < 8 || fci.getUint32(0) !== REMB_ID) return undefined;
  const word = fci.getUint32(4);
  const exponent = (word >>> 18) & 0x3f;
  const mantissa = word & 0x3ffff;
  return mantissa * 2 ** exponent;
}

function bytesOf(packet: PliPacket | GenericFeedbackPacket): Buffer {
  packet.serialize();
  const view = packet.getView();
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** A relayed packet that is not RTCP. */
export class RtcpParseError extends Error {
  constructor(reason: string) {
    super(`not an RTCP packet: ${reason}`);
    this.name = 'RtcpParseError';
  }
}
