// Byte-string helpers shared by the native Lua modules (lua-sdp.ts, janus-sdp.ts): Lua strings
// are bytes, and Lua's character rules are the C locale's (ASCII only).

import { to_luastring } from 'fengari';

export const CR = 13;
export const LF = 10;

export const bytesOf = (text: string): Uint8Array => to_luastring(text);

/** The SDP words both SDP modules compare lines and values with, as bytes. */
export const SDP_WORDS = {
  a: bytesOf('a'),
  m: bytesOf('m'),
  rtpmap: bytesOf('rtpmap'),
  fmtp: bytesOf('fmtp'),
  rtcpFb: bytesOf('rtcp-fb'),
  extmap: bytesOf('extmap'),
  sendonly: bytesOf('sendonly'),
  recvonly: bytesOf('recvonly'),
  audio: bytesOf('audio'),
  video: bytesOf('video'),
  application: bytesOf('application'),
  vp9: bytesOf('vp9'),
  h264: bytesOf('h264'),
  profileId: bytesOf('profile-id='),
  profileLevelId: bytesOf('profile-level-id='),
};

/** Header extensions an answer keeps, as Janus's do (transport-cc aside): their URIs. */
export const KEPT_EXTENSIONS = [
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
].map(bytesOf);

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lua's string.lower: A-Z only. */
export function lower(s: Uint8Array): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s[i] >= 65 && s[i] <= 90 ? s[i] | 0x20 : s[i];
  return out;
}

/** Lua's string.upper: a-z only. */
export function upper(s: Uint8Array): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s[i] >= 97 && s[i] <= 122 ? s[i] & 0xdf : s[i];
  return out;
}

/** The index of byte c at or after from, or the length. */
function indexOrLength(s: Uint8Array, c: number, from: number): number {
  const at = s.indexOf(c, from);
  return at < 0 ? s.length : at;
}

/**
 * Calls each(start, end) for every run of bytes between runs of CR and LF, in order (what
 * `s:gmatch("[^\r\n]+")` yields). The next CR and LF are found by native searches, each once
 * per line it ends.
 */
export function forEachLine(s: Uint8Array, each: (start: number, end: number) => void): void {
  let cr = -1;
  let lf = -1;
  for (let i = 0; i < s.length; ) {
    while (i < s.length && (s[i] === CR || s[i] === LF)) i++;
    if (i === s.length) break;
    const start = i;
    if (cr < start) cr = indexOrLength(s, CR, start);
    if (lf < start) lf = indexOrLength(s, LF, start);
    i = Math.min(cr, lf);
    each(start, i);
  }
}
