// The RTCP rules of the raw path (Janus's incomingRtcp / relayRtcp), as Janus applies them:
//   - incoming: a compound packet the user's PeerConnection sent belongs to the medium whose
//     SSRC it carries: first its sender SSRC (one of the user's own streams), else the SSRC it
//     reports on or asks about (one of the streams we send the user); packets naming no known
//     SSRC are dropped (janus ice.c: "Unknown SSRC, dropping RTCP packet");
//   - relayed (a script's RTCP to a user): what the server makes itself is stripped (SR, RR,
//     SDES, XR, generic NACK, transport-cc, unknown packet types: janus_rtcp_filter); in what is
//     left the sender SSRC becomes ours for that medium and the media SSRC the user's stream
//     (janus_rtcp_fix_ssrc); a PLI is repeated for the user's other simulcast streams; a REMB
//     names them too and gets an empty RR in front (janus ice.c send loop).
// Packets are parsed (and so validated) with rtp.js; SSRC fields are written at their RFC 3550 /
// RFC 4585 / RFC 5104 offsets in a copy of the packet's bytes.

import { CompoundPacket } from 'rtp.js/packets';
import type { MediaKind } from 'mediasoup/node/lib/RtpParameters';
import { NamedError } from '../common/named-error';

const PT_FIR_RFC2032 = 192;
const PT_SR = 200;
const PT_RR = 201;
const PT_SDES = 202;
const PT_BYE = 203;
const PT_APP = 204;
const PT_RTPFB = 205;
const PT_PSFB = 206;
const RTPFB_NACK = 1;
const RTPFB_TMMBR = 3;
const RTPFB_TCC = 15;
const PSFB_PLI = 1;
const PSFB_FIR = 4;
const PSFB_AFB = 15;
const REMB_ID = 0x52454d42; // "REMB"

/** One medium's SSRCs: ours toward the user (0 when we send none), and the user's own streams. */
export interface MediumSsrcs {
  local: number;
  /** The user's streams of this medium, base simulcast layer first. */
  peer: readonly number[];
}

export type UserSsrcs = Record<MediaKind, MediumSsrcs>;

/** A script's RTCP made ready for the user, and how many of its parts were stripped. */
export interface RelayedRtcp {
  /** undefined when nothing is left to send. */
  packet: Buffer | undefined;
  stripped: number;
  /** The bitrate of the last REMB in it, in bits per second. */
  remb: number | undefined;
}

/** Which medium a compound packet from the user is about; undefined when no SSRC is known. */
export function rtcpMedium(packet: Uint8Array, ssrcs: UserSsrcs): MediaKind | undefined {
  const parts = split(packet);
  const find = (ssrc: number | undefined, pick: (m: MediumSsrcs) => readonly number[]): MediaKind | undefined => {
    if (ssrc === undefined || ssrc === 0) return undefined;
    return (['audio', 'video'] as const).find((kind) => pick(ssrcs[kind]).includes(ssrc));
  };
  const all = (m: MediumSsrcs): readonly number[] => [...m.peer, m.local];
  for (const part of parts) {
    const kind = find(senderSsrc(part), all);
    if (kind) return kind;
  }
  for (const part of parts) {
    const kind = find(receiverSsrc(part), all);
    if (kind) return kind;
  }
  return undefined;
}

/**
 * A script's (compound) RTCP packet as Janus sends it to the user on `medium`: filtered, SSRCs
 * fixed. Throws RtcpParseError when it is not RTCP.
 */
export function prepareRelayedRtcp(packet: Uint8Array, medium: MediumSsrcs, video: boolean): RelayedRtcp {
  let compound: CompoundPacket;
  try {
    compound = new CompoundPacket(new DataView(packet.buffer, packet.byteOffset, packet.byteLength));
  } catch (error) {
    throw new RtcpParseError((error as Error).message);
  }
  const kept: Buffer[] = [];
  let stripped = 0;
  let pli = false;
  let remb: number | undefined;
  for (const rtcp of compound.getPackets()) {
    const view = rtcp.getView();
    const part = Buffer.from(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
    if (!keep(part)) {
      stripped++;
      continue;
    }
    fixSsrcs(part, medium);
    if (part[1] === PT_PSFB && fmt(part) === PSFB_PLI) pli = true;
    if (isRemb(part)) {
      remb = rembBitrate(part);
      nameSimulcastStreams(part, medium.peer);
    }
    kept.push(part);
  }
  if (kept.length === 0) return { packet: undefined, stripped, remb };
  if (video && pli) {
    // Janus asks every simulcast layer of the user for a key frame.
    for (const ssrc of medium.peer.slice(1)) kept.push(pliPacket(medium.local, ssrc));
  }
  // "There's a REMB, prepend a RR as it won't work otherwise" (janus ice.c).
  if (remb !== undefined) kept.unshift(emptyReceiverReport(medium.local));
  return { packet: Buffer.concat(kept), stripped, remb };
}

/** janus_rtcp_filter: what the server makes itself is not taken from a plugin. */
function keep(part: Buffer): boolean {
  switch (part[1]) {
    case PT_BYE:
    case PT_APP:
    case PT_FIR_RFC2032:
    case PT_PSFB:
      return true;
    case PT_RTPFB:
      return fmt(part) !== RTPFB_NACK && fmt(part) !== RTPFB_TCC;
    default:
      // SR, RR, SDES, XR and anything unknown.
      return false;
  }
}

/** janus_rtcp_fix_ssrc for the packet types a relayed compound keeps. */
function fixSsrcs(part: Buffer, medium: MediumSsrcs): void {
  const local = medium.local;
  const peer = medium.peer[0] ?? 0;
  const set = (offset: number, ssrc: number): void => {
    if (ssrc !== 0 && part.length >= offset + 4) part.writeUInt32BE(ssrc >>> 0, offset);
  };
  switch (part[1]) {
    case PT_BYE:
      if (count(part) > 0) set(4, local);
      break;
    case PT_APP:
      set(4, local);
      break;
    case PT_RTPFB:
      if (fmt(part) === RTPFB_TMMBR) set(12, peer);
      set(4, local);
      break;
    case PT_PSFB:
      if (fmt(part) === PSFB_PLI) set(8, peer);
      if (fmt(part) === PSFB_FIR) {
        set(8, peer);
        set(12, peer);
      }
      if (fmt(part) === PSFB_AFB && peer !== 0) {
        part.writeUInt32BE(0, 8);
        if (isRemb(part)) set(20, peer);
      }
      set(4, local);
      break;
    default:
      break;
  }
}

/** A REMB naming more SSRCs gets the user's other simulcast streams in its slots 2 and 3. */
function nameSimulcastStreams(part: Buffer, peer: readonly number[]): void {
  const slots = part[16] ?? 0;
  for (let i = 1; i < Math.min(3, slots, peer.length); i++) {
    if (part.length >= 24 + i * 4) part.writeUInt32BE(peer[i]! >>> 0, 20 + i * 4);
  }
}

function isRemb(part: Buffer): boolean {
  return part[1] === PT_PSFB && fmt(part) === PSFB_AFB && part.length >= 24 && part.readUInt32BE(12) === REMB_ID;
}

/** The bitrate of a REMB FCI: 6-bit exponent, 18-bit mantissa. */
function rembBitrate(part: Buffer): number {
  const word = part.readUInt32BE(16);
  return (word & 0x3ffff) * 2 ** ((word >>> 18) & 0x3f);
}

/** A PLI (RFC 4585) from `local` about `media`; 0 leaves an SSRC for prepareRelayedRtcp to fill. */
export function pliPacket(local: number, media: number): Buffer {
  const pli = Buffer.alloc(12);
  pli[0] = 0x80 | PSFB_PLI;
  pli[1] = PT_PSFB;
  pli.writeUInt16BE(2, 2);
  pli.writeUInt32BE(local >>> 0, 4);
  pli.writeUInt32BE(media >>> 0, 8);
  return pli;
}

function emptyReceiverReport(local: number): Buffer {
  const rr = Buffer.alloc(8);
  rr[0] = 0x80;
  rr[1] = PT_RR;
  rr.writeUInt16BE(1, 2);
  rr.writeUInt32BE(local >>> 0, 4);
  return rr;
}

/** The packets of a compound, by their length fields (stops at the first malformed one). */
function split(packet: Uint8Array): Buffer[] {
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  const parts: Buffer[] = [];
  for (let offset = 0; offset + 4 <= bytes.length; ) {
    const length = (bytes.readUInt16BE(offset + 2) + 1) * 4;
    if (bytes[offset]! >> 6 !== 2 || offset + length > bytes.length) break;
    parts.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return parts;
}

function senderSsrc(part: Buffer): number | undefined {
  if (part.length < 8) return undefined;
  // BYE and SDES name their source in the first SSRC/chunk; an empty one names nobody.
  if ((part[1] === PT_BYE || part[1] === PT_SDES) && count(part) === 0) return undefined;
  return part.readUInt32BE(4);
}

/** The SSRC a packet reports on or asks about (janus_rtcp_get_receiver_ssrc). */
function receiverSsrc(part: Buffer): number | undefined {
  switch (part[1]) {
    case PT_RR:
      return count(part) > 0 && part.length >= 12 ? part.readUInt32BE(8) : undefined;
    case PT_SR:
      return count(part) > 0 && part.length >= 32 ? part.readUInt32BE(28) : undefined;
    case PT_RTPFB:
      return part.length >= 12 ? part.readUInt32BE(8) : undefined;
    case PT_PSFB:
      if (isRemb(part)) return part.readUInt32BE(20);
      if (fmt(part) === PSFB_FIR) return part.length >= 16 ? part.readUInt32BE(12) : undefined;
      return part.length >= 12 ? part.readUInt32BE(8) : undefined;
    default:
      return undefined;
  }
}

function fmt(part: Buffer): number {
  return part[0]! & 0x1f;
}

const count = fmt;

/** A relayed packet that is not RTCP. */
export class RtcpParseError extends NamedError {
  constructor(reason: string) {
    super(`not an RTCP packet: ${reason}`);
  }
}
