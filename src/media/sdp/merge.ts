// Merges a script's minimal SDP with the handle's transport (docs/contract.md §3.1 "What the
// core must add", Janus's janus_sdp_merge): mids, ICE (mediasoup is ICE-lite), DTLS, BUNDLE,
// RTX, the SSRCs the server sends with, rid/simulcast recv, and all local candidates.

import type { DtlsParameters, IceCandidate, IceParameters } from 'mediasoup/node/lib/WebRtcTransport';
import type { ClientSdp } from './client-sdp';
import type { LocalSsrcs } from './local-ssrcs';
import { anonymiseSdp, normaliseSectionOrder } from './anonymise';
import { isRtx, parseCodecs, rtxMap } from './rtp-attributes';
import {
  type Direction,
  type Sdp,
  type SdpLine,
  type SdpMediaSection,
  attr,
  attrName,
  attrValue,
  directionOf,
  hasAttr,
  midOf,
  parseSdp,
  writeSdp,
} from './sdp-text';

export interface MergeContext {
  type: 'offer' | 'answer';
  /** The transport's announced address: o= and every c=. */
  announcedIp: string;
  iceParameters: IceParameters;
  iceCandidates: readonly IceCandidate[];
  /** The transport's fingerprints; the sha-256 one is written. */
  dtlsParameters: DtlsParameters;
  /**
   * Answers: OUR DTLS role: 'client' → a=setup:active (default), 'server' → passive. Note that
   * mediasoup's transport.connect() wants the remote's role (see dtls.ts).
   */
  dtlsRole?: 'client' | 'server';
  /** The client's SDP: required for answers (mids, RTX, rids). */
  client?: ClientSdp;
  /** Per mid: what the server sends with (chooseLocalSsrcs). A mid without an entry gets no a=ssrc. */
  localSsrcs: Readonly<Record<string, LocalSsrcs>>;
  /** Offers: rtx PT for a video PT (default: the next free PT after it). */
  rtxPayloadTypes?: Readonly<Record<number, number>>;
  /** Half-trickle (default true): write every local candidate and a=end-of-candidates. */
  includeCandidates?: boolean;
  /** Default true: mediasoup is ICE-lite. */
  iceLite?: boolean;
  /** Written as a=max-message-size on the data m-line when given. */
  sctpMaxMessageSize?: number;
  /** o= session id when the script's is 0 (default: now in ms). */
  sessionId?: string;
}

export interface MergedMedia {
  mindex: number;
  mid: string;
  kind: string;
  /** 0 when rejected. */
  port: number;
  /** The script's direction, i.e. from the server's point of view. */
  direction: Direction;
  serverSends: boolean;
  serverReceives: boolean;
  /** Written a=ssrc (server sends). */
  ssrc?: number;
  rtxSsrc?: number;
  /** Video: media PT → rtx PT, as written. */
  rtxPayloadTypes: Record<number, number>;
}

export interface MergeResult {
  sdp: string;
  /** `sdp` as structured data, for the negotiation (so it is not parsed back). */
  parsed: Sdp;
  media: MergedMedia[];
}

/** Session attributes we write ourselves; a script's copies would duplicate them. */
const OWN_SESSION_ATTRS = new Set(['group', 'ice-options', 'fingerprint', 'extmap-allow-mixed', 'msid-semantic', 'ice-lite']);

const RID_URIS = [
  'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
];

/** What mids and kinds a script SDP will have once merged; for choosing SSRCs first. */
export function localMediaOf(
  pluginSdp: string | Sdp,
  type: 'offer' | 'answer',
  client?: ClientSdp,
): { mindex: number; mid: string; kind: string; rejected: boolean; direction: Direction }[] {
  const sdp = typeof pluginSdp === 'string' ? parseSdp(pluginSdp) : pluginSdp;
  return sdp.media.map((m, mindex) => ({
    mindex,
    mid: midFor(m, mindex, type, client),
    kind: m.kind,
    rejected: m.port === 0 || !supported(m),
    direction: m.port === 0 ? 'inactive' : directionOf(m.lines),
  }));
}

/** Audio, video, and SCTP data channels; Janus rejects every other m-line. */
function supported(m: SdpMediaSection): boolean {
  if (m.kind === 'audio' || m.kind === 'video') return true;
  return m.kind === 'application' && /DTLS\/SCTP$/i.test(m.proto);
}

function midFor(m: SdpMediaSection, mindex: number, type: 'offer' | 'answer', client?: ClientSdp): string {
  if (type === 'answer' && client?.media[mindex]) return client.media[mindex].mid;
  return midOf(m)?.trim() || String(mindex);
}

/** `candidate:` line for a mediasoup (host) candidate, as Janus formats its own. */
export function candidateLine(c: IceCandidate): string {
  const base = `candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${c.ip} ${c.port} typ ${c.type}`;
  return c.protocol === 'tcp' ? `${base} tcptype ${c.tcpType ?? 'passive'}` : base;
}

function ipVersion(ip: string): 'IP4' | 'IP6' {
  return ip.includes(':') ? 'IP6' : 'IP4';
}

function mergeOrigin(value: string | undefined, ip: string, sessionId: string): string {
  const parts = (value ?? '').trim().split(/\s+/);
  let [name, id, version] = parts;
  if (parts.length < 3) [name, id, version] = ['-', '0', '0'];
  if (!/^\d+$/.test(id) || !/^\d+$/.test(version) || BigInt(id) === 0n || BigInt(version) === 0n) {
    id = sessionId;
    version = '1';
  }
  return `${name} ${id} ${version} IN ${ipVersion(ip)} ${ip}`;
}

/** Next PT for RTX: after `pt`, wrapping into the dynamic range, skipping used ones. */
function freeRtxPt(pt: number, used: Set<number>): number {
  let candidate = pt + 1;
  for (let i = 0; i < 128; i++) {
    if (candidate > 127 || candidate < 96) candidate = candidate > 127 ? 96 : Math.max(candidate, 96);
    if (!used.has(candidate)) return candidate;
    candidate++;
  }
  throw new Error('no free payload type for RTX');
}

function clientRidAttributes(client: ClientSdp, mindex: number): SdpLine[] {
  const cm = client.media[mindex];
  if (!cm || cm.kind !== 'video') return [];
  const rids = cm.rids.filter((r) => r.direction === 'send').slice(0, 3);
  if (rids.length === 0) return [];
  const sim = cm.simulcast ?? '';
  const legacy = sim.includes('rid=');
  // Layers the client marked paused ("~h") stay marked in our recv list, as Janus does.
  const paused = new Set(sim.split(/[\s;,=]+/).filter((t) => t.startsWith('~')).map((t) => t.slice(1)));
  const list = rids.map((r) => (paused.has(r.id) ? `~${r.id}` : r.id)).join(';');
  return [
    ...rids.map((r) => attr('rid', `${r.id} recv`)),
    attr('simulcast', legacy ? ` recv rid=${list}` : `recv ${list}`),
  ];
}

/**
 * The full SDP for the client, and what each m-line means for the media plane. Throws
 * InvalidSdpError when the script's SDP is not SDP, Error for a context that cannot work
 * (no sha-256 fingerprint, an answer without the client's SDP).
 */
export function mergeLocalSdp(pluginSdp: string | Sdp, ctx: MergeContext): MergeResult {
  const parsed = typeof pluginSdp === 'string' ? parseSdp(pluginSdp) : pluginSdp;
  if (ctx.type === 'answer' && !ctx.client) throw new Error('mergeLocalSdp: an answer needs the client SDP');
  const fingerprint = ctx.dtlsParameters.fingerprints.find((f) => f.algorithm.toLowerCase() === 'sha-256');
  if (!fingerprint) throw new Error('mergeLocalSdp: the transport has no sha-256 fingerprint');
  const plan = localMediaOf(parsed, ctx.type, ctx.client);
  // The script's SDP is anonymised too (Janus does the same): stray ICE/SSRC/RTX lines go.
  const sdp = anonymiseSdp(parsed);
  const ip = ctx.announcedIp;
  const includeCandidates = ctx.includeCandidates ?? true;
  const setup = ctx.type === 'offer' ? 'actpass' : ctx.dtlsRole === 'server' ? 'passive' : 'active';
  const candidates = ctx.iceCandidates.map(candidateLine);

  // Session: v= o= s= t= first, no session c=, then our attributes, then the script's.
  const find = (t: string): SdpLine | undefined => sdp.session.find((l) => l.type === t);
  const bundle = plan.filter((p, i) => sdp.media[i].port > 0 && !p.rejected).map((p) => p.mid);
  const session: SdpLine[] = [
    { type: 'v', value: '0' },
    { type: 'o', value: mergeOrigin(find('o')?.value, ip, ctx.sessionId ?? String(Date.now())) },
    { type: 's', value: find('s')?.value || 'Meetecho Janus' },
    { type: 't', value: find('t')?.value ?? '0 0' },
    attr('group', ['BUNDLE', ...bundle].join(' ')),
    attr('ice-options', 'trickle'),
    attr('fingerprint', `sha-256 ${fingerprint.value.toUpperCase()}`),
    attr('extmap-allow-mixed'),
    attr('msid-semantic', ' WMS *'),
    ...((ctx.iceLite ?? true) ? [attr('ice-lite')] : []),
    ...sdp.session.filter((l) => !['v', 'o', 's', 't', 'c'].includes(l.type) && !OWN_SESSION_ATTRS.has((attrName(l) ?? '').toLowerCase())),
  ];

  const usedPts = new Set<number>();
  for (const m of sdp.media) for (const f of m.formats) if (/^\d+$/.test(f)) usedPts.add(Number(f));

  const merged: MergedMedia[] = [];
  sdp.media.forEach((m, mindex) => {
    const p = plan[mindex];
    const info: MergedMedia = {
      mindex,
      mid: p.mid,
      kind: m.kind,
      port: m.port,
      direction: p.direction,
      serverSends: false,
      serverReceives: false,
      rtxPayloadTypes: {},
    };
    merged.push(info);
    const av = m.kind === 'audio' || m.kind === 'video';
    if (av) m.proto = 'UDP/TLS/RTP/SAVPF';
    const own = m.lines.filter((l) => {
      const n = attrName(l)?.toLowerCase();
      if (l.type === 'c' || n === 'mid') return false;
      if (ctx.type === 'offer' && n === 'extmap' && RID_URIS.some((u) => (attrValue(l) ?? '').includes(u))) return false;
      return true;
    });
    const head: SdpLine[] = [{ type: 'c', value: `IN ${ipVersion(ip)} ${ip}` }];
    if (p.rejected) {
      // Rejected or unsupported: port 0, inactive, only the mid (Janus's writer).
      m.port = 0;
      info.port = 0;
      info.direction = 'inactive';
      m.lines = [...head, attr('inactive'), attr('mid', p.mid)];
      return;
    }
    head.push(attr('mid', p.mid));
    if (av) head.push(attr('rtcp-mux'));
    else if (/^UDP\/DTLS\/SCTP$/i.test(m.proto)) head.push(attr('sctp-port', '5000'));
    else head.push(attr('sctpmap', '5000 webrtc-datachannel 16'));
    head.push(
      attr('ice-ufrag', ctx.iceParameters.usernameFragment),
      attr('ice-pwd', ctx.iceParameters.password),
      attr('ice-options', 'trickle'),
      attr('setup', setup),
    );
    if (!av && ctx.sctpMaxMessageSize !== undefined) head.push(attr('max-message-size', String(ctx.sctpMaxMessageSize)));
    const tail: SdpLine[] = [];
    const dir = p.direction;
    info.serverSends = av ? dir === 'sendrecv' || dir === 'sendonly' : true;
    info.serverReceives = av ? dir === 'sendrecv' || dir === 'recvonly' : true;

    if (m.kind === 'video') {
      // RFC 4588: answers repeat the client's rtx PTs (when it offered NACK); offers add them.
      const codecs = parseCodecs(m).filter((c) => !isRtx(c));
      let pairs: [number, number][] = [];
      if (ctx.type === 'answer') {
        const cm = ctx.client?.media[mindex];
        const nack = cm?.codecs.some((c) => c.rtcpFeedback.some((f) => f.type === 'nack')) ?? false;
        const map = cm ? rtxMap(cm.codecs) : new Map<number, number>();
        if (nack) pairs = codecs.flatMap((c) => (map.has(c.payloadType) ? [[c.payloadType, map.get(c.payloadType)!] as [number, number]] : []));
      } else if (codecs.some((c) => c.rtcpFeedback.some((f) => f.type === 'nack'))) {
        for (const c of codecs) {
          const rtx = ctx.rtxPayloadTypes?.[c.payloadType] ?? freeRtxPt(c.payloadType, usedPts);
          usedPts.add(rtx);
          pairs.push([c.payloadType, rtx]);
        }
      }
      for (const [pt, rtx] of pairs) {
        if (!m.formats.includes(String(rtx))) m.formats.push(String(rtx));
        tail.push(attr('rtpmap', `${rtx} rtx/90000`), attr('fmtp', `${rtx} apt=${pt}`));
        info.rtxPayloadTypes[pt] = rtx;
      }
    }
    if (av) {
      const local = ctx.localSsrcs[p.mid];
      const sendsRtx = m.kind === 'video' && Object.keys(info.rtxPayloadTypes).length > 0 && local?.rtxSsrc !== undefined;
      if (info.serverSends && local && sendsRtx) tail.push(attr('ssrc-group', `FID ${local.ssrc} ${local.rtxSsrc}`));
      if (dir !== 'inactive' && !hasAttr(own, 'msid')) tail.push(attr('msid', `janus janus${p.mid}`));
      if (info.serverSends && local) {
        info.ssrc = local.ssrc;
        tail.push(attr('ssrc', `${local.ssrc} cname:janus`));
        if (sendsRtx) {
          info.rtxSsrc = local.rtxSsrc;
          tail.push(attr('ssrc', `${local.rtxSsrc} cname:janus`));
        }
      }
      if (ctx.type === 'answer' && ctx.client) tail.push(...clientRidAttributes(ctx.client, mindex));
    }
    if (includeCandidates) {
      for (const c of candidates) tail.push(attr(c));
      tail.push(attr('end-of-candidates'));
    }
    // Direction goes right after c= (Janus's writer), then our transport lines, then the script's.
    const ordered = normaliseSectionOrder([...head, ...own], m.port);
    m.lines = [...ordered, ...tail];
  });
  const out: Sdp = { session, media: sdp.media };
  return { sdp: writeSdp(out), parsed: out, media: merged };
}
