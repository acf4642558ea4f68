// Codec (rtpmap/fmtp/rtcp-fb) and header extension (extmap) attributes of one m-section,
// as typed values. Shared by the client-SDP extraction and the negotiation code.

import { Attributes, type Direction, type SdpMediaSection, isDirection } from './sdp-text';

export interface RtcpFeedbackEntry {
  type: string;
  parameter?: string;
}

/** fmtp parameters; digit-only values become numbers (mediasoup compares them as numbers). */
export type FmtpParameters = Record<string, string | number>;

export interface SdpCodec {
  payloadType: number;
  /** Encoding name as written in rtpmap ("opus", "VP8", "rtx", ...). */
  name: string;
  /** `<kind>/<name>`, e.g. "video/VP8". */
  mimeType: string;
  clockRate: number;
  channels?: number;
  parameters: FmtpParameters;
  /** The raw fmtp value (after the PT), when there is one. */
  fmtp?: string;
  rtcpFeedback: RtcpFeedbackEntry[];
}

export interface SdpExtmap {
  id: number;
  uri: string;
  /** The direction suffix (`a=extmap:2/recvonly ...`), when present. */
  direction?: Direction;
  /** True for `urn:ietf:params:rtp-hdrext:encrypt <uri>` (RFC 6904). */
  encrypted: boolean;
}

/** Static payload types that may appear without an rtpmap (RFC 3551). */
const STATIC_PTS: Record<number, { name: string; clockRate: number; channels?: number }> = {
  0: { name: 'PCMU', clockRate: 8000 },
  8: { name: 'PCMA', clockRate: 8000 },
  9: { name: 'G722', clockRate: 8000 },
  13: { name: 'CN', clockRate: 8000 },
};

/** Keys whose values look numeric but are identifiers (hex profile ids). */
const STRING_PARAMS = new Set(['profile-level-id']);

export function parseFmtpParameters(text: string): FmtpParameters {
  const out: FmtpParameters = {};
  for (const part of text.split(';')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) continue; // e.g. "0-15" (telephone-event) or "111/111" (RED): kept in `fmtp`
    const key = p.slice(0, eq).trim();
    const value = p.slice(eq + 1).trim();
    out[key] = /^\d+$/.test(value) && !STRING_PARAMS.has(key.toLowerCase()) ? Number(value) : value;
  }
  return out;
}

/** The codecs of an RTP m-section, in m-line order; formats without a usable rtpmap are skipped. */
export function parseCodecs(m: SdpMediaSection, attrs: Attributes = new Attributes(m.lines)): SdpCodec[] {
  const rtpmaps = new Map<number, string>();
  const fmtps = new Map<number, string>();
  const fbs = new Map<number, RtcpFeedbackEntry[]>();
  const wildcardFb: RtcpFeedbackEntry[] = [];
  for (const name of ['rtpmap', 'fmtp', 'rtcp-fb'] as const) {
    for (const value of attrs.all(name)) {
      const sp = value.indexOf(' ');
      if (sp < 0) continue;
      const head = value.slice(0, sp);
      const rest = value.slice(sp + 1).trim();
      if (name === 'rtcp-fb') {
        const [type, ...param] = rest.split(/\s+/);
        const fb: RtcpFeedbackEntry = param.length ? { type, parameter: param.join(' ') } : { type };
        if (head === '*') wildcardFb.push(fb);
        else {
          const list = fbs.get(Number(head));
          if (list) list.push(fb);
          else fbs.set(Number(head), [fb]);
        }
        continue;
      }
      const pt = Number(head);
      if (!Number.isInteger(pt)) continue;
      const map = name === 'rtpmap' ? rtpmaps : fmtps;
      if (!map.has(pt)) map.set(pt, rest);
    }
  }
  const codecs: SdpCodec[] = [];
  for (const f of m.formats) {
    const pt = Number(f);
    if (!Number.isInteger(pt)) continue;
    let name: string;
    let clockRate: number;
    let channels: number | undefined;
    const map = rtpmaps.get(pt);
    if (map !== undefined) {
      // <name>/<rate>[/<channels>], as map.split('/') would give them, without the array.
      const s1 = map.indexOf('/');
      const s2 = s1 < 0 ? -1 : map.indexOf('/', s1 + 1);
      const s3 = s2 < 0 ? -1 : map.indexOf('/', s2 + 1);
      name = s1 < 0 ? map : map.slice(0, s1);
      clockRate = s1 < 0 ? NaN : Number(s2 < 0 ? map.slice(s1 + 1) : map.slice(s1 + 1, s2));
      channels = s2 < 0 ? undefined : Number(s3 < 0 ? map.slice(s2 + 1) : map.slice(s2 + 1, s3));
      if (!Number.isFinite(clockRate)) continue;
    } else if (STATIC_PTS[pt]) {
      ({ name, clockRate, channels } = STATIC_PTS[pt]);
    } else {
      continue;
    }
    if (m.kind === 'audio' && channels === undefined) channels = 1;
    const fmtp = fmtps.get(pt);
    const codec: SdpCodec = {
      payloadType: pt,
      name,
      mimeType: `${m.kind}/${name}`,
      clockRate,
      parameters: fmtp !== undefined ? parseFmtpParameters(fmtp) : {},
      rtcpFeedback: [...(fbs.get(pt) ?? []), ...wildcardFb],
    };
    if (channels !== undefined) codec.channels = channels;
    if (fmtp !== undefined) codec.fmtp = fmtp;
    codecs.push(codec);
  }
  return codecs;
}

export const ENCRYPT_URI = 'urn:ietf:params:rtp-hdrext:encrypt';

export function parseExtmaps(m: SdpMediaSection, attrs: Attributes = new Attributes(m.lines)): SdpExtmap[] {
  const out: SdpExtmap[] = [];
  for (const value of attrs.all('extmap')) {
    const parts = value.trim().split(/\s+/);
    if (parts.length < 2) continue;
    const [idText, dirText] = parts[0].split('/');
    const id = Number(idText);
    if (!Number.isInteger(id) || id < 1 || id > 255) continue;
    let uri = parts[1];
    const encrypted = uri === ENCRYPT_URI;
    if (encrypted) {
      if (parts.length < 3) continue;
      uri = parts[2];
    }
    const ext: SdpExtmap = { id, uri, encrypted };
    if (isDirection(dirText)) ext.direction = dirText.toLowerCase() as Direction;
    out.push(ext);
  }
  return out;
}

/** The PT that an rtx codec repairs (its `apt`), or undefined. */
export function aptOf(codec: SdpCodec): number | undefined {
  const apt = codec.parameters['apt'];
  return typeof apt === 'number' ? apt : undefined;
}

export function isRtx(codec: SdpCodec): boolean {
  return codec.name.toLowerCase() === 'rtx';
}

/** Map from a media PT to the rtx PT that repairs it. */
export function rtxMap(codecs: readonly SdpCodec[]): Map<number, number> {
  const map = new Map<number, number>();
  for (const c of codecs) {
    const apt = isRtx(c) ? aptOf(c) : undefined;
    if (apt !== undefined && !map.has(apt)) map.set(apt, c.payloadType);
  }
  return map;
}
