// A lenient SDP parser and writer. It keeps every line in order (session lines, then one
// section per m-line) so rewriting an SDP changes only what a rule says to change; it splits
// a= lines at the first ':' like Janus's parser and janus-sdp.lua do. Output always uses CRLF.

import { InvalidSdpError } from '../../plugin/media-errors';

/**
 * One `x=value` line. For `a=` lines, `value` is everything after `a=` (name[:value]). Never
 * edited in place, so rewritten SDPs share the lines they keep.
 */
export interface SdpLine {
  readonly type: string;
  readonly value: string;
}

/** One m= section: the parsed m-line and the lines under it, in order. */
export interface SdpMediaSection {
  /** `audio`, `video`, `application`, or whatever the SDP says. */
  kind: string;
  port: number;
  proto: string;
  /** Formats as written: payload types for RTP, `webrtc-datachannel` or `5000` for SCTP. */
  formats: string[];
  lines: SdpLine[];
}

export interface Sdp {
  /** Session-level lines (v=, o=, s=, t=, c=, a=, ...) in order. */
  session: SdpLine[];
  media: SdpMediaSection[];
}

/** Characters that end a line for JavaScript's `.`, besides \n: a line may not contain them. */
const STRAY_BREAK = /[\r\u2028\u2029]/;
/** Whether a text has a \r that does not end a line, or a U+2028/2029 (then lines are checked one by one). */
const STRAY_BREAK_IN_TEXT = /[\u2028\u2029]|\r(?!\r?\n|$)/;

function invalid(reason: string): InvalidSdpError {
  return new InvalidSdpError(reason);
}

function badLine(text: string, start: number, end: number): InvalidSdpError {
  return invalid(`bad line "${text.slice(start, end).slice(0, 40)}"`);
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Parse SDP text. Accepts LF or CRLF and ignores blank lines. Throws InvalidSdpError when the
 * text is not SDP: it must start with v=, every line must be `x=...`, there must be at least
 * one m= line and each m-line needs `<kind> <port> <proto>`.
 */
export function parseSdp(text: string): Sdp {
  if (typeof text !== 'string') throw invalid('not a string');
  // One scan with indexOf rather than split/map/filter/regex per line: offers are parsed on
  // every join. A line ends at \n; one \r before it, and one more stray \r, are not part of it.
  const checkLines = STRAY_BREAK_IN_TEXT.test(text);
  const sdp: Sdp = { session: [], media: [] };
  let current: SdpMediaSection | undefined;
  let first = true;
  const n = text.length;
  for (let start = 0; start < n;) {
    let end = text.indexOf('\n', start);
    const next = end < 0 ? n : end + 1;
    if (end < 0) end = n;
    if (end < n && end > start && text.charCodeAt(end - 1) === 13) end--;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    const lineStart = start;
    start = next;
    const wellFormed = end - lineStart >= 2 && isLetter(text.charCodeAt(lineStart)) && text.charCodeAt(lineStart + 1) === 61;
    if (!wellFormed && text.slice(lineStart, end).trim() === '') continue;
    if (first && !(wellFormed && text.charCodeAt(lineStart) === 118)) throw invalid('no v= line');
    first = false;
    if (!wellFormed) throw badLine(text, lineStart, end);
    const value = text.slice(lineStart + 2, end);
    if (checkLines && STRAY_BREAK.test(value)) throw badLine(text, lineStart, end);
    const type = text[lineStart];
    if (type === 'm') {
      current = parseMLine(value);
      sdp.media.push(current);
    } else if (current) {
      current.lines.push({ type, value });
    } else {
      sdp.session.push({ type, value });
    }
  }
  if (first) throw invalid('no v= line');
  if (sdp.media.length === 0) throw invalid('no m= line');
  return sdp;
}

function parseMLine(value: string): SdpMediaSection {
  const parts = value.trim().split(/\s+/);
  if (parts.length < 3) throw invalid(`bad m-line "${value}"`);
  // Ports may carry "/<count>" (RFC 4566); only the port matters here.
  const port = Number(parts[1].split('/')[0]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`bad port in m-line "${value}"`);
  return { kind: parts[0], port, proto: parts[2], formats: parts.slice(3), lines: [] };
}

export function writeMLine(m: SdpMediaSection): string {
  let line = `m=${m.kind} ${m.port} ${m.proto}`;
  for (const f of m.formats) line += ' ' + f;
  return line;
}

/** Render with CRLF after every line (the JS janus-sdp parser requires CRLF). */
export function writeSdp(sdp: Sdp): string {
  // One string built by appending: V8 flattens it once, where join copied every line's own
  // template string again.
  let out = '';
  for (const l of sdp.session) out += l.type + '=' + l.value + '\r\n';
  for (const m of sdp.media) {
    out += writeMLine(m) + '\r\n';
    for (const l of m.lines) out += l.type + '=' + l.value + '\r\n';
  }
  return out;
}

/** An `a=` line. */
export function attr(name: string, value?: string): SdpLine {
  return { type: 'a', value: value === undefined ? name : `${name}:${value}` };
}

/** Name of an a= line (text before the first ':'); undefined for other line types. */
export function attrName(line: SdpLine): string | undefined {
  if (line.type !== 'a') return undefined;
  const i = line.value.indexOf(':');
  return i < 0 ? line.value : line.value.slice(0, i);
}

/** Value of an a= line (text after the first ':'); undefined when it has none. */
export function attrValue(line: SdpLine): string | undefined {
  if (line.type !== 'a') return undefined;
  const i = line.value.indexOf(':');
  return i < 0 ? undefined : line.value.slice(i + 1);
}

/**
 * Whether an a= line's name is `lower` (a lower-case name without ':'), case-insensitively.
 * Lookups run over every line of a section many times per offer, so the common case (the
 * name written in lower case) compares in place without slicing or lower-casing.
 */
export function isAttr(line: SdpLine, lower: string): boolean {
  if (line.type !== 'a') return false;
  const v = line.value;
  const n = lower.length;
  if (v.length < n || (v.length > n && v.charCodeAt(n) !== 58 /* ':' */)) return false;
  if (v.startsWith(lower)) return true;
  return v.slice(0, n).toLowerCase() === lower;
}

/** First value of `a=<name>`; '' for a value-less attribute; undefined when absent. */
export function attrFirst(lines: readonly SdpLine[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const l of lines) {
    if (isAttr(l, lower)) return l.value.length > lower.length ? l.value.slice(lower.length + 1) : '';
  }
  return undefined;
}

export function hasAttr(lines: readonly SdpLine[], name: string): boolean {
  return attrFirst(lines, name) !== undefined;
}

const NONE: readonly string[] = [];

/**
 * A section's a= lines by name (lower-cased, as attrName splits it), each name's values in
 * order ('' for a value-less line, as attrFirst gives it). Built in one pass, for code that
 * looks up many names: extracting a client's offer asks about twenty per section.
 */
export class Attributes {
  private readonly byName = new Map<string, string[]>();

  constructor(lines: readonly SdpLine[]) {
    for (const l of lines) {
      if (l.type !== 'a') continue;
      const name = attrName(l)!.toLowerCase();
      const value = attrValue(l) ?? '';
      const list = this.byName.get(name);
      if (list) list.push(value);
      else this.byName.set(name, [value]);
    }
  }

  /** Every value of `a=<name>` (a lower-case name), in order. */
  all(name: string): readonly string[] {
    return this.byName.get(name) ?? NONE;
  }

  /** The first value of `a=<name>`; undefined when absent. */
  first(name: string): string | undefined {
    return this.byName.get(name)?.[0];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const DIRECTIONS: readonly string[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

export function isDirection(name: string | undefined): name is Direction {
  // Every direction is 8 characters long: most names are told apart without a lookup.
  if (name === undefined || name.length !== 8) return false;
  return DIRECTIONS.includes(name) || DIRECTIONS.includes(name.toLowerCase());
}

/** The media direction written in a section (the last direction attribute wins); default sendrecv. */
export function directionOf(lines: readonly SdpLine[]): Direction {
  let dir: Direction = 'sendrecv';
  for (const l of lines) {
    // Every direction name is 8 characters long: skip other lines without slicing them.
    if (l.type !== 'a' || l.value.length < 8 || (l.value.length > 8 && l.value.charCodeAt(8) !== 58)) continue;
    const n = attrName(l);
    if (isDirection(n)) dir = n.toLowerCase() as Direction;
  }
  return dir;
}

/** `a=mid` of a section, if any. */
export function midOf(m: SdpMediaSection): string | undefined {
  return attrFirst(m.lines, 'mid');
}
