// `sdp` for Lua scripts, built in (docs/scripts.md): SDP parse/render, minimal answers and
// direction/m-line edits, on plain Lua tables scripts read and edit. It was lua/sdp.lua; in
// Fengari its string patterns cost ~3 ms per offer on the script thread (bench/README.md
// "Profiles"), so each rule now runs here, once, on the Lua C API.
//
// The Janus core gives a script an anonymised copy of the client's SDP and later merges the
// script's SDP with the ICE/DTLS/candidate/SSRC details of the handle's transport, so a script
// only deals with codecs, directions and a few header extensions; its answers can be minimal.
//
// Representation (what parse returns and render takes):
//
//   desc = {
//     session = { line, line, ... },          -- lines before the first m=
//     media = {                               -- one entry per m= line, in order
//       { kind = "audio", port = 9, proto = "UDP/TLS/RTP/SAVPF",
//         fmts = { "111", "0" }, lines = { line, ... } },
//       ...
//     }
//   }
//   line = { type = "a", name = "rtpmap", value = "111 opus/48000/2" }   -- a=name:value
//        | { type = "a", name = "sendrecv" }                            -- a=name (no value)
//        | { type = "o", text = "- 123 2 IN IP4 1.1.1.1" }              -- any other x=text
//
// The functions read whatever tables the script holds as Lua would (`t.k` and ipairs honour
// metamethods, `==` is Lua's), keep the Lua module's nil tolerance (nil desc/offer/section or
// codec: nil result or nothing done) and raise the errors Lua would for malformed tables
// (a nil name in render, a non-string codec...). Character classes are Lua's C-locale ones
// (%a, %s, %w, %x are ASCII; lower() lowers A-Z only). sdp.AUDIO_CODECS/VIDEO_CODECS are read
// at each generateAnswer, so a script may edit them; replacing a function of the module does
// not change what the others call.
//
// Native work is charged to the script's instruction budget (instruction-budget.ts): an offer,
// parse + answer + render, ~1,400 units in ~0.6 ms; lua/sdp.lua spent 7,082 instructions in
// ~2.8 ms.

import { lua, lauxlib, to_luastring, type LuaState } from 'fengari';
import { charge, ITEM_UNITS, LINE_UNITS } from './instruction-budget';
import { KEPT_EXTENSIONS, SDP_WORDS, bytesOf, equalBytes, forEachLine, lower } from './bytes';

/** The parts of fengari's C API this module uses beyond workers/lua/fengari.d.ts. */
const api = lua as typeof lua & {
  LUA_OPEQ: number;
  lua_compare(L: LuaState, a: number, b: number, op: number): boolean;
  lua_geti(L: LuaState, idx: number, n: number): number;
  lua_settable(L: LuaState, idx: number): void;
  lua_len(L: LuaState, idx: number): void;
  lua_replace(L: LuaState, idx: number): void;
  lua_stringtonumber(L: LuaState, s: Uint8Array): number;
};

// ---- constant strings: made once per module, pushed from upvalues ------------------------

/** Every constant string, one upvalue each (its index + 1): field names and fixed values. */
const WORDS = [
  'type', 'name', 'value', 'text', 'session', 'media', 'kind', 'port', 'proto', 'fmts', 'lines',
  'a', 'extmap', 'inactive', 'UDP/TLS/RTP/SAVPF', '0', 'sendonly', 'recvonly',
  'audio', 'video', 'data', 'audioCodec', 'videoCodec', 'vp9Profile', 'h264Profile', 'disableTwcc',
  'AUDIO_CODECS', 'VIDEO_CODECS',
  // What parse finds in most lines of an offer (anonymised: no ICE, DTLS or SSRC lines), shared
  // rather than copied into a new string per line: a Lua string is a value, so nothing can tell.
  'rtpmap', 'fmtp', 'rtcp-fb', 'mid', 'msid', 'sendrecv', 'rtcp-xr', 'extmap-allow-mixed',
  'v', 'o', 's', 't', 'c', 'b',
] as const;
type Word = (typeof WORDS)[number];
const K = Object.fromEntries(WORDS.map((w, i) => [w, i + 1])) as Record<Word, number>;
/** Words by length (index), the bytes and upvalue of each: parse's attribute names and line types. */
const WORDS_BY_LENGTH: Array<Array<[Uint8Array, number]>> = [];
for (const [i, word] of WORDS.entries()) (WORDS_BY_LENGTH[word.length] ??= []).push([to_luastring(word), i + 1]);
/** Upvalue slot of the module table itself (generateAnswer reads AUDIO_CODECS from it). */
const MODULE_UPVALUE = WORDS.length + 1;

const B = { ...SDP_WORDS, star: bytesOf('*') };

// Codec preference when the caller asks for none: the first of these present in the offer
// wins (per kind). Names are lower-case rtpmap encoding names.
const AUDIO_CODECS = ['opus', 'multiopus', 'pcmu', 'pcma', 'g722'];
const VIDEO_CODECS = ['vp8', 'vp9', 'h264'];

// Header extensions an answer keeps (KEPT_EXTENSIONS; everything else is dropped, as in Janus):
// the URI of every offered extmap is compared.
const TRANSPORT_CC = bytesOf('http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01');

// Static RTP payload types that need no rtpmap (RFC 3551): payload type, encoding name.
const STATIC_PT: Array<[Uint8Array, Uint8Array]> = [['0', 'pcmu'], ['8', 'pcma'], ['9', 'g722']].map(([pt, name]) => [bytesOf(pt), bytesOf(name)]);

// ---- bytes ----------------------------------------------------------------------------------

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const isAlpha = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlnum = (c: number): boolean => isAlpha(c) || isDigit(c);
const isHex = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/** Growable byte buffer for render. */
class ByteWriter {
  private buffer = new Uint8Array(4096);
  length = 0;

  bytes(data: Uint8Array): void {
    if (this.length + data.length > this.buffer.length) {
      let size = this.buffer.length * 2;
      while (size < this.length + data.length) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buffer.subarray(0, this.length));
      this.buffer = next;
    }
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  result(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}
const EQUALS = bytesOf('=');
const A_EQUALS = bytesOf('a=');
const COLON = bytesOf(':');
const SPACE = bytesOf(' ');
const M_EQUALS = bytesOf('m=');
const CRLF = bytesOf('\r\n');

// ---- reading the script's tables ------------------------------------------------------------

const absIndex = (L: LuaState, idx: number): number => (idx > 0 ? idx : lua.lua_gettop(L) + idx + 1);
const isNil = (L: LuaState, idx: number): boolean => lua.lua_type(L, idx) <= lua.LUA_TNIL;
const pushWord = (L: LuaState, k: number): void => lua.lua_pushvalue(L, lua.lua_upvalueindex(k));

/** Pushes t[k] (`t.k` in Lua: metamethods apply) and returns its type. */
function getField(L: LuaState, t: number, k: number): number {
  pushWord(L, k);
  return lua.lua_gettable(L, t < 0 ? t - 1 : t);
}

/** t[k] = value on top (popped), by plain assignment. */
function setField(L: LuaState, t: number, k: number): void {
  pushWord(L, k);
  lua.lua_insert(L, -2);
  api.lua_settable(L, t < 0 ? t - 1 : t);
}

/** rawset into a table this module made: t[k] = value on top (popped). */
function rawField(L: LuaState, t: number, k: number): void {
  pushWord(L, k);
  lua.lua_insert(L, -2);
  lua.lua_rawset(L, t < 0 ? t - 1 : t);
}

/** The string at idx (null when it is not a string). */
function stringAt(L: LuaState, idx: number): Uint8Array | null {
  return lua.lua_type(L, idx) === lua.LUA_TSTRING ? lua.lua_tolstring(L, idx) : null;
}

/** Pushes t[k] (as getField) and returns it when it is a string, else null. */
function getString(L: LuaState, t: number, k: number): Uint8Array | null {
  return getField(L, t, k) === lua.LUA_TSTRING ? lua.lua_tolstring(L, -1) : null;
}

/** Is field k of table t the string `expected`? */
function fieldIs(L: LuaState, t: number, k: number, expected: Uint8Array): boolean {
  const s = getString(L, t, k);
  lua.lua_pop(L, 1);
  return s !== null && equalBytes(s, expected);
}

/** Is field k of table t nil? */
function fieldIsNil(L: LuaState, t: number, k: number): boolean {
  const type = getField(L, t, k);
  lua.lua_pop(L, 1);
  return type === lua.LUA_TNIL;
}

/** `t.port ~= 0` */
function portIsZero(L: LuaState, t: number): boolean {
  const type = getField(L, t, K.port);
  const zero = type === lua.LUA_TNUMBER && lua.lua_tonumberx(L, -1) === 0;
  lua.lua_pop(L, 1);
  return zero;
}

/** Lua's `a == b` for the values at two (absolute) indexes. */
const luaEquals = (L: LuaState, a: number, b: number): boolean => api.lua_compare(L, a, b, api.LUA_OPEQ);

/**
 * `for i, v in ipairs(list)`: calls `each(i)` with v on top of the stack (popped after);
 * `each` returning true stops the loop (v then stays pushed, and forEach returns true).
 */
function forEach(L: LuaState, list: number, each: (i: number) => boolean | void): boolean {
  list = absIndex(L, list);
  for (let i = 1; ; i++) {
    if (api.lua_geti(L, list, i) === lua.LUA_TNIL) {
      lua.lua_pop(L, 1);
      return false;
    }
    charge(L, ITEM_UNITS);
    if (each(i) === true) return true;
    lua.lua_pop(L, 1);
  }
}

/** The value at idx as `..` takes it (strings, numbers as tostring), else Lua's error. */
function concatPiece(L: LuaState, idx: number, what: string): Uint8Array {
  const type = lua.lua_type(L, idx);
  if (type === lua.LUA_TSTRING) return lua.lua_tolstring(L, idx) as Uint8Array;
  if (type === lua.LUA_TNUMBER) {
    lua.lua_pushvalue(L, idx);
    const text = lua.lua_tolstring(L, -1) as Uint8Array;
    lua.lua_pop(L, 1);
    return text;
  }
  return lauxlib.luaL_error(L, to_luastring(`attempt to concatenate a ${typeName(L, idx)} value (${what})`));
}

const typeName = (L: LuaState, idx: number): string => String.fromCharCode(...lua.lua_typename(L, lua.lua_type(L, idx)));

/** A string a pattern is matched on (`s:match(...)`): strings only, as Lua's method call. */
function matchSubject(L: LuaState, idx: number, what: string): Uint8Array {
  const s = stringAt(L, idx);
  if (s === null) lauxlib.luaL_error(L, to_luastring(`attempt to index a ${typeName(L, idx)} value (${what})`));
  return s as Uint8Array;
}

// ---- parse ----------------------------------------------------------------------------------

/** Pushes bytes [from, to) of s as a Lua string (lua_pushlstring would cut another view first). */
const pushSlice = (L: LuaState, s: Uint8Array, from: number, to: number): void => {
  lua.lua_pushstring(L, s.subarray(from, to));
};

/** Pushes bytes [from, to) of s as a Lua string: the word's upvalue when they spell one. */
function pushText(L: LuaState, s: Uint8Array, from: number, to: number): void {
  for (const [word, k] of WORDS_BY_LENGTH[to - from] ?? []) {
    let i = 0;
    while (i < word.length && word[i] === s[from + i]) i++;
    if (i === word.length) return pushWord(L, k);
  }
  pushSlice(L, s, from, to);
}

/** Pushes `tonumber(word) or 0`. */
function pushPort(L: LuaState, s: Uint8Array, from: number, to: number): void {
  if (to > from && to - from <= 9) {
    let n = 0;
    let i = from;
    while (i < to && isDigit(s[i])) n = n * 10 + s[i++] - 48;
    if (i === to) {
      lua.lua_pushinteger(L, n);
      return;
    }
  }
  const word = s.slice(from, to);
  if (to > from && api.lua_stringtonumber(L, word) === word.length + 1) return;
  lua.lua_pushinteger(L, 0);
}

/** Pushes the section table of an m= line whose text (after "m=") is s[from, to). */
function pushSection(L: LuaState, s: Uint8Array, from: number, to: number): void {
  lua.lua_createtable(L, 0, 5);
  const words: number[] = [];
  for (let i = from; i < to; ) {
    while (i < to && isSpace(s[i])) i++;
    if (i === to) break;
    const start = i;
    while (i < to && !isSpace(s[i])) i++;
    words.push(start, i);
  }
  const n = words.length / 2;
  if (n >= 1) pushSlice(L, s, words[0], words[1]);
  else lua.lua_pushliteral(L, '');
  rawField(L, -2, K.kind);
  if (n >= 2) pushPort(L, s, words[2], words[3]);
  else lua.lua_pushinteger(L, 0);
  rawField(L, -2, K.port);
  if (n >= 3) pushSlice(L, s, words[4], words[5]);
  else lua.lua_pushliteral(L, '');
  rawField(L, -2, K.proto);
  lua.lua_createtable(L, Math.max(n - 3, 0), 0);
  for (let w = 3; w < n; w++) {
    pushSlice(L, s, words[2 * w], words[2 * w + 1]);
    lua.lua_rawseti(L, -2, w - 2);
  }
  rawField(L, -2, K.fmts);
  lua.lua_createtable(L, 0, 0);
  rawField(L, -2, K.lines);
}

/** parse(text): lines matching `^(%a)=(.*)$` between CR/LF runs; others are skipped. */
function parse(L: LuaState): number {
  const s = stringAt(L, 1);
  if (s === null) {
    lua.lua_pushnil(L);
    return 1;
  }
  lua.lua_settop(L, 1);
  charge(L, s.length >> 4);
  lua.lua_createtable(L, 0, 2); // 2: desc
  lua.lua_createtable(L, 0, 0);
  lua.lua_pushvalue(L, -1);
  rawField(L, 2, K.session); // 3: session lines
  lua.lua_createtable(L, 0, 0);
  lua.lua_pushvalue(L, -1);
  rawField(L, 2, K.media); // 4: media
  lua.lua_pushvalue(L, 3); // 5: the lines being filled (session, then the current section's)
  let lineCount = 0;
  let sectionCount = 0;
  forEachLine(s, (start, i) => {
    if (i - start < 2 || !isAlpha(s[start]) || s[start + 1] !== 0x3d) return;
    charge(L, LINE_UNITS);
    const type = s[start];
    if (type === 0x6d) {
      pushSection(L, s, start + 2, i);
      lua.lua_pushvalue(L, -1);
      lua.lua_rawseti(L, 4, ++sectionCount);
      getField(L, -1, K.lines);
      api.lua_replace(L, 5);
      lua.lua_pop(L, 1);
      lineCount = 0;
      return;
    }
    // Keys pushed before values: rawset without moving stack slots.
    lua.lua_createtable(L, 0, 3);
    pushWord(L, K.type);
    if (type === 0x61) {
      pushWord(L, K.a);
      lua.lua_rawset(L, -3);
      let colon = start + 2;
      while (colon < i && s[colon] !== 0x3a) colon++;
      pushWord(L, K.name);
      pushText(L, s, start + 2, colon);
      lua.lua_rawset(L, -3);
      if (colon < i) {
        pushWord(L, K.value);
        pushSlice(L, s, colon + 1, i);
        lua.lua_rawset(L, -3);
      }
    } else {
      pushText(L, s, start, start + 1);
      lua.lua_rawset(L, -3);
      pushWord(L, K.text);
      pushSlice(L, s, start + 2, i);
      lua.lua_rawset(L, -3);
    }
    lua.lua_rawseti(L, 5, ++lineCount);
  });
  lua.lua_settop(L, 2);
  return 1;
}

// ---- render ---------------------------------------------------------------------------------

/** Appends the text of the line on top of the stack. */
function renderLine(L: LuaState, out: ByteWriter): void {
  const line = lua.lua_gettop(L);
  const type = getString(L, line, K.type);
  if (type === null || !equalBytes(type, B.a)) {
    out.bytes(concatPiece(L, -1, "field 'type'"));
    out.bytes(EQUALS);
    getField(L, line, K.text);
    if (lua.lua_toboolean(L, -1)) out.bytes(concatPiece(L, -1, "field 'text'"));
  } else {
    out.bytes(A_EQUALS);
    getField(L, line, K.name);
    getField(L, line, K.value);
    out.bytes(concatPiece(L, -2, "field 'name'"));
    if (!isNil(L, -1)) {
      out.bytes(COLON);
      out.bytes(concatPiece(L, -1, "field 'value'"));
    }
  }
  lua.lua_settop(L, line);
  out.bytes(CRLF);
}

/** render(desc): SDP text, every line ending in CRLF. */
function render(L: LuaState): number {
  if (isNil(L, 1)) {
    lua.lua_pushnil(L);
    return 1;
  }
  lua.lua_settop(L, 1);
  const out = new ByteWriter();
  getField(L, 1, K.session);
  forEach(L, 2, () => renderLine(L, out));
  getField(L, 1, K.media); // 3
  forEach(L, 3, () => {
    const m = lua.lua_gettop(L);
    out.bytes(M_EQUALS);
    getField(L, m, K.kind);
    out.bytes(concatPiece(L, -1, "field 'kind'"));
    out.bytes(SPACE);
    getField(L, m, K.port);
    out.bytes(concatPiece(L, -1, "field 'port'"));
    out.bytes(SPACE);
    getField(L, m, K.proto);
    out.bytes(concatPiece(L, -1, "field 'proto'"));
    const fmts = getField(L, m, K.fmts) === lua.LUA_TNIL ? 0 : lua.lua_gettop(L);
    if (fmts === 0) lauxlib.luaL_error(L, to_luastring("attempt to get length of a nil value (field 'fmts')"));
    // table.concat(m.fmts, " ") over 1..#m.fmts
    api.lua_len(L, fmts);
    const count = lua.lua_tonumberx(L, -1);
    lua.lua_pop(L, 1);
    if (count === false) lauxlib.luaL_error(L, to_luastring("object length is not an integer"));
    for (let i = 1; i <= (count as number); i++) {
      api.lua_geti(L, fmts, i);
      const t = lua.lua_type(L, -1);
      if (t !== lua.LUA_TSTRING && t !== lua.LUA_TNUMBER) {
        lauxlib.luaL_error(L, to_luastring(`invalid value (at index ${i}) in table for 'concat'`));
      }
      out.bytes(SPACE);
      out.bytes(concatPiece(L, -1, 'fmts'));
      lua.lua_pop(L, 1);
    }
    out.bytes(CRLF);
    getField(L, m, K.lines);
    forEach(L, -1, () => renderLine(L, out));
    lua.lua_settop(L, m);
  });
  const text = out.result();
  lua.lua_pushlstring(L, text, text.length);
  return 1;
}

// ---- payload types and codecs --------------------------------------------------------------

/** End of the run of bytes from `i` that satisfy `test`. */
function skip(s: Uint8Array, i: number, test: (c: number) => boolean): number {
  while (i < s.length && test(s[i])) i++;
  return i;
}

// The runs most values are cut at get loops of their own: `skip` calls `test` per byte, and
// that call, seeing many functions, is not inlined.
/** End of the run of spaces from `i`. */
function skipSpace(s: Uint8Array, i: number): number {
  while (i < s.length && isSpace(s[i])) i++;
  return i;
}

/** End of the run of non-spaces from `i` (a `%S+` word). */
function skipWord(s: Uint8Array, i: number): number {
  while (i < s.length && !isSpace(s[i])) i++;
  return i;
}

/**
 * ptOf(line) == pt for the line on top: its value's first word (`^(%S+)`) is the string pt.
 * A nil or false value matches nothing; any other non-string value is Lua's index error.
 */
function linePtIs(L: LuaState, pt: Uint8Array | null, star = false): boolean {
  if (!lua.lua_toboolean(L, -1)) return false;
  const value = matchSubject(L, -1, "field 'value'");
  const end = skipWord(value, 0);
  if (end === 0) return false;
  if (star && end === 1 && value[0] === 0x2a) return true;
  if (pt === null || end !== pt.length) return false;
  for (let i = 0; i < end; i++) if (value[i] !== pt[i]) return false;
  return true;
}

/**
 * Visits the lines of section m named `name` whose payload type is pt, until `found` (called
 * with the value on top) returns a result; undefined when none did.
 */
function findPtLine<T>(L: LuaState, m: number, name: Uint8Array, pt: Uint8Array | null, found: (value: Uint8Array) => T): T | undefined {
  let result: T | undefined;
  const top = lua.lua_gettop(L);
  getField(L, m, K.lines);
  forEach(L, -1, () => {
    if (!fieldIs(L, -1, K.name, name)) return false;
    getField(L, -1, K.value);
    if (linePtIs(L, pt)) {
      result = found(lua.lua_tolstring(L, -1) as Uint8Array);
      lua.lua_pop(L, 1);
      return true;
    }
    lua.lua_pop(L, 1);
    return false;
  });
  lua.lua_settop(L, top);
  return result;
}

/** Lower-case encoding name of payload type pt in section m, or null. */
function encodingOf(L: LuaState, m: number, pt: Uint8Array | null): Uint8Array | null {
  const top = lua.lua_gettop(L);
  let matched = false;
  const encoding = findPtLine(L, m, B.rtpmap, pt, (value) => {
    matched = true;
    // ^%S+%s+([^/%s]+)
    const word = skipWord(value, 0);
    const gap = skipSpace(value, word);
    const end = skip(value, gap, (c) => c !== 0x2f && !isSpace(c));
    return gap > word && end > gap ? lower(value.subarray(gap, end)) : null;
  });
  lua.lua_settop(L, top);
  if (matched) return encoding ?? null;
  return pt === null ? null : STATIC_PT.find(([number]) => equalBytes(number, pt))?.[1] ?? null;
}

/** fmtp parameters of payload type pt in section m, lower-cased ("" when there is none). */
function fmtpOf(L: LuaState, m: number, pt: Uint8Array | null): Uint8Array {
  const top = lua.lua_gettop(L);
  const params = findPtLine(L, m, B.fmtp, pt, (value) => {
    // ^%S+%s*(.*)$
    const word = skipWord(value, 0);
    return lower(value.subarray(skipSpace(value, word)));
  });
  lua.lua_settop(L, top);
  return params ?? new Uint8Array(0);
}

/** First capture of `key(class+)` in s (Lua's s:match("key(%w+)")), or null. */
function findParam(s: Uint8Array, key: Uint8Array, test: (c: number) => boolean): Uint8Array | null {
  for (let i = 0; i + key.length < s.length; i++) {
    let j = 0;
    while (j < key.length && s[i + j] === key[j]) j++;
    if (j < key.length) continue;
    const end = skip(s, i + key.length, test);
    if (end > i + key.length) return s.subarray(i + key.length, end);
  }
  return null;
}

/**
 * Does the fmtp of pt satisfy the requested profile (at `profile`, 0 for none)? vp9 compares
 * profile-id (absent means 0), h264 profile-level-id, both case-insensitively.
 */
function profileMatches(L: LuaState, m: number, pt: Uint8Array | null, codec: Uint8Array, profile: number): boolean {
  if (profile === 0 || isNil(L, profile)) return true;
  const isVp9 = equalBytes(codec, B.vp9);
  if (!isVp9 && !equalBytes(codec, B.h264)) return true;
  const fmtp = fmtpOf(L, m, pt);
  const wanted = lower(lauxlib.luaL_tolstring(L, profile));
  lua.lua_pop(L, 1);
  if (isVp9) return equalBytes(findParam(fmtp, B.profileId, isAlnum) ?? bytesOf('0'), wanted);
  const id = findParam(fmtp, B.profileLevelId, isHex);
  return id !== null && equalBytes(id, wanted);
}

/**
 * Pushes the payload type (as it is in m.fmts) of `codec` in section m, with the profile at
 * `profile` (0: none), or nothing; returns whether it pushed.
 */
function pushSectionPayloadType(L: LuaState, m: number, codec: Uint8Array, profile: number): boolean {
  getField(L, m, K.fmts);
  const found = forEach(L, -1, () => {
    const pt = stringAt(L, -1);
    const encoding = encodingOf(L, m, pt);
    return encoding !== null && equalBytes(encoding, codec) && profileMatches(L, m, pt, codec, profile);
  });
  lua.lua_remove(L, found ? -2 : -1);
  return found;
}

/** codec:lower() for the codec name at idx (Lua's error for a non-string). */
const codecName = (L: LuaState, idx: number): Uint8Array => lower(matchSubject(L, idx, 'codec'));

/** sectionPayloadType(m, codec, profile) */
function sectionPayloadType(L: LuaState): number {
  if (isNil(L, 1) || isNil(L, 2)) {
    lua.lua_pushnil(L);
    return 1;
  }
  lua.lua_settop(L, 3);
  if (!pushSectionPayloadType(L, 1, codecName(L, 2), 3)) lua.lua_pushnil(L);
  return 1;
}

/** Pushes the first section of `kind` (at idx) with a non-zero port in desc, or nothing. */
function pushFirstSection(L: LuaState, desc: number, kind: number): boolean {
  if (isNil(L, desc)) return false;
  getField(L, desc, K.media);
  const found = forEach(L, -1, () => {
    getField(L, -1, K.kind);
    const same = luaEquals(L, lua.lua_gettop(L), kind);
    lua.lua_pop(L, 1);
    return same && !portIsZero(L, -1);
  });
  lua.lua_remove(L, found ? -2 : -1);
  return found;
}

/** firstSection(desc, kind) */
function firstSection(L: LuaState): number {
  lua.lua_settop(L, 2);
  if (!pushFirstSection(L, 1, 2)) lua.lua_pushnil(L);
  return 1;
}

/** findPayloadType(desc, kind, codec, profile) */
function findPayloadType(L: LuaState): number {
  lua.lua_settop(L, 4);
  if (!pushFirstSection(L, 1, 2) || isNil(L, 3) || !pushSectionPayloadType(L, 5, codecName(L, 3), 4)) {
    lua.lua_settop(L, 4);
    lua.lua_pushnil(L);
  }
  return 1;
}

/** negotiatedCodec(desc, kind): the encoding of the first payload type of the first section. */
function negotiatedCodec(L: LuaState): number {
  lua.lua_settop(L, 2);
  if (!pushFirstSection(L, 1, 2)) {
    lua.lua_pushnil(L);
    return 1;
  }
  getField(L, 3, K.fmts);
  if (api.lua_geti(L, -1, 1) === lua.LUA_TNIL) {
    lua.lua_pushnil(L);
    return 1;
  }
  const encoding = encodingOf(L, 3, stringAt(L, -1));
  if (encoding === null) lua.lua_pushnil(L);
  else lua.lua_pushlstring(L, encoding, encoding.length);
  return 1;
}

// ---- generateAnswer ------------------------------------------------------------------------

/** Replaces the name on top of the stack with a new line record { type = "a", name = name }. */
function pushValuelessLine(L: LuaState): void {
  lua.lua_createtable(L, 0, 2);
  pushWord(L, K.a);
  rawField(L, -2, K.type);
  lua.lua_insert(L, -2);
  rawField(L, -2, K.name);
}

/** The answer's direction for an offered one: sendonly <-> recvonly, others as they are. */
function pushSwappedName(L: LuaState, idx: number): void {
  const name = stringAt(L, idx);
  if (name !== null && equalBytes(name, B.sendonly)) pushWord(L, K.recvonly);
  else if (name !== null && equalBytes(name, B.recvonly)) pushWord(L, K.sendonly);
  else lua.lua_pushvalue(L, idx);
}

/**
 * Pushes the answer-side copy of the extmap value at idx, or nothing when the extension isn't
 * negotiated: "3/sendonly uri" becomes "3/recvonly uri".
 */
function pushAnswerExtmap(L: LuaState, idx: number, disableTwcc: boolean): boolean {
  const value = matchSubject(L, idx, "field 'value'");
  // ^(%d+)/?(%a*)%s+(%S+.*)$  (each part can only match greedily)
  const idEnd = skip(value, 0, isDigit);
  if (idEnd === 0) return false;
  const dirStart = value[idEnd] === 0x2f ? idEnd + 1 : idEnd;
  const dirEnd = skip(value, dirStart, isAlpha);
  const rest = skipSpace(value, dirEnd);
  if (rest === dirEnd || rest === value.length) return false;
  const uri = value.subarray(rest, skipWord(value, rest));
  if (!(KEPT_EXTENSIONS.some((kept) => equalBytes(uri, kept)) || (!disableTwcc && equalBytes(uri, TRANSPORT_CC)))) return false;
  const offered = value.subarray(dirStart, dirEnd);
  const dir = equalBytes(offered, B.sendonly) ? B.recvonly : equalBytes(offered, B.recvonly) ? B.sendonly : offered;
  lua.lua_createtable(L, 0, 3);
  pushWord(L, K.a);
  rawField(L, -2, K.type);
  pushWord(L, K.extmap);
  rawField(L, -2, K.name);
  // The text is the offered one when the direction stays, a '/' comes with it and one space
  // follows (the usual "3 uri"): that string again, not a new one.
  if (dir === offered && (dirStart > idEnd) === (dirEnd > dirStart) && rest === dirEnd + 1 && value[dirEnd] === 0x20) {
    lua.lua_pushvalue(L, idx);
  } else {
    const text = new Uint8Array(value.length - rest + idEnd + (dir.length > 0 ? dir.length + 2 : 1));
    text.set(value.subarray(0, idEnd));
    let at = idEnd;
    if (dir.length > 0) {
      text[at++] = 0x2f;
      text.set(dir, at);
      at += dir.length;
    }
    text[at++] = 0x20;
    text.set(value.subarray(rest), at);
    lua.lua_pushlstring(L, text, text.length);
  }
  rawField(L, -2, K.value);
  return true;
}

/** Pushes the answer for accepted audio/video section m using the payload type at `pt`. */
function pushAnswerSection(L: LuaState, m: number, pt: number, disableTwcc: boolean): void {
  const ptBytes = stringAt(L, pt);
  lua.lua_createtable(L, 0, 5);
  const out = lua.lua_gettop(L);
  getField(L, m, K.kind);
  rawField(L, out, K.kind);
  lua.lua_pushinteger(L, 9);
  rawField(L, out, K.port);
  pushWord(L, K['UDP/TLS/RTP/SAVPF']);
  rawField(L, out, K.proto);
  lua.lua_createtable(L, 1, 0);
  lua.lua_pushvalue(L, pt);
  lua.lua_rawseti(L, -2, 1);
  rawField(L, out, K.fmts);
  lua.lua_createtable(L, 0, 0);
  const lines = lua.lua_gettop(L);
  let count = 0;
  getField(L, m, K.lines);
  forEach(L, -1, () => {
    const line = lua.lua_gettop(L);
    if (!fieldIs(L, line, K.type, B.a)) return;
    const name = getString(L, line, K.name); // line + 1
    if (getField(L, line, K.value) === lua.LUA_TNIL) { // line + 2
      // Value-less attributes (direction, rtcp-mux, ...) are kept, direction swapped.
      pushSwappedName(L, line + 1);
      pushValuelessLine(L);
      lua.lua_rawseti(L, lines, ++count);
    } else if (name !== null && (equalBytes(name, B.rtpmap) || equalBytes(name, B.fmtp) || equalBytes(name, B.rtcpFb))) {
      if (linePtIs(L, ptBytes, equalBytes(name, B.rtcpFb))) {
        lua.lua_pushvalue(L, line);
        lua.lua_rawseti(L, lines, ++count);
      }
    } else if (name !== null && equalBytes(name, B.extmap)) {
      if (pushAnswerExtmap(L, line + 2, disableTwcc)) lua.lua_rawseti(L, lines, ++count);
    }
    lua.lua_settop(L, line);
  });
  lua.lua_settop(L, lines);
  rawField(L, out, K.lines);
}

/** Pushes a rejected copy of section m: port 0, a=inactive. */
function pushRejected(L: LuaState, m: number): void {
  lua.lua_createtable(L, 0, 5);
  const out = lua.lua_gettop(L);
  const kind = getString(L, m, K.kind);
  const application = kind !== null && equalBytes(kind, B.application);
  const media = kind !== null && (equalBytes(kind, B.audio) || equalBytes(kind, B.video));
  rawField(L, out, K.kind);
  lua.lua_pushinteger(L, 0);
  rawField(L, out, K.port);
  if (media) pushWord(L, K['UDP/TLS/RTP/SAVPF']);
  else getField(L, m, K.proto);
  rawField(L, out, K.proto);
  if (application) {
    getField(L, m, K.fmts);
  } else {
    lua.lua_createtable(L, 1, 0);
    pushWord(L, K['0']);
    lua.lua_rawseti(L, -2, 1);
  }
  rawField(L, out, K.fmts);
  lua.lua_createtable(L, 1, 0);
  pushWord(L, K.inactive);
  pushValuelessLine(L);
  lua.lua_rawseti(L, -2, 1);
  rawField(L, out, K.lines);
}

/**
 * Pushes the payload type to answer with in section m: the requested codec (at `requested`,
 * with its profile) if given, else the first codec of `preferences` (a list at that index)
 * present in the section; `vp9`, `h264`: the slots of options.vp9Profile and h264Profile.
 */
function pushChosenPayloadType(L: LuaState, m: number, requested: number, preferences: number, vp9: number, h264: number): boolean {
  const profileOf = (codec: Uint8Array): number => (equalBytes(codec, B.vp9) ? vp9 : equalBytes(codec, B.h264) ? h264 : 0);
  if (!isNil(L, requested)) {
    const codec = codecName(L, requested);
    return pushSectionPayloadType(L, m, codec, profileOf(codec));
  }
  const found = forEach(L, preferences, () => {
    const given = stringAt(L, -1);
    const codec = codecName(L, -1);
    return pushSectionPayloadType(L, m, codec, given === null ? 0 : profileOf(given));
  });
  if (found) lua.lua_remove(L, -2);
  return found;
}

/**
 * generateAnswer(offer, options): a minimal answer. options (all optional): audio, video,
 * data (false rejects that kind), audioCodec, videoCodec (force a codec: the m-line is
 * rejected if the offer lacks it), vp9Profile, h264Profile, disableTwcc. Only the first m-line
 * of each kind can be accepted; others get port 0.
 */
function generateAnswer(L: LuaState): number {
  if (isNil(L, 1)) {
    lua.lua_pushnil(L);
    return 1;
  }
  lua.lua_settop(L, 2);
  if (!lua.lua_toboolean(L, 2)) {
    lua.lua_createtable(L, 0, 0);
    api.lua_replace(L, 2);
  }
  // 3..10: options.vp9Profile, h264Profile, audio, video, data, audioCodec, videoCodec, disableTwcc
  for (const k of [K.vp9Profile, K.h264Profile, K.audio, K.video, K.data, K.audioCodec, K.videoCodec, K.disableTwcc]) getField(L, 2, k);
  const [VP9, H264, AUDIO, VIDEO, DATA, AUDIO_CODEC, VIDEO_CODEC] = [3, 4, 5, 6, 7, 8, 9];
  const disableTwcc = lua.lua_toboolean(L, 10);
  const isFalse = (idx: number): boolean => lua.lua_type(L, idx) === lua.LUA_TBOOLEAN && !lua.lua_toboolean(L, idx);
  // 11, 12: the module's current preference lists
  lua.lua_pushvalue(L, lua.lua_upvalueindex(MODULE_UPVALUE));
  getField(L, -1, K.AUDIO_CODECS);
  getField(L, -2, K.VIDEO_CODECS);
  lua.lua_remove(L, -3);
  // 13: answer, 14: its session, 15: its media
  lua.lua_createtable(L, 0, 2);
  lua.lua_createtable(L, 0, 0);
  lua.lua_pushvalue(L, -1);
  rawField(L, 13, K.session);
  lua.lua_createtable(L, 0, 0);
  lua.lua_pushvalue(L, -1);
  rawField(L, 13, K.media);
  // v= o= s= t= and value-less session attributes; c=, ICE and DTLS are the core's.
  let count = 0;
  getField(L, 1, K.session);
  forEach(L, -1, () => {
    const type = getString(L, -1, K.type);
    lua.lua_pop(L, 1);
    const keep = type !== null && type.length === 1 && (type[0] === 0x76 || type[0] === 0x6f || type[0] === 0x73 || type[0] === 0x74 ||
      (type[0] === 0x61 && fieldIsNil(L, -1, K.value)));
    if (keep) {
      lua.lua_pushvalue(L, -1);
      lua.lua_rawseti(L, 14, ++count);
    }
  });
  lua.lua_pop(L, 1);
  lua.lua_createtable(L, 0, 0); // 16: seen kinds
  getField(L, 1, K.media); // 17
  let sections = 0;
  forEach(L, 17, () => {
    const m = lua.lua_gettop(L);
    const kind = getString(L, m, K.kind); // m + 1
    lua.lua_pushvalue(L, m + 1);
    const seen = lua.lua_gettable(L, 16) !== lua.LUA_TNIL && lua.lua_toboolean(L, -1);
    lua.lua_pop(L, 1);
    const first = !seen && !portIsZero(L, m);
    lua.lua_pushvalue(L, m + 1);
    lua.lua_pushboolean(L, true);
    api.lua_settable(L, 16);
    const is = (word: Uint8Array): boolean => kind !== null && equalBytes(kind, word);
    let answered = false;
    if (first && is(B.audio) && !isFalse(AUDIO)) {
      if (pushChosenPayloadType(L, m, AUDIO_CODEC, 11, VP9, H264)) {
        pushAnswerSection(L, m, lua.lua_gettop(L), disableTwcc);
        answered = true;
      }
    } else if (first && is(B.video) && !isFalse(VIDEO)) {
      if (pushChosenPayloadType(L, m, VIDEO_CODEC, 12, VP9, H264)) {
        pushAnswerSection(L, m, lua.lua_gettop(L), disableTwcc);
        answered = true;
      }
    } else if (first && is(B.application) && !isFalse(DATA)) {
      // The data channel m-line is copied as is (the core adds sctp-port and friends).
      lua.lua_createtable(L, 0, 5);
      const out = lua.lua_gettop(L);
      for (const k of [K.kind, K.port, K.proto, K.fmts]) {
        getField(L, m, k);
        rawField(L, out, k);
      }
      lua.lua_createtable(L, 0, 0);
      let kept = 0;
      getField(L, m, K.lines);
      forEach(L, -1, () => {
        if (fieldIs(L, -1, K.type, B.a) && fieldIsNil(L, -1, K.value)) {
          lua.lua_pushvalue(L, -1);
          lua.lua_rawseti(L, out + 1, ++kept);
        }
      });
      lua.lua_pop(L, 1);
      rawField(L, out, K.lines);
      answered = true;
    }
    if (!answered) pushRejected(L, m);
    lua.lua_rawseti(L, 15, ++sections);
    lua.lua_settop(L, m);
  });
  lua.lua_settop(L, 13);
  return 1;
}

// ---- edits ----------------------------------------------------------------------------------

/** Renames value-less a=<from> lines of the list on top to `to`. */
function renameDirections(L: LuaState, from: number, to: number): void {
  forEach(L, -1, () => {
    const line = lua.lua_gettop(L);
    if (!fieldIs(L, line, K.type, B.a) || !fieldIsNil(L, line, K.value)) return;
    getField(L, line, K.name);
    const same = luaEquals(L, line + 1, from);
    lua.lua_pop(L, 1);
    if (same) {
      lua.lua_pushvalue(L, to);
      setField(L, line, K.name);
    }
  });
}

/** replaceDirection(desc, from, to, kind): everywhere, or only in sections of `kind`. */
function replaceDirection(L: LuaState): number {
  if (isNil(L, 1)) return 0;
  lua.lua_settop(L, 4);
  const anyKind = isNil(L, 4);
  if (anyKind) {
    getField(L, 1, K.session);
    renameDirections(L, 2, 3);
    lua.lua_pop(L, 1);
  }
  getField(L, 1, K.media);
  forEach(L, -1, () => {
    const m = lua.lua_gettop(L);
    getField(L, m, K.kind);
    const match = anyKind || luaEquals(L, m + 1, 4);
    lua.lua_pop(L, 1);
    if (!match) return;
    getField(L, m, K.lines);
    renameDirections(L, 2, 3);
    lua.lua_settop(L, m);
  });
  return 0;
}

/** desc.media = the sections `keep` (called with the section on top) accepts, in a new list. */
function filterMedia(L: LuaState, keep: () => boolean): void {
  lua.lua_createtable(L, 0, 0);
  const kept = lua.lua_gettop(L);
  let count = 0;
  getField(L, 1, K.media);
  forEach(L, -1, () => {
    if (keep()) {
      lua.lua_pushvalue(L, -1);
      lua.lua_rawseti(L, kept, ++count);
    }
  });
  lua.lua_pop(L, 1);
  setField(L, 1, K.media);
}

/** removeMedia(desc, kind): every section of `kind` goes. */
function removeMedia(L: LuaState): number {
  if (isNil(L, 1)) return 0;
  lua.lua_settop(L, 2);
  filterMedia(L, () => {
    getField(L, -1, K.kind);
    const same = luaEquals(L, lua.lua_gettop(L), 2);
    lua.lua_pop(L, 1);
    return !same;
  });
  return 0;
}

/** removeRejected(desc): every port-0 section goes. */
function removeRejected(L: LuaState): number {
  if (isNil(L, 1)) return 0;
  lua.lua_settop(L, 1);
  filterMedia(L, () => !portIsZero(L, -1));
  return 0;
}

/** Pushes a copy of the line list at idx: new records with the same four fields. */
function pushLinesCopy(L: LuaState, lines: number): void {
  lines = absIndex(L, lines);
  lua.lua_createtable(L, 0, 0);
  const out = lua.lua_gettop(L);
  forEach(L, lines, (i) => {
    lua.lua_createtable(L, 0, 3);
    for (const k of [K.type, K.name, K.value, K.text]) {
      if (getField(L, -2, k) === lua.LUA_TNIL) lua.lua_pop(L, 1);
      else rawField(L, -2, k);
    }
    lua.lua_rawseti(L, out, i);
  });
}

/** copy(desc): a deep copy, so a template can be edited per use. */
function copy(L: LuaState): number {
  if (isNil(L, 1)) {
    lua.lua_pushnil(L);
    return 1;
  }
  lua.lua_settop(L, 1);
  lua.lua_createtable(L, 0, 2); // 2
  getField(L, 1, K.session);
  pushLinesCopy(L, -1);
  lua.lua_remove(L, -2);
  rawField(L, 2, K.session);
  lua.lua_createtable(L, 0, 0); // 3
  getField(L, 1, K.media);
  forEach(L, -1, (i) => {
    const m = lua.lua_gettop(L);
    lua.lua_createtable(L, 0, 5);
    for (const k of [K.kind, K.port, K.proto]) {
      if (getField(L, m, k) === lua.LUA_TNIL) lua.lua_pop(L, 1);
      else rawField(L, m + 1, k);
    }
    lua.lua_createtable(L, 0, 0);
    getField(L, m, K.fmts);
    forEach(L, -1, (j) => {
      lua.lua_pushvalue(L, -1);
      lua.lua_rawseti(L, m + 2, j);
    });
    lua.lua_pop(L, 1);
    rawField(L, m + 1, K.fmts);
    getField(L, m, K.lines);
    pushLinesCopy(L, -1);
    lua.lua_remove(L, -2);
    rawField(L, m + 1, K.lines);
    lua.lua_rawseti(L, 3, i);
    lua.lua_settop(L, m);
  });
  lua.lua_pop(L, 1);
  rawField(L, 2, K.media);
  return 1;
}

// ---- the module -----------------------------------------------------------------------------

const FUNCTIONS: Array<[string, (L: LuaState) => number]> = [
  ['parse', parse], ['render', render], ['sectionPayloadType', sectionPayloadType], ['firstSection', firstSection],
  ['findPayloadType', findPayloadType], ['negotiatedCodec', negotiatedCodec], ['generateAnswer', generateAnswer],
  ['replaceDirection', replaceDirection], ['removeMedia', removeMedia], ['removeRejected', removeRejected], ['copy', copy],
];

function pushStringList(L: LuaState, list: string[]): void {
  lua.lua_createtable(L, list.length, 0);
  list.forEach((s, i) => {
    lua.lua_pushstring(L, s);
    lua.lua_rawseti(L, -2, i + 1);
  });
}

/**
 * Stack slots a function may use at once: its arguments and results, a section, a line, and
 * the nested lookups of generateAnswer (about 40); a JS function starts with 20 guaranteed.
 */
const STACK_SLOTS = 64;

/** Creates the `sdp` module table and leaves it on the stack. */
export function pushSdpModule(L: LuaState): void {
  if (!lua.lua_checkstack(L, WORDS.length + 4)) lauxlib.luaL_error(L, to_luastring('sdp: stack overflow'));
  lua.lua_createtable(L, 0, FUNCTIONS.length + 2);
  const module = lua.lua_gettop(L);
  pushStringList(L, AUDIO_CODECS);
  lua.lua_setfield(L, module, 'AUDIO_CODECS');
  pushStringList(L, VIDEO_CODECS);
  lua.lua_setfield(L, module, 'VIDEO_CODECS');
  for (const [name, fn] of FUNCTIONS) {
    for (const word of WORDS) lua.lua_pushstring(L, word);
    lua.lua_pushvalue(L, module);
    lua.lua_pushjsclosure(L, (L1) => {
      if (!lua.lua_checkstack(L1, STACK_SLOTS)) lauxlib.luaL_error(L1, to_luastring('sdp: stack overflow'));
      return fn(L1);
    }, MODULE_UPVALUE);
    lua.lua_setfield(L, module, name);
  }
}
