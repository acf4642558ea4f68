// DCEP, the Data Channel Establishment Protocol (RFC 8832), and the SCTP payload protocol
// identifiers of WebRTC data channels (RFC 8831 §8). Pure codec: the worker patch hands DCEP
// messages (PPID 50) up to Node, and this turns them into label/protocol/reliability, and
// builds the ACK (and OPEN, for server-created channels).

/** SCTP payload protocol identifiers (RFC 8831 §8, RFC 8832 §8.1). */
export const Ppid = {
  DCEP: 50,
  STRING: 51,
  /** Deprecated partial binary (never sent by current browsers). */
  BINARY_PARTIAL: 52,
  BINARY: 53,
  /** Deprecated partial string. */
  STRING_PARTIAL: 54,
  STRING_EMPTY: 56,
  BINARY_EMPTY: 57,
} as const;

export const DcepMessageType = {
  ACK: 0x02,
  OPEN: 0x03,
} as const;

/** Channel types (RFC 8832 §5.1); bit 0x80 = unordered. */
export const DcepChannelType = {
  RELIABLE: 0x00,
  RELIABLE_UNORDERED: 0x80,
  PARTIAL_RELIABLE_REXMIT: 0x01,
  PARTIAL_RELIABLE_REXMIT_UNORDERED: 0x81,
  PARTIAL_RELIABLE_TIMED: 0x02,
  PARTIAL_RELIABLE_TIMED_UNORDERED: 0x82,
} as const;

/** Priorities of RFC 8831 §6.4 / the W3C RTCPriorityType mapping. */
export const DcepPriority = {
  VERY_LOW: 128,
  LOW: 256,
  MEDIUM: 512,
  HIGH: 1024,
} as const;

export type DcepReliability =
  | { kind: 'reliable' }
  /** At most this many retransmissions (maxRetransmits). */
  | { kind: 'rexmit'; maxRetransmits: number }
  /** Retransmissions for at most this many ms (maxPacketLifeTime). */
  | { kind: 'timed'; maxPacketLifeTime: number };

export interface DcepOpen {
  type: 'open';
  /** Raw channel type byte. */
  channelType: number;
  ordered: boolean;
  reliability: DcepReliability;
  priority: number;
  /** Raw reliability parameter (ignored for reliable channels, per the RFC). */
  reliabilityParameter: number;
  label: string;
  protocol: string;
}

export interface DcepAck {
  type: 'ack';
}

export type DcepMessage = DcepOpen | DcepAck;

const OPEN_HEADER = 12;

/**
 * Parses a DCEP message (the payload of an SCTP message with PPID 50). Returns null for
 * unknown message types, unknown channel types and truncated messages.
 */
export function parseDcep(data: Uint8Array): DcepMessage | null {
  if (data.length < 1) return null;
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf[0] === DcepMessageType.ACK) return buf.length === 1 ? { type: 'ack' } : null;
  if (buf[0] !== DcepMessageType.OPEN || buf.length < OPEN_HEADER) return null;
  const channelType = buf[1];
  const priority = buf.readUInt16BE(2);
  const reliabilityParameter = buf.readUInt32BE(4);
  const labelLength = buf.readUInt16BE(8);
  const protocolLength = buf.readUInt16BE(10);
  if (buf.length < OPEN_HEADER + labelLength + protocolLength) return null;
  let reliability: DcepReliability;
  switch (channelType & 0x7f) {
    case 0x00:
      reliability = { kind: 'reliable' };
      break;
    case 0x01:
      reliability = { kind: 'rexmit', maxRetransmits: reliabilityParameter };
      break;
    case 0x02:
      reliability = { kind: 'timed', maxPacketLifeTime: reliabilityParameter };
      break;
    default:
      return null;
  }
  return {
    type: 'open',
    channelType,
    ordered: (channelType & 0x80) === 0,
    reliability,
    priority,
    reliabilityParameter,
    label: buf.toString('utf8', OPEN_HEADER, OPEN_HEADER + labelLength),
    protocol: buf.toString('utf8', OPEN_HEADER + labelLength, OPEN_HEADER + labelLength + protocolLength),
  };
}

/** DATA_CHANNEL_ACK: the single byte 0x02. */
export function buildDcepAck(): Buffer {
  return Buffer.from([DcepMessageType.ACK]);
}

export interface DcepOpenOptions {
  label: string;
  protocol?: string;
  /** Default true. */
  ordered?: boolean;
  /** Default reliable. */
  reliability?: DcepReliability;
  /** Default 0, what libwebrtc sends when the application sets no priority. */
  priority?: number;
}

/** DATA_CHANNEL_OPEN (RFC 8832 §5.1). Label and protocol are UTF-8. */
export function buildDcepOpen(options: DcepOpenOptions): Buffer {
  const label = Buffer.from(options.label, 'utf8');
  const protocol = Buffer.from(options.protocol ?? '', 'utf8');
  if (label.length > 0xffff || protocol.length > 0xffff) throw new RangeError('label or protocol too long');
  const reliability = options.reliability ?? { kind: 'reliable' };
  let channelType: number;
  let param = 0;
  switch (reliability.kind) {
    case 'reliable':
      channelType = DcepChannelType.RELIABLE;
      break;
    case 'rexmit':
      channelType = DcepChannelType.PARTIAL_RELIABLE_REXMIT;
      param = reliability.maxRetransmits;
      break;
    case 'timed':
      channelType = DcepChannelType.PARTIAL_RELIABLE_TIMED;
      param = reliability.maxPacketLifeTime;
      break;
  }
  if (options.ordered === false) channelType |= 0x80;
  const out = Buffer.alloc(OPEN_HEADER + label.length + protocol.length);
  out[0] = DcepMessageType.OPEN;
  out[1] = channelType;
  out.writeUInt16BE((options.priority ?? 0) & 0xffff, 2);
  out.writeUInt32BE(param >>> 0, 4);
  out.writeUInt16BE(label.length, 8);
  out.writeUInt16BE(protocol.length, 10);
  label.copy(out, OPEN_HEADER);
  protocol.copy(out, OPEN_HEADER + label.length);
  return out;
}

// ---------------------------------------------------------------------------------------------
// User messages

export interface DataPayload {
  ppid: number;
  /** What goes on the wire: one 0x00 byte for an empty message (RFC 8831 §6.6). */
  payload: Buffer;
}

/** PPID and wire bytes for a user message; empty messages use PPID 56/57 and one byte. */
export function encodeDataMessage(message: string | Uint8Array): DataPayload {
  const binary = typeof message !== 'string';
  const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : Buffer.from(message);
  if (bytes.length === 0) return { ppid: binary ? Ppid.BINARY_EMPTY : Ppid.STRING_EMPTY, payload: Buffer.from([0]) };
  return { ppid: binary ? Ppid.BINARY : Ppid.STRING, payload: bytes };
}

/**
 * Decodes a received user message by PPID: text as a string, binary as bytes, the empty PPIDs
 * as empty messages (their byte is ignored). Null for DCEP and unknown PPIDs.
 */
export function decodeDataMessage(ppid: number, payload: Uint8Array): { binary: false; data: string } | { binary: true; data: Buffer } | null {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  switch (ppid) {
    case Ppid.STRING:
    case Ppid.STRING_PARTIAL:
      return { binary: false, data: buf.toString('utf8') };
    case Ppid.STRING_EMPTY:
      return { binary: false, data: '' };
    case Ppid.BINARY:
    case Ppid.BINARY_PARTIAL:
      return { binary: true, data: Buffer.from(buf) };
    case Ppid.BINARY_EMPTY:
      return { binary: true, data: Buffer.alloc(0) };
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Stream ids

export type DtlsRole = 'client' | 'server';

/** RFC 8832 §6: the DTLS client uses even stream ids, the server odd ones. */
export function streamIdParity(role: DtlsRole): 0 | 1 {
  return role === 'client' ? 0 : 1;
}

/** Whether `streamId` belongs to the side with this DTLS role (may be opened by it). */
export function isOwnStreamId(streamId: number, role: DtlsRole): boolean {
  return Number.isInteger(streamId) && streamId >= 0 && streamId <= 65534 && streamId % 2 === streamIdParity(role);
}

/**
 * The lowest free stream id for a channel this side opens (65535 is reserved); null when none
 * is left below `maxStreams` (the negotiated number of outgoing streams).
 */
export function nextStreamId(role: DtlsRole, used: ReadonlySet<number>, maxStreams = 65535): number | null {
  const limit = Math.min(maxStreams, 65535);
  for (let id = streamIdParity(role); id < limit; id += 2) {
    if (!used.has(id)) return id;
  }
  return null;
}
