// The anonymised copy of an SDP that a script sees (docs/contract.md §3.1, Janus's
// janus_sdp_anonymize + janus_sdp_write): no transport details, no SSRCs, no video
// RTX/RED/FEC payload types, placeholder addresses. The core also anonymises a script's own
// SDP before merging, so stray transport lines in it never reach the client twice.

import {
  type Sdp,
  type SdpLine,
  type SdpMediaSection,
  attrName,
  attrValue,
  cloneSdp,
  isAttr,
  isDirection,
  parseSdp,
  writeSdp,
} from './sdp-text';

const ANON_ADDRESS = '1.1.1.1';

const SESSION_REMOVED = new Set([
  'ice-ufrag', 'ice-pwd', 'ice-options', 'fingerprint', 'group', 'msid-semantic', 'extmap-allow-mixed', 'rtcp-rsize',
]);

const MEDIA_REMOVED = new Set([
  'ice-ufrag', 'ice-pwd', 'ice-options', 'crypto', 'fingerprint', 'setup', 'connection', 'group', 'msid-semantic',
  'rid', 'simulcast', 'rtcp', 'rtcp-mux', 'rtcp-rsize', 'candidate', 'end-of-candidates', 'ssrc', 'ssrc-group',
  'sctpmap', 'sctp-port', 'max-message-size',
]);

/** Janus drops "ice-*" too: ice-lite, ice-mismatch, ... at media level. */
function mediaAttrRemoved(name: string): boolean {
  const n = name.toLowerCase();
  return MEDIA_REMOVED.has(n) || n.startsWith('ice-');
}

const ENCRYPTED_EXTMAP = 'urn:ietf:params:rtp-hdrext:encrypt';

/** Codecs Janus never lets a script negotiate (it adds RTX itself when merging). */
const PURGED_CODECS = ['red/90000', 'ulpfec/90000', 'flexfec-03/90000', 'rtx/90000'];

/** Rewrite `o=<user> <id> <version> IN IP4|IP6 <addr>` to IP4 1.1.1.1. */
export function anonymiseOrigin(value: string): string {
  const parts = value.split(' ');
  if (parts.length < 6) return value;
  return [...parts.slice(0, parts.length - 2), 'IP4', ANON_ADDRESS].join(' ');
}

/** The leading payload type of an rtpmap/fmtp/rtcp-fb line; undefined for other lines. */
function ptAttributeOf(line: SdpLine): string | undefined {
  if (!isAttr(line, 'rtpmap') && !isAttr(line, 'fmtp') && !isAttr(line, 'rtcp-fb')) return undefined;
  const v = line.value;
  const colon = v.indexOf(':');
  if (colon < 0) return '';
  const end = v.indexOf(' ', colon + 1);
  return end < 0 ? v.slice(colon + 1) : v.slice(colon + 1, end);
}

/** Remove payload types from an RTP section: from the m-line and their rtpmap/fmtp/rtcp-fb. */
function removePayloadTypes(m: SdpMediaSection, pts: ReadonlySet<string>): void {
  if (pts.size === 0) return;
  m.formats = m.formats.filter((f) => !pts.has(f));
  m.lines = m.lines.filter((l) => {
    const pt = ptAttributeOf(l);
    return pt === undefined || !pts.has(pt);
  });
}

/** The anonymised SDP, as structured data (see anonymiseClientSdp). */
export function anonymiseSdp(input: Sdp): Sdp {
  const sdp = cloneSdp(input);
  sdp.session = sdp.session
    .filter((l) => l.type !== 'a' || !SESSION_REMOVED.has((attrName(l) ?? '').toLowerCase()))
    .map((l) => {
      if (l.type === 'o') return { type: 'o', value: anonymiseOrigin(l.value) };
      if (l.type === 'c') return { type: 'c', value: `IN IP4 ${ANON_ADDRESS}` };
      return l;
    });
  let data = 0;
  for (const m of sdp.media) {
    if (m.kind === 'audio' || m.kind === 'video') {
      if (m.port > 0) m.port = 9;
    } else if (m.kind === 'application' && m.port > 0 && /^(UDP\/)?DTLS\/SCTP$/i.test(m.proto)) {
      data++;
      m.port = data === 1 ? 9 : 0;
    } else {
      m.port = 0;
    }
    let lines = m.lines.filter((l) => {
      const name = attrName(l);
      if (name !== undefined && mediaAttrRemoved(name)) return false;
      // (The whole line first: most lines do not mention it, and then neither does their value.)
      if (name !== undefined && l.value.includes(ENCRYPTED_EXTMAP) && (attrValue(l) ?? '').includes(ENCRYPTED_EXTMAP)) return false;
      return true;
    });
    // Purge payload types by substring of any attribute value, as Janus does.
    const purged = new Set<string>();
    for (const l of lines) {
      if (l.type !== 'a' || !PURGED_CODECS.some((c) => l.value.includes(c))) continue;
      const value = attrValue(l);
      if (value !== undefined && PURGED_CODECS.some((c) => value.includes(c))) purged.add(value.split(' ')[0]);
    }
    m.lines = lines;
    removePayloadTypes(m, purged);
    lines = m.lines.map((l) => (l.type === 'c' ? { type: 'c', value: `IN IP4 ${ANON_ADDRESS}` } : l));
    m.lines = normaliseSectionOrder(lines, m.port);
  }
  return sdp;
}

/**
 * Janus's writer puts c=, then b= (only when the port is non-zero), then the direction right
 * after them; a rejected section keeps only its a=mid. Reproduced so scripts see what they
 * would see under Janus.
 */
export function normaliseSectionOrder(lines: readonly SdpLine[], port: number): SdpLine[] {
  const c = lines.filter((l) => l.type === 'c');
  const b = port > 0 ? lines.filter((l) => l.type === 'b') : [];
  let direction: SdpLine | undefined;
  const rest: SdpLine[] = [];
  for (const l of lines) {
    if (l.type === 'c' || l.type === 'b') continue;
    const name = attrName(l);
    if (isDirection(name)) {
      direction = { type: 'a', value: name.toLowerCase() };
      continue;
    }
    if (port === 0 && name?.toLowerCase() !== 'mid') continue;
    rest.push(l);
  }
  return [...c, ...b, ...(direction ? [direction] : []), ...rest];
}

/** The anonymised client SDP handed to a script, CRLF-terminated. Throws InvalidSdpError. */
export function anonymiseClientSdp(sdp: string): string {
  return writeSdp(anonymiseSdp(parseSdp(sdp)));
}
