// RTCP compound parsing, enough for the plugin's relaying rules (janus-contract §3.2): find a
// PLI (PSFB fmt 1), a FIR (PSFB fmt 4) and a REMB (PSFB fmt 15 "REMB", with its bitrate), and
// build PLI, FIR and REMB packets.

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;
export const RTCP_RTPFB = 205;
export const RTCP_PSFB = 206;
export const RTCP_XR = 207;
/** RFC 2032's old FIR packet type, still passed through by Janus. */
export const RTCP_FIR_LEGACY = 192;

export const PSFB_PLI = 1;
export const PSFB_FIR = 4;
export const PSFB_AFB = 15;

export interface RtcpPacket {
  padding: boolean;
  /** RC / SC / FMT field (5 bits). */
  count: number;
  packetType: number;
  /** Offset of this packet in the compound. */
  offset: number;
  /** Whole packet, header included (a view). */
  bytes: Buffer;
}

/**
 * Splits a compound packet. Stops at the first malformed packet (bad version, length beyond
 * the buffer) and returns the packets before it, as Janus's RTCP walkers do.
 */
export function parseRtcpCompound(buf: Buffer): RtcpPacket[] {
  const out: RtcpPacket[] = [];
  let offset = 0;
  // Each iteration consumes at least 4 bytes, so the loop is bounded by buf.length / 4.
  while (offset + 4 <= buf.length) {
    const b0 = buf[offset];
    if (b0 >> 6 !== 2) break;
    const size = (buf.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + size > buf.length) break;
    out.push({
      padding: (b0 & 0x20) !== 0,
      count: b0 & 0x1f,
      packetType: buf[offset + 1],
      offset,
      bytes: buf.subarray(offset, offset + size),
    });
    offset += size;
  }
  return out;
}

/**
 * What of a script's RTCP (relayRtcp) may go on to a peer, as Janus's janus_rtcp_filter
 * decides: SR, RR, SDES, XR and NACKs are the core's own business and are removed, as are
 * unknown types; BYE, APP, FIR and all PSFB (PLI, REMB, ...) and other RTPFB stay. Null when
 * nothing is left or the compound is malformed.
 */
export function filterRtcpForRelay(buf: Buffer): Buffer | null {
  const kept: Buffer[] = [];
  let offset = 0;
  while (offset + 4 <= buf.length) {
    if (buf[offset] >> 6 !== 2) return null;
    const words = buf.readUInt16BE(offset + 2);
    if (words === 0) break; // Janus stops at a header-only packet
    const size = (words + 1) * 4;
    if (offset + size > buf.length) return null;
    const type = buf[offset + 1];
    const fmt = buf[offset] & 0x1f;
    const keep =
      type === RTCP_BYE || type === RTCP_APP || type === RTCP_FIR_LEGACY || type === RTCP_PSFB || (type === RTCP_RTPFB && fmt !== 1);
    if (keep) kept.push(buf.subarray(offset, offset + size));
    offset += size;
  }
  return kept.length > 0 ? Buffer.concat(kept) : null;
}

export interface RembInfo {
  bitrate: number;
  ssrcs: number[];
}

/** Decodes a REMB from a PSFB fmt-15 packet; null when it is not a (valid) REMB. */
export function parseRemb(packet: RtcpPacket): RembInfo | null {
  const b = packet.bytes;
  if (packet.packetType !== RTCP_PSFB || packet.count !== PSFB_AFB || b.length < 20) return null;
  if (b.toString('latin1', 12, 16) !== 'REMB') return null;
  const num = b[16];
  const exp = b[17] >> 2;
  const mantissa = ((b[17] & 0x03) << 16) | b.readUInt16BE(18);
  const ssrcs: number[] = [];
  for (let i = 0; i < num && 20 + i * 4 + 4 <= b.length; i++) ssrcs.push(b.readUInt32BE(20 + i * 4));
  // Exponents up to 63 overflow 32 bits; Number keeps them exact enough (a cap, not a count).
  return { bitrate: mantissa * 2 ** exp, ssrcs };
}

export interface RtcpFeedbackSummary {
  pli: boolean;
  fir: boolean;
  /** Bitrate of the last REMB in the compound, or null when there is none. */
  remb: number | null;
}

/** What a compound asks for, as far as relaying cares. */
export function summarizeRtcpFeedback(buf: Buffer): RtcpFeedbackSummary {
  const summary: RtcpFeedbackSummary = { pli: false, fir: false, remb: null };
  for (const p of parseRtcpCompound(buf)) {
    if (p.packetType !== RTCP_PSFB) continue;
    if (p.count === PSFB_PLI) summary.pli = true;
    else if (p.count === PSFB_FIR) summary.fir = true;
    else if (p.count === PSFB_AFB) {
      const remb = parseRemb(p);
      if (remb) summary.remb = remb.bitrate;
    }
  }
  return summary;
}

export function hasPli(buf: Buffer): boolean {
  return summarizeRtcpFeedback(buf).pli;
}

export function hasFir(buf: Buffer): boolean {
  return summarizeRtcpFeedback(buf).fir;
}

/** Bitrate of the REMB in the compound, or null. */
export function getRembBitrate(buf: Buffer): number | null {
  return summarizeRtcpFeedback(buf).remb;
}

/** PLI (RFC 4585 §6.3.1): 12 bytes. */
export function buildPli(senderSsrc: number, mediaSsrc: number): Buffer {
  const b = Buffer.alloc(12);
  b[0] = 0x80 | PSFB_PLI;
  b[1] = RTCP_PSFB;
  b.writeUInt16BE(2, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(mediaSsrc >>> 0, 8);
  return b;
}

/** FIR (RFC 5104 §4.3.1) with one FCI entry: 20 bytes. Media SSRC is 0 as the RFC says. */
export function buildFir(senderSsrc: number, targetSsrc: number, seqNr: number): Buffer {
  const b = Buffer.alloc(20);
  b[0] = 0x80 | PSFB_FIR;
  b[1] = RTCP_PSFB;
  b.writeUInt16BE(4, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(0, 8);
  b.writeUInt32BE(targetSsrc >>> 0, 12);
  b[16] = seqNr & 0xff;
  return b;
}

/**
 * REMB exponent/mantissa: the smallest exponent whose 18-bit mantissa holds the bitrate, as
 * Janus's janus_rtcp_remb_ssrcs computes it (so bitrates below 2^18 are exact).
 */
export function encodeRembBitrate(bitrate: number): { exp: number; mantissa: number } {
  let br = Math.max(0, Math.floor(bitrate));
  let exp = 0;
  while (br > 0x3ffff && exp < 63) {
    exp++;
    br = Math.floor(bitrate / 2 ** exp);
  }
  return { exp, mantissa: Math.min(br, 0x3ffff) };
}

/** REMB (draft-alvestrand-rmcat-remb) for the given SSRCs; media SSRC 0. */
export function buildRemb(bitrate: number, ssrcs: readonly number[], senderSsrc = 0): Buffer {
  if (ssrcs.length > 255) throw new RangeError('too many SSRCs for a REMB');
  const size = 20 + ssrcs.length * 4;
  const b = Buffer.alloc(size);
  b[0] = 0x80 | PSFB_AFB;
  b[1] = RTCP_PSFB;
  b.writeUInt16BE(size / 4 - 1, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(0, 8);
  b.write('REMB', 12, 'latin1');
  const { exp, mantissa } = encodeRembBitrate(bitrate);
  b[16] = ssrcs.length;
  b[17] = (exp << 2) | ((mantissa >> 16) & 0x03);
  b.writeUInt16BE(mantissa & 0xffff, 18);
  ssrcs.forEach((s, i) => b.writeUInt32BE(s >>> 0, 20 + i * 4));
  return b;
}
