// The anonymised copy of an SDP that a script sees (docs/contract.md §3.1, Janus's
// janus_sdp_anonymize + janus_sdp_write): no transport details, no SSRCs, no video
// RTX/RED/FEC payload types, placeholder addresses. The core also anonymises a script's own
// SDP before merging, so stray transport lines in it never reach the client twice.

import {
  type Sdp,
  type SdpLine,
  type SdpMediaSection,
  attrName,
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

/** Shared by every anonymised SDP: lines are never edited in place (SdpLine is readonly). */
const ANON_CONNECTION: SdpLine = { type: 'c', value: `IN IP4 ${ANON_ADDRESS}` };

/**
 * One m-section anonymised: a new section object (lines are shared, they are never edited in
 * place). One pass over the lines; offers are anonymised on every join.
 */
function anonymiseSection(input: SdpMediaSection, port: number): SdpMediaSection {
  const kept: SdpLine[] = [];
  let purged: Set<string> | undefined;
  for (const l of input.lines) {
    if (l.type === 'c') {
      kept.push(ANON_CONNECTION);
      continue;
    }
    if (l.type !== 'a') {
      kept.push(l);
      continue;
    }
    const v = l.value;
    const colon = v.indexOf(':');
    if (mediaAttrRemoved(colon < 0 ? v : v.slice(0, colon))) continue;
    if (colon >= 0 && v.includes(ENCRYPTED_EXTMAP, colon + 1)) continue;
    // Purge payload types by substring of any attribute value, as Janus does (each purged
    // codec name ends in /90000, so other lines are passed over at once).
    if (colon >= 0 && v.includes('/90000', colon + 1)) {
      const value = v.slice(colon + 1);
      if (PURGED_CODECS.some((c) => value.includes(c))) (purged ??= new Set()).add(value.split(' ')[0]);
    }
    kept.push(l);
  }
  const pts = purged;
  const formats = pts ? input.formats.filter((f) => !pts.has(f)) : [...input.formats];
  const lines = pts
    ? kept.filter((l) => {
      const pt = ptAttributeOf(l);
      return pt === undefined || !pts.has(pt);
    })
    : kept;
  return { kind: input.kind, port, proto: input.proto, formats, lines: normaliseSectionOrder(lines, port) };
}

/** The anonymised SDP, as structured data (see anonymiseClientSdp). The input is left as it was. */
export function anonymiseSdp(input: Sdp): Sdp {
  const session = input.session
    .filter((l) => l.type !== 'a' || !SESSION_REMOVED.has((attrName(l) ?? '').toLowerCase()))
    .map((l) => {
      if (l.type === 'o') return { type: 'o', value: anonymiseOrigin(l.value) };
      if (l.type === 'c') return ANON_CONNECTION;
      return l;
    });
  let data = 0;
  const media = input.media.map((m) => {
    let port: number;
    if (m.kind === 'audio' || m.kind === 'video') {
      port = m.port > 0 ? 9 : m.port;
    } else if (m.kind === 'application' && m.port > 0 && /^(UDP\/)?DTLS\/SCTP$/i.test(m.proto)) {
      data++;
      port = data === 1 ? 9 : 0;
    } else {
      port = 0;
    }
    return anonymiseSection(m, port);
  });
  return { session, media };
}

/**
 * Janus's writer puts c=, then b= (only when the port is non-zero), then the direction right
 * after them; a rejected section keeps only its a=mid. Reproduced so scripts see what they
 * would see under Janus.
 */
export function normaliseSectionOrder(lines: readonly SdpLine[], port: number): SdpLine[] {
  const head: SdpLine[] = [];
  const b: SdpLine[] = [];
  const rest: SdpLine[] = [];
  let direction: SdpLine | undefined;
  for (const l of lines) {
    if (l.type === 'c') {
      head.push(l);
    } else if (l.type === 'b') {
      if (port > 0) b.push(l);
    } else if (l.type === 'a') {
      const name = attrName(l)!;
      if (isDirection(name)) direction = { type: 'a', value: name.toLowerCase() };
      else if (port > 0 || name.toLowerCase() === 'mid') rest.push(l);
    } else if (port > 0) {
      rest.push(l);
    }
  }
  for (const l of b) head.push(l);
  if (direction) head.push(direction);
  for (const l of rest) head.push(l);
  return head;
}

/** The anonymised client SDP handed to a script, CRLF-terminated. Throws InvalidSdpError. */
export function anonymiseClientSdp(sdp: string): string {
  return writeSdp(anonymiseSdp(parseSdp(sdp)));
}
