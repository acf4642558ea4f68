// RTP header parsing and editing over Buffers (RFC 3550 §5.1, RFC 8285 header extensions).
// Pure functions: parsers return views into the input; editors that change the packet size
// return a new Buffer, editors of fixed-size fields write in place.

export const RTP_HEADER_MIN = 12;
/** RFC 8285 §4.2: one-byte header extensions use this "defined by profile" value. */
export const ONE_BYTE_PROFILE = 0xbede;
/** RFC 8285 §4.3: two-byte header extensions use 0x100 followed by 4 "appbits". */
export const TWO_BYTE_PROFILE = 0x1000;

export interface RtpExtension {
  id: number;
  /** View into the packet (not a copy). */
  value: Buffer;
}

export interface RtpHeader {
  version: number;
  padding: boolean;
  /** X bit. */
  hasExtension: boolean;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  /** "defined by profile" field of the extension block, when X is set. */
  extensionProfile?: number;
  /** Parsed elements for one-byte (0xBEDE) and two-byte (0x100x) blocks; empty otherwise. */
  extensions: RtpExtension[];
  /** Bytes up to the payload (fixed header + CSRCs + extension block). */
  headerLength: number;
  payloadOffset: number;
  /** Payload bytes, without trailing padding. */
  payloadLength: number;
  paddingLength: number;
}

/**
 * RFC 5761 §4: on a muxed port, a second byte (M+PT) in 192..223 means RTCP. Only looks at
 * the first two bytes; use parseRtpHeader to validate RTP.
 */
export function isRtcp(packet: Uint8Array): boolean {
  return packet.length >= 2 && packet[0] >> 6 === 2 && packet[1] >= 192 && packet[1] <= 223;
}

/** Parses the RTP header; null when the packet is not a well-formed version-2 RTP packet. */
export function parseRtpHeader(packet: Buffer): RtpHeader | null {
  if (packet.length < RTP_HEADER_MIN) return null;
  const b0 = packet[0];
  const b1 = packet[1];
  const version = b0 >> 6;
  if (version !== 2) return null;
  const padding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const cc = b0 & 0x0f;
  let offset = RTP_HEADER_MIN + cc * 4;
  if (packet.length < offset) return null;
  const csrcs: number[] = [];
  for (let i = 0; i < cc; i++) csrcs.push(packet.readUInt32BE(RTP_HEADER_MIN + i * 4));
  let extensionProfile: number | undefined;
  let extensions: RtpExtension[] = [];
  if (hasExtension) {
    if (packet.length < offset + 4) return null;
    extensionProfile = packet.readUInt16BE(offset);
    const extLen = packet.readUInt16BE(offset + 2) * 4;
    const start = offset + 4;
    if (packet.length < start + extLen) return null;
    const block = packet.subarray(start, start + extLen);
    const parsed = parseExtensionBlock(extensionProfile, block);
    if (parsed === null) return null;
    extensions = parsed;
    offset = start + extLen;
  }
  let paddingLength = 0;
  if (padding) {
    // The last byte counts the padding, itself included (RFC 3550 §5.1).
    paddingLength = packet[packet.length - 1];
    if (paddingLength === 0 || offset + paddingLength > packet.length) return null;
  }
  return {
    version,
    padding,
    hasExtension,
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    csrcs,
    extensionProfile,
    extensions,
    headerLength: offset,
    payloadOffset: offset,
    payloadLength: packet.length - offset - paddingLength,
    paddingLength,
  };
}

/** Elements of an extension block; null if an element overruns the block. */
export function parseExtensionBlock(profile: number, block: Buffer): RtpExtension[] | null {
  const out: RtpExtension[] = [];
  let i = 0;
  if (profile === ONE_BYTE_PROFILE) {
    while (i < block.length) {
      const id = block[i] >> 4;
      if (id === 0) {
        i += 1; // padding byte (its length nibble must be 0 too; be lenient)
        continue;
      }
      if (id === 15) break; // RFC 8285 §4.2: stop processing this block
      const len = (block[i] & 0x0f) + 1;
      if (i + 1 + len > block.length) return null;
      out.push({ id, value: block.subarray(i + 1, i + 1 + len) });
      i += 1 + len;
    }
    return out;
  }
  if ((profile & 0xfff0) === TWO_BYTE_PROFILE) {
    while (i < block.length) {
      const id = block[i];
      if (id === 0) {
        i += 1; // padding byte
        continue;
      }
      if (i + 2 > block.length) return null;
      const len = block[i + 1];
      if (i + 2 + len > block.length) return null;
      out.push({ id, value: block.subarray(i + 2, i + 2 + len) });
      i += 2 + len;
    }
    return out;
  }
  return out; // unknown profile: opaque, nothing to list
}

/** Value of extension `id`, or undefined. */
export function getRtpExtension(packet: Buffer, id: number): Buffer | undefined {
  const h = parseRtpHeader(packet);
  return h?.extensions.find((e) => e.id === id)?.value;
}

/** Copy of the packet without any header extension block (X cleared). */
export function stripRtpExtensions(packet: Buffer): Buffer {
  const h = parseRtpHeader(packet);
  if (!h) throw new RangeError('not an RTP packet');
  if (!h.hasExtension) return Buffer.from(packet);
  const fixed = RTP_HEADER_MIN + h.csrcs.length * 4;
  const out = Buffer.concat([packet.subarray(0, fixed), packet.subarray(h.headerLength)]);
  out[0] &= ~0x10;
  return out;
}

/**
 * Encodes extension elements into a block (without the 4-byte profile/length word), padded to
 * 32 bits. One-byte form when every id is 1..14 and every value is 1..16 bytes, else two-byte.
 */
export function encodeExtensionBlock(extensions: readonly { id: number; value: Uint8Array }[]): {
  profile: number;
  block: Buffer;
} {
  const oneByte = extensions.every((e) => e.id >= 1 && e.id <= 14 && e.value.length >= 1 && e.value.length <= 16);
  const parts: Buffer[] = [];
  for (const e of extensions) {
    if (oneByte) {
      parts.push(Buffer.from([(e.id << 4) | (e.value.length - 1)]), Buffer.from(e.value));
    } else {
      if (e.id < 1 || e.id > 255 || e.value.length > 255) throw new RangeError(`extension ${e.id} does not fit`);
      parts.push(Buffer.from([e.id, e.value.length]), Buffer.from(e.value));
    }
  }
  let block = Buffer.concat(parts);
  const pad = (4 - (block.length % 4)) % 4;
  if (pad) block = Buffer.concat([block, Buffer.alloc(pad)]);
  return { profile: oneByte ? ONE_BYTE_PROFILE : TWO_BYTE_PROFILE, block };
}

/**
 * Copy of the packet whose extension block holds exactly `extensions` (in that order); an
 * empty list removes the block. Payload and padding are kept.
 */
export function writeRtpExtensions(packet: Buffer, extensions: readonly { id: number; value: Uint8Array }[]): Buffer {
  const h = parseRtpHeader(packet);
  if (!h) throw new RangeError('not an RTP packet');
  if (extensions.length === 0) return stripRtpExtensions(packet);
  const fixed = RTP_HEADER_MIN + h.csrcs.length * 4;
  const { profile, block } = encodeExtensionBlock(extensions);
  const word = Buffer.alloc(4);
  word.writeUInt16BE(profile, 0);
  word.writeUInt16BE(block.length / 4, 2);
  const out = Buffer.concat([packet.subarray(0, fixed), word, block, packet.subarray(h.headerLength)]);
  out[0] |= 0x10;
  return out;
}

/** Copy of the packet with extension `id` set to `value` (replaced, or appended). */
export function setRtpExtension(packet: Buffer, id: number, value: Uint8Array): Buffer {
  const h = parseRtpHeader(packet);
  if (!h) throw new RangeError('not an RTP packet');
  const list = h.extensions.map((e) => ({ id: e.id, value: e.value as Uint8Array }));
  const at = list.findIndex((e) => e.id === id);
  if (at >= 0) list[at] = { id, value };
  else list.push({ id, value });
  return writeRtpExtensions(packet, list);
}

/** Copy of the packet without extension `id`. */
export function removeRtpExtension(packet: Buffer, id: number): Buffer {
  const h = parseRtpHeader(packet);
  if (!h) throw new RangeError('not an RTP packet');
  return writeRtpExtensions(
    packet,
    h.extensions.filter((e) => e.id !== id),
  );
}

// Fixed-size field editors: in place, no validation beyond length.

export function setRtpSequenceNumber(packet: Buffer, seq: number): void {
  packet.writeUInt16BE(seq & 0xffff, 2);
}

export function setRtpTimestamp(packet: Buffer, ts: number): void {
  packet.writeUInt32BE(ts >>> 0, 4);
}

export function setRtpSsrc(packet: Buffer, ssrc: number): void {
  packet.writeUInt32BE(ssrc >>> 0, 8);
}

export function setRtpPayloadType(packet: Buffer, pt: number): void {
  packet[1] = (packet[1] & 0x80) | (pt & 0x7f);
}

export function setRtpMarker(packet: Buffer, marker: boolean): void {
  packet[1] = marker ? packet[1] | 0x80 : packet[1] & 0x7f;
}

/** The payload (without padding) as a view, or null if not RTP. */
export function rtpPayload(packet: Buffer): Buffer | null {
  const h = parseRtpHeader(packet);
  return h ? packet.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength) : null;
}

/** Builds a minimal RTP packet (tests, synthetic streams). */
export function buildRtpPacket(fields: {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  csrcs?: readonly number[];
  extensions?: readonly { id: number; value: Uint8Array }[];
  payload: Uint8Array;
}): Buffer {
  const csrcs = fields.csrcs ?? [];
  if (csrcs.length > 15) throw new RangeError('too many CSRCs');
  const head = Buffer.alloc(RTP_HEADER_MIN + csrcs.length * 4);
  head[0] = 0x80 | csrcs.length;
  head[1] = (fields.marker ? 0x80 : 0) | (fields.payloadType & 0x7f);
  head.writeUInt16BE(fields.sequenceNumber & 0xffff, 2);
  head.writeUInt32BE(fields.timestamp >>> 0, 4);
  head.writeUInt32BE(fields.ssrc >>> 0, 8);
  csrcs.forEach((c, i) => head.writeUInt32BE(c >>> 0, RTP_HEADER_MIN + i * 4));
  const packet = Buffer.concat([head, Buffer.from(fields.payload)]);
  return fields.extensions && fields.extensions.length > 0 ? writeRtpExtensions(packet, fields.extensions) : packet;
}
