// Payload inspection for video codecs: keyframe detection (VP8, VP9, H.264) with Janus's rules
// (utils.c janus_vp8/vp9/h264_is_keyframe), since layer switching (janus-contract §3.2) must
// happen on the same packets Janus would switch on; and the VP8 payload descriptor (RFC 7741
// §4.2) for temporal layers and picture-id continuity.

export type VideoCodecName = 'vp8' | 'vp9' | 'h264';

export interface Vp8Descriptor {
  /** N bit. */
  nonReference: boolean;
  /** S bit. */
  startOfPartition: boolean;
  partitionId: number;
  /** 7- or 15-bit picture id, when I is set. */
  pictureId?: number;
  /** 7 or 15 (M bit), when the picture id is present. */
  pictureIdBits?: 7 | 15;
  /** Offset of the picture id field in the payload, when present. */
  pictureIdOffset?: number;
  tl0PicIdx?: number;
  tl0PicIdxOffset?: number;
  /** TID, when T is set. */
  temporalLayer?: number;
  /** Y bit (layer sync), when T is set. */
  layerSync?: boolean;
  keyIdx?: number;
  /** Bytes of the descriptor; the VP8 payload header starts here. */
  length: number;
}

/** Parses the VP8 payload descriptor; null when the payload is too short for it. */
export function parseVp8Descriptor(payload: Uint8Array): Vp8Descriptor | null {
  if (payload.length < 1) return null;
  const b0 = payload[0];
  const d: Vp8Descriptor = {
    nonReference: (b0 & 0x20) !== 0,
    startOfPartition: (b0 & 0x10) !== 0,
    partitionId: b0 & 0x07,
    length: 1,
  };
  if (!(b0 & 0x80)) return d;
  if (payload.length < 2) return null;
  const x = payload[1];
  let i = 2;
  if (x & 0x80) {
    if (payload.length < i + 1) return null;
    d.pictureIdOffset = i;
    if (payload[i] & 0x80) {
      if (payload.length < i + 2) return null;
      d.pictureId = ((payload[i] & 0x7f) << 8) | payload[i + 1];
      d.pictureIdBits = 15;
      i += 2;
    } else {
      d.pictureId = payload[i] & 0x7f;
      d.pictureIdBits = 7;
      i += 1;
    }
  }
  if (x & 0x40) {
    if (payload.length < i + 1) return null;
    d.tl0PicIdxOffset = i;
    d.tl0PicIdx = payload[i];
    i += 1;
  }
  if (x & 0x30) {
    if (payload.length < i + 1) return null;
    if (x & 0x20) {
      d.temporalLayer = payload[i] >> 6;
      d.layerSync = (payload[i] & 0x20) !== 0;
    }
    if (x & 0x10) d.keyIdx = payload[i] & 0x1f;
    i += 1;
  }
  d.length = i;
  return d;
}

/**
 * Rewrites picture id and/or TL0PICIDX in place (simulcast continuity); a 7-bit field keeps
 * 7 bits. Returns false when the descriptor lacks a field that was asked for.
 */
export function writeVp8Descriptor(payload: Buffer, values: { pictureId?: number; tl0PicIdx?: number }): boolean {
  const d = parseVp8Descriptor(payload);
  if (!d) return false;
  if (values.pictureId !== undefined) {
    if (d.pictureIdOffset === undefined) return false;
    if (d.pictureIdBits === 15) payload.writeUInt16BE(0x8000 | (values.pictureId & 0x7fff), d.pictureIdOffset);
    else payload[d.pictureIdOffset] = values.pictureId & 0x7f;
  }
  if (values.tl0PicIdx !== undefined) {
    if (d.tl0PicIdxOffset === undefined) return false;
    payload[d.tl0PicIdxOffset] = values.tl0PicIdx & 0xff;
  }
  return true;
}

/**
 * VP8 keyframe: first packet of a frame (S bit) whose frame tag has P=0 and the start code
 * 9d 01 2a (RFC 6386 §9.1). Also returns the coded size when it is one.
 */
export function vp8KeyframeSize(payload: Uint8Array): { width: number; height: number } | null {
  const d = parseVp8Descriptor(payload);
  if (!d || !d.startOfPartition) return null;
  const p = d.length;
  if (payload.length < p + 10) return null;
  if (payload[p] & 0x01) return null; // P bit: 1 = interframe
  if (payload[p + 3] !== 0x9d || payload[p + 4] !== 0x01 || payload[p + 5] !== 0x2a) return null;
  return {
    width: (payload[p + 6] | (payload[p + 7] << 8)) & 0x3fff,
    height: (payload[p + 8] | (payload[p + 9] << 8)) & 0x3fff,
  };
}

export function isVp8Keyframe(payload: Uint8Array): boolean {
  return vp8KeyframeSize(payload) !== null;
}

/**
 * VP9 keyframe as Janus detects it: the payload descriptor (draft-ietf-payload-vp9) carries
 * scalability structure data (V bit) with resolutions (Y bit) and a non-zero size.
 */
export function isVp9Keyframe(payload: Uint8Array): boolean {
  if (payload.length < 1) return false;
  const b0 = payload[0];
  const I = b0 & 0x80, P = b0 & 0x40, L = b0 & 0x20, F = b0 & 0x10, V = b0 & 0x02;
  let i = 1;
  if (I) {
    if (i >= payload.length) return false;
    i += payload[i] & 0x80 ? 2 : 1;
  }
  if (L) i += F ? 1 : 2; // layer indices, plus TL0PICIDX in non-flexible mode
  if (F && P) {
    // Up to 3 reference indices, each with an N bit saying "another follows".
    for (let n = 0; n < 3; n++) {
      if (i >= payload.length) return false;
      const more = payload[i] & 0x01;
      i++;
      if (!more) break;
    }
  }
  if (!V) return false;
  if (i >= payload.length) return false;
  const ss = payload[i];
  const layers = (ss >> 5) + 1;
  if (!(ss & 0x10)) return false; // Y: no resolutions
  i++;
  for (let s = 0; s < layers && i + 4 <= payload.length; s++, i += 4) {
    const w = (payload[i] << 8) | payload[i + 1];
    const h = (payload[i + 2] << 8) | payload[i + 3];
    if (w || h) return true;
  }
  return false;
}

/**
 * H.264 keyframe as Janus detects it (RFC 6184 packetization): an SPS (NAL 7), alone, as the
 * first unit of an FU-A/FU-B, or inside a STAP-A. Browsers send SPS+PPS+IDR on keyframes.
 */
export function isH264Keyframe(payload: Uint8Array): boolean {
  if (payload.length < 2) return false;
  const type = payload[0] & 0x1f;
  if (type === 7) return true;
  if (type === 28 || type === 29) return (payload[1] & 0x1f) === 7;
  if (type === 24) {
    let i = 1;
    // Each aggregated unit: 2-byte size then the NAL; bounded by the payload length.
    while (i + 2 < payload.length) {
      const size = (payload[i] << 8) | payload[i + 1];
      i += 2;
      if ((payload[i] & 0x1f) === 7) return true;
      if (size === 0) return false;
      i += size;
    }
  }
  return false;
}

/** Keyframe test for a negotiated codec name (case-insensitive); false for others. */
export function isKeyframe(codec: string, payload: Uint8Array): boolean {
  switch (codec.toLowerCase()) {
    case 'vp8':
      return isVp8Keyframe(payload);
    case 'vp9':
      return isVp9Keyframe(payload);
    case 'h264':
      return isH264Keyframe(payload);
    default:
      return false;
  }
}
