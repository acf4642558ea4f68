// Negotiation result → mediasoup parameters (pure, in the spirit of mediasoup's ortc module).
// Input: the client's SDP (its offer or its answer) and the full SDP we sent it (the merged
// answer or offer). Output per m-line: who sends, the negotiated codecs with the PTs of this
// PeerConnection, RTX, header extensions, the client's encodings; and the data channel.
//
// Which header extensions go where:
// - Producers (what the client sends) get the extensions *the client declared* on that
//   m-line (its own SDP), minus ones it only receives and encrypted ones. The worker must
//   parse every extension the client may put in its packets (mid, rid, repaired-rid for
//   demuxing; abs-send-time/transport-cc for BWE), IDs are unique per BUNDLE group, and
//   declaring one the client then does not send is harmless; so the superset is the safe set.
//   (janus-sdp.lua's answer keeps only mid, rid, repaired-rid and transport-cc.)
// - Consumers (what the server sends to the client) get only the extensions in the *answer*:
//   those are the ones the client agreed to parse, with its IDs. rid/repaired-rid are left
//   out: a Consumer sends one plain stream.

import { getSupportedRtpCapabilities } from 'mediasoup';
import type {
  MediaKind,
  RtpCapabilities,
  RtpCodecCapability,
  RtpCodecParameters,
  RtpHeaderExtension,
  RtpParameters,
  RtpEncodingParameters,
} from 'mediasoup/node/lib/RtpParameters';
import type { ClientEncoding, ClientSdp } from './client-sdp';
import { type FmtpParameters, type RtcpFeedbackEntry, type SdpCodec, type SdpExtmap, isRtx, parseCodecs, parseExtmaps, rtxMap } from './rtp-attributes';
import { Attributes, type Direction, type Sdp, directionOf, parseSdp } from './sdp-text';

export interface NegotiatedCodec {
  payloadType: number;
  mimeType: string;
  clockRate: number;
  channels?: number;
  parameters: FmtpParameters;
  rtcpFeedback: RtcpFeedbackEntry[];
  /** RTX PT for this codec on this PeerConnection, when RTX is negotiated. */
  rtxPayloadType?: number;
}

export interface NegotiatedExtension {
  uri: string;
  id: number;
}

export interface NegotiatedMedia {
  mindex: number;
  mid: string;
  kind: MediaKind;
  /** The client sends and the server receives (→ a Producer). */
  clientSends: boolean;
  /** The server sends and the client receives (→ Consumers). */
  clientReceives: boolean;
  /** The answer's codecs (first = preferred), with their PTs; RTX folded into rtxPayloadType. */
  codecs: NegotiatedCodec[];
  /** For Producers: the extensions the client declared (see the header comment). */
  sendExtensions: NegotiatedExtension[];
  /** For Consumers: the extensions in the answer, minus rid/repaired-rid. */
  recvExtensions: NegotiatedExtension[];
  /** What the client sends, lowest layer first (empty when it sends nothing or said nothing). */
  encodings: ClientEncoding[];
  cname?: string;
  /** The client offered/answered a=rtcp-rsize. */
  rtcpReducedSize: boolean;
}

export interface NegotiatedData {
  mindex: number;
  mid: string;
  /** The client's SCTP port (a=sctp-port, or the legacy sctpmap/format port). */
  sctpPort: number;
  /** The largest message the client accepts (a=max-message-size); undefined = not said (RFC 8841: 64 KiB). */
  maxMessageSize?: number;
  legacy: boolean;
}

export interface Negotiation {
  media: NegotiatedMedia[];
  /** The first data m-line both sides kept, if any. */
  data?: NegotiatedData;
}

export interface NegotiationInput {
  /** The client's SDP, extracted (its offer or its answer). */
  client: ClientSdp;
  /** The full SDP the server sent the client (mergeLocalSdp's output). */
  local: string | Sdp;
  /** True when the client made the offer and `local` is our answer. */
  clientIsOfferer: boolean;
}

const RID_URIS = new Set([
  'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
]);

/** Codecs mediasoup can route (its supportedRtpCapabilities), as mimeType/clockRate. */
const SUPPORTED: ReadonlySet<string> = new Set(
  getSupportedRtpCapabilities().codecs?.map((c) => `${c.mimeType.toLowerCase()}/${c.clockRate}`) ?? [],
);

export function isSupportedByMediasoup(mimeType: string, clockRate: number): boolean {
  return SUPPORTED.has(`${mimeType.toLowerCase()}/${clockRate}`);
}

function sends(d: Direction): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}

function receives(d: Direction): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}

function extensionsFor(extmaps: readonly SdpExtmap[], keep: (e: SdpExtmap) => boolean): NegotiatedExtension[] {
  return extmaps.filter((e) => !e.encrypted && keep(e)).map((e) => ({ uri: e.uri, id: e.id }));
}

/** Media codecs of the answer that mediasoup can route, with RTX folded in. */
function negotiatedCodecs(all: readonly SdpCodec[]): NegotiatedCodec[] {
  const rtx = rtxMap(all);
  return all
    .filter((c) => !isRtx(c) && isSupportedByMediasoup(c.mimeType, c.clockRate))
    .map((c) => {
      const n: NegotiatedCodec = codecFields(c);
      const r = rtx.get(c.payloadType);
      if (r !== undefined) n.rtxPayloadType = r;
      return n;
    });
}

/** The negotiated result of one offer/answer exchange. m-lines are matched by index. */
export function negotiate(input: NegotiationInput): Negotiation {
  const local = typeof input.local === 'string' ? parseSdp(input.local) : input.local;
  const out: Negotiation = { media: [] };
  local.media.forEach((lm, mindex) => {
    const cm = input.client.media[mindex];
    if (!cm || cm.kind !== lm.kind || lm.port === 0 || cm.rejected) return;
    if (lm.kind === 'application') {
      if (!out.data && cm.sctp) {
        const data: NegotiatedData = { mindex, mid: cm.mid, sctpPort: cm.sctp.port, legacy: cm.sctp.legacy };
        if (cm.sctp.maxMessageSize !== undefined) data.maxMessageSize = cm.sctp.maxMessageSize;
        out.data = data;
      }
      return;
    }
    if (lm.kind !== 'audio' && lm.kind !== 'video') return;
    const localDir = directionOf(lm.lines);
    const clientSends = sends(cm.direction) && receives(localDir);
    const clientReceives = receives(cm.direction) && sends(localDir);
    // The answer decides codecs and extensions; when the client answered, that is its SDP.
    const attrs = input.clientIsOfferer ? new Attributes(lm.lines) : undefined;
    const answerCodecs = negotiatedCodecs(attrs ? parseCodecs(lm, attrs) : cm.codecs);
    const answerExts = attrs ? parseExtmaps(lm, attrs) : cm.extmaps;
    const media: NegotiatedMedia = {
      mindex,
      mid: cm.mid,
      kind: lm.kind,
      clientSends,
      clientReceives,
      codecs: answerCodecs,
      sendExtensions: extensionsFor(cm.extmaps, (e) => e.direction !== 'recvonly' && e.direction !== 'inactive'),
      recvExtensions: extensionsFor(answerExts, (e) => !RID_URIS.has(e.uri)),
      encodings: clientSends ? cm.encodings.map((e) => ({ ...e })) : [],
      rtcpReducedSize: cm.rtcpReducedSize,
    };
    if (cm.cname !== undefined) media.cname = cm.cname;
    out.media.push(media);
  });
  return out;
}

/** The fields an SDP codec, a negotiated codec and mediasoup's codec parameters share, copied. */
function codecFields(c: SdpCodec | NegotiatedCodec): NegotiatedCodec & RtpCodecParameters {
  const p: NegotiatedCodec & RtpCodecParameters = {
    mimeType: c.mimeType,
    payloadType: c.payloadType,
    clockRate: c.clockRate,
    parameters: { ...c.parameters },
    rtcpFeedback: c.rtcpFeedback.map((f) => ({ ...f })),
  };
  if (c.channels !== undefined) p.channels = c.channels;
  return p;
}

function rtxCodec(kind: MediaKind, rtxPt: number, apt: number): RtpCodecParameters {
  return { mimeType: `${kind}/rtx`, payloadType: rtxPt, clockRate: 90000, parameters: { apt }, rtcpFeedback: [] };
}

/**
 * RtpParameters for `transport.produce()` of what the client sends on this m-line: its PTs,
 * RTX, the extensions it declared, and its encodings (rids low..high, SIM SSRCs low..high,
 * or one SSRC + RTX SSRC; a single empty encoding when it announced none, which mediasoup
 * then binds by mid).
 */
export function toProducerRtpParameters(m: NegotiatedMedia): RtpParameters {
  const codecs: RtpCodecParameters[] = [];
  for (const c of m.codecs) {
    codecs.push(codecFields(c));
    if (c.rtxPayloadType !== undefined) codecs.push(rtxCodec(m.kind, c.rtxPayloadType, c.payloadType));
  }
  const hasRtx = m.codecs.some((c) => c.rtxPayloadType !== undefined);
  // libwebrtc sends VP8 simulcast layers with three temporal layers each; without saying
  // so, mediasoup takes one and relays only the base layer (a quarter of the frames).
  const temporalLayers = m.encodings.length > 1 && m.codecs[0]?.mimeType.toLowerCase() === 'video/vp8';
  const encodings: RtpEncodingParameters[] = m.encodings.map((e) => {
    const enc: RtpEncodingParameters = {};
    if (temporalLayers) enc.scalabilityMode = 'L1T3';
    if (e.rid !== undefined) enc.rid = e.rid;
    if (e.ssrc !== undefined) enc.ssrc = e.ssrc;
    if (e.ssrc !== undefined && e.rtxSsrc !== undefined && hasRtx) enc.rtx = { ssrc: e.rtxSsrc };
    return enc;
  });
  const params: RtpParameters = {
    mid: m.mid,
    codecs,
    headerExtensions: m.sendExtensions.map((e) => ({ uri: e.uri, id: e.id })),
    encodings: encodings.length > 0 ? encodings : [{}],
    rtcp: { reducedSize: m.rtcpReducedSize, mux: true },
  };
  if (m.cname !== undefined) params.rtcp!.cname = m.cname;
  return params;
}

/** A negotiated codec as a capability of `kind`, preferring the client's PT. */
function codecCapability(kind: MediaKind, c: NegotiatedCodec): RtpCodecCapability {
  const { payloadType, ...fields } = codecFields(c);
  return { kind, preferredPayloadType: payloadType, ...fields };
}

/**
 * RtpCapabilities for consuming onto this client on this m-line: its codecs with its PTs
 * (plus RTX), and the answer's extensions with its IDs. With stock mediasoup only the
 * codecs' matching matters (the Consumer uses the router's PTs and IDs); our worker edits
 * make the Consumer use these PTs and IDs.
 */
export function toConsumerRtpCapabilities(m: NegotiatedMedia): RtpCapabilities {
  const codecs: RtpCodecCapability[] = [];
  for (const c of m.codecs) {
    codecs.push(codecCapability(m.kind, c));
    if (c.rtxPayloadType !== undefined) {
      codecs.push({
        kind: m.kind,
        mimeType: `${m.kind}/rtx`,
        preferredPayloadType: c.rtxPayloadType,
        clockRate: 90000,
        parameters: { apt: c.payloadType },
        rtcpFeedback: [],
      });
    }
  }
  const headerExtensions: RtpHeaderExtension[] = m.recvExtensions.map((e) => ({
    kind: m.kind,
    uri: e.uri,
    preferredId: e.id,
    preferredEncrypt: false,
    direction: 'sendrecv',
  }));
  return { codecs, headerExtensions };
}
