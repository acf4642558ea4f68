// What the core keeps from a client's SDP before handing the script its anonymised copy:
// transport (ICE, DTLS), per m-line identity (mid, kind), what the client sends (SSRCs, RTX,
// rids, simulcast), and its codecs and extension IDs (docs/contract.md §3.1).

import { InvalidSdpError } from '../../plugin/media-errors';
import type { ClientJsep } from '../../plugin/media-plane';
import type { JsepSimulcast, PluginJsep } from '../../plugin/plugin';
import { anonymiseSdp } from './anonymise';
import { type SdpCodec, type SdpExtmap, parseCodecs, parseExtmaps } from './rtp-attributes';
import { Attributes, type Direction, type Sdp, directionOf, parseSdp, writeSdp } from './sdp-text';

export type DtlsSetup = 'actpass' | 'active' | 'passive' | 'holdconn';

export interface Fingerprint {
  /** Lower-case hash name, e.g. "sha-256". */
  algorithm: string;
  /** Upper-case colon-separated hex, as SDP writes it. */
  value: string;
}

export interface SsrcGroup {
  semantics: string;
  ssrcs: number[];
}

/** One stream the client sends on an m-line (a simulcast layer, or the only one). */
export interface ClientEncoding {
  ssrc?: number;
  rtxSsrc?: number;
  rid?: string;
}

export interface RidDescription {
  id: string;
  direction: 'send' | 'recv';
  /** Whatever follows the direction (`pt=...;max-width=...`), if anything. */
  params?: string;
}

export interface SctpDescription {
  /** a=sctp-port (new syntax) or the sctpmap/format port (legacy). */
  port: number;
  maxMessageSize?: number;
  /** True for legacy `DTLS/SCTP` with `a=sctpmap`. */
  legacy: boolean;
}

export interface ClientMedia {
  mindex: number;
  /** a=mid, or the m-line index as a string when the client wrote none. */
  mid: string;
  kind: string;
  port: number;
  proto: string;
  /** Port 0. */
  rejected: boolean;
  /** As the client wrote it (client's point of view). */
  direction: Direction;
  iceUfrag?: string;
  icePwd?: string;
  fingerprint?: Fingerprint;
  setup?: DtlsSetup;
  msid?: { streamId: string; trackId?: string };
  cname?: string;
  /** Every SSRC in a=ssrc lines, first-seen order. */
  ssrcs: number[];
  ssrcGroups: SsrcGroup[];
  rids: RidDescription[];
  /** a=rtcp-rsize present. */
  rtcpReducedSize: boolean;
  /** Raw a=simulcast value, if any. */
  simulcast?: string;
  /**
   * What the client sends, lowest quality first: rid layers, SIM-group SSRC layers, or a
   * single SSRC (with its FID rtx SSRC). Empty when the client announced nothing.
   */
  encodings: ClientEncoding[];
  extmaps: SdpExtmap[];
  /** All codecs the client offered on this m-line, including rtx/red/fec. */
  codecs: SdpCodec[];
  /** `candidate:...` values (without `a=`). */
  candidates: string[];
  endOfCandidates: boolean;
  sctp?: SctpDescription;
}

export interface ClientSdp {
  /** Transport ICE credentials (first m-line's, else session's). */
  iceUfrag: string;
  icePwd: string;
  iceLite: boolean;
  fingerprint: Fingerprint;
  setup?: DtlsSetup;
  /** Mids of `a=group:BUNDLE`, empty when absent. */
  bundle: string[];
  media: ClientMedia[];
  /** The jsep `simulcast` array for the script, empty when nothing is simulcast. */
  simulcast: JsepSimulcast[];
}

export interface ExtractOptions {
  /** The jsep's rid_order: how the client lists its rids (default 'hml', high first). */
  ridOrder?: 'hml' | 'lmh';
}

const RID_EXT_URI = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';

function invalid(reason: string): InvalidSdpError {
  return new InvalidSdpError(reason);
}

/**
 * The DTLS fingerprint hashes mediasoup checks a certificate with (Janus takes sha-256 and
 * sha-1 and fails the SDP otherwise, 465): any other would pass the offer and fail later.
 */
const DTLS_HASHES: ReadonlySet<string> = new Set(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']);

function parseFingerprint(value: string | undefined): Fingerprint | undefined {
  if (!value) return undefined;
  const [algorithm, fp] = value.trim().split(/\s+/);
  if (!algorithm || !fp) return undefined;
  return { algorithm: algorithm.toLowerCase(), value: fp.toUpperCase() };
}

/**
 * Our DTLS role towards a client whose SDP says `setup`. As Janus: we answer setup:active (DTLS
 * client) unless the client insisted on active itself; to the client's answer after our
 * actpass offer, active makes us the server. (mediasoup's connect() takes the other role.)
 */
export function ourDtlsRole(setup: DtlsSetup | undefined): 'client' | 'server' {
  return setup === 'active' ? 'server' : 'client';
}

function parseSetup(value: string | undefined): DtlsSetup | undefined {
  const v = value?.trim().toLowerCase();
  return v === 'actpass' || v === 'active' || v === 'passive' || v === 'holdconn' ? v : undefined;
}

function parseSsrcs(attrs: Attributes): { ssrcs: number[]; cname?: string } {
  const ssrcs: number[] = [];
  let cname: string | undefined;
  for (const v of attrs.all('ssrc')) {
    const m = /^(\d+)(?:\s+([^:\s]+)(?::(.*))?)?/.exec(v.trim());
    if (!m) continue;
    const ssrc = Number(m[1]);
    if (ssrc <= 0 || ssrc > 0xffffffff) continue;
    if (!ssrcs.includes(ssrc)) ssrcs.push(ssrc);
    if (m[2] === 'cname' && cname === undefined && m[3] !== undefined) cname = m[3];
  }
  return { ssrcs, cname };
}

function parseSsrcGroups(attrs: Attributes): SsrcGroup[] {
  return attrs.all('ssrc-group')
    .map((v) => v.trim().split(/\s+/))
    .filter((p) => p.length >= 2)
    .map(([semantics, ...ssrcs]) => ({ semantics, ssrcs: ssrcs.map(Number).filter((n) => n > 0) }));
}

function parseRids(attrs: Attributes): RidDescription[] {
  const out: RidDescription[] = [];
  for (const v of attrs.all('rid')) {
    const [id, dir, ...rest] = v.trim().split(/\s+/);
    if (!id) continue;
    const rid: RidDescription = { id, direction: dir === 'recv' ? 'recv' : 'send' };
    if (rest.length) rid.params = rest.join(' ');
    out.push(rid);
  }
  return out;
}

/** rids as Janus hands them to the script: highest first, at most three. */
function ridsHighToLow(rids: readonly RidDescription[], order: 'hml' | 'lmh'): string[] {
  const ids = rids.filter((r) => r.direction === 'send').map((r) => r.id).slice(0, 3);
  return order === 'hml' ? ids : ids.reverse();
}

function deriveEncodings(
  rids: readonly RidDescription[],
  ssrcs: readonly number[],
  groups: readonly SsrcGroup[],
  order: 'hml' | 'lmh',
): ClientEncoding[] {
  const fid = new Map<number, number>();
  for (const g of groups) if (g.semantics.toUpperCase() === 'FID' && g.ssrcs.length >= 2) fid.set(g.ssrcs[0], g.ssrcs[1]);
  const withRtx = (ssrc: number): ClientEncoding => {
    const rtx = fid.get(ssrc);
    return rtx !== undefined ? { ssrc, rtxSsrc: rtx } : { ssrc };
  };
  const sendRids = ridsHighToLow(rids, order);
  if (sendRids.length > 0) return [...sendRids].reverse().map((rid) => ({ rid }));
  const sim = groups.find((g) => g.semantics.toUpperCase() === 'SIM' && g.ssrcs.length > 0);
  if (sim) return sim.ssrcs.slice(0, 3).map(withRtx);
  // A single stream: the first FID's primary, else the first SSRC that is not an rtx SSRC.
  const rtxSsrcs = new Set(fid.values());
  const primary = [...fid.keys()][0] ?? ssrcs.find((s) => !rtxSsrcs.has(s));
  return primary !== undefined ? [withRtx(primary)] : [];
}

function parseSctp(kind: string, proto: string, formats: readonly string[], attrs: Attributes): SctpDescription | undefined {
  if (kind !== 'application' || !/DTLS\/SCTP$/i.test(proto)) return undefined;
  const maxText = attrs.first('max-message-size');
  const max = maxText !== undefined && /^\d+$/.test(maxText.trim()) ? Number(maxText.trim()) : undefined;
  const sctpPort = attrs.first('sctp-port');
  const sctpmap = attrs.first('sctpmap');
  let port = 5000;
  let legacy = false;
  if (sctpPort !== undefined && /^\d+$/.test(sctpPort.trim())) {
    port = Number(sctpPort.trim());
  } else if (sctpmap !== undefined) {
    legacy = true;
    port = Number(sctpmap.trim().split(/\s+/)[0]) || 5000;
  } else if (/^DTLS\/SCTP$/i.test(proto) && /^\d+$/.test(formats[0] ?? '')) {
    legacy = true;
    port = Number(formats[0]);
  }
  const out: SctpDescription = { port, legacy };
  if (max !== undefined) out.maxMessageSize = max;
  return out;
}

/** Extract everything the core needs from a parsed client SDP. Throws InvalidSdpError. */
export function extractClientSdp(input: string | Sdp, options: ExtractOptions = {}): ClientSdp {
  const sdp = typeof input === 'string' ? parseSdp(input) : input;
  const order = options.ridOrder ?? 'hml';
  const session = sdp.session;
  const media: ClientMedia[] = sdp.media.map((m, mindex) => {
    // One pass over the section's lines answers every lookup below.
    const attrs = new Attributes(m.lines);
    const { ssrcs, cname } = parseSsrcs(attrs);
    const ssrcGroups = parseSsrcGroups(attrs);
    const rids = parseRids(attrs);
    const msidValue = attrs.first('msid');
    const cm: ClientMedia = {
      mindex,
      mid: attrs.first('mid')?.trim() || String(mindex),
      kind: m.kind,
      port: m.port,
      proto: m.proto,
      rejected: m.port === 0,
      direction: directionOf(m.lines),
      ssrcs,
      ssrcGroups,
      rids,
      encodings: deriveEncodings(rids, ssrcs, ssrcGroups, order),
      extmaps: m.kind === 'audio' || m.kind === 'video' ? parseExtmaps(m, attrs) : [],
      codecs: m.kind === 'audio' || m.kind === 'video' ? parseCodecs(m, attrs) : [],
      rtcpReducedSize: attrs.has('rtcp-rsize'),
      candidates: attrs.all('candidate').map((c) => `candidate:${c}`),
      endOfCandidates: attrs.has('end-of-candidates'),
    };
    const ufrag = attrs.first('ice-ufrag');
    const pwd = attrs.first('ice-pwd');
    const fp = parseFingerprint(attrs.first('fingerprint'));
    const setup = parseSetup(attrs.first('setup'));
    if (ufrag) cm.iceUfrag = ufrag.trim();
    if (pwd) cm.icePwd = pwd.trim();
    if (fp) cm.fingerprint = fp;
    if (setup) cm.setup = setup;
    if (msidValue) {
      const [streamId, trackId] = msidValue.trim().split(/\s+/);
      cm.msid = trackId ? { streamId, trackId } : { streamId };
    }
    if (cname !== undefined) cm.cname = cname;
    const sim = attrs.first('simulcast');
    if (sim !== undefined) cm.simulcast = sim.trim();
    const sctp = parseSctp(m.kind, m.proto, m.formats, attrs);
    if (sctp) cm.sctp = sctp;
    return cm;
  });
  // Transport-wide values: BUNDLE means the first m-line's transport carries everything.
  const first = media.find((m) => !m.rejected) ?? media[0];
  const sessionAttrs = new Attributes(session);
  const iceUfrag = first.iceUfrag ?? sessionAttrs.first('ice-ufrag')?.trim();
  const icePwd = first.icePwd ?? sessionAttrs.first('ice-pwd')?.trim();
  const fingerprint = first.fingerprint ?? parseFingerprint(sessionAttrs.first('fingerprint'));
  const setup = first.setup ?? parseSetup(sessionAttrs.first('setup'));
  if (!iceUfrag || !icePwd) throw invalid('missing ICE credentials');
  if (!fingerprint) throw invalid('missing DTLS fingerprint');
  if (!DTLS_HASHES.has(fingerprint.algorithm)) throw invalid('unsupported DTLS fingerprint hash');
  const group = sessionAttrs.all('group').find((g) => /^BUNDLE\b/i.test(g.trim()));
  const out: ClientSdp = {
    iceUfrag,
    icePwd,
    iceLite: sessionAttrs.has('ice-lite'),
    fingerprint,
    bundle: group ? group.trim().split(/\s+/).slice(1) : [],
    media,
    simulcast: simulcastForScript(media, order),
  };
  if (setup) out.setup = setup;
  return out;
}

/** The jsep `simulcast` array (docs/contract.md §3.1): rids high..low with rid-ext, or SSRCs low..high. */
export function simulcastForScript(media: readonly ClientMedia[], order: 'hml' | 'lmh' = 'hml'): JsepSimulcast[] {
  const out: JsepSimulcast[] = [];
  for (const m of media) {
    if (m.kind !== 'video' || m.rejected) continue;
    const rids = ridsHighToLow(m.rids, order);
    if (rids.length > 0) {
      const entry: JsepSimulcast = { mindex: m.mindex, mid: m.mid, rids };
      const ext = m.extmaps.find((e) => e.uri === RID_EXT_URI && !e.encrypted);
      if (ext) entry['rid-ext'] = ext.id;
      out.push(entry);
    } else if (m.encodings.length > 1) {
      out.push({ mindex: m.mindex, mid: m.mid, ssrcs: m.encodings.map((e) => e.ssrc ?? 0) });
    }
  }
  return out;
}

/**
 * A client JSEP as the script must see it, plus what the core keeps. One parse of the SDP.
 * `update` marks a renegotiation. Throws InvalidSdpError for an SDP that is not SDP.
 */
export function clientJsepForScript(
  jsep: ClientJsep,
  options: { update?: boolean } = {},
): { jsep: PluginJsep; client: ClientSdp } {
  const parsed = parseSdp(jsep.sdp);
  const client = extractClientSdp(parsed, { ridOrder: jsep.rid_order });
  const out: PluginJsep = { type: jsep.type, sdp: writeSdp(anonymiseSdp(parsed)) };
  if (client.simulcast.length > 0) out.simulcast = client.simulcast;
  if (options.update) out.update = true;
  if (jsep.e2ee === true) out.e2ee = true;
  return { jsep: out, client };
}
