// Janus's janus-sdp.lua (the SDP helpers its echotest.lua and videoroom.lua require) with the
// functions a join runs, parse, render, findPayloadType and generateAnswer, run natively.
// Under Fengari they cost ~1.8 ms of the script thread per browser offer (Lua string patterns, a
// quadratic concatenation, one table per line), most of a join's script work; natively ~0.4 ms
// (docs/scripts.md).
//
// The module is loaded as usual, from the script's folder, by the Lua file searcher. When a
// loaded module's function of one of those names is a Lua function whose source lines are,
// byte for byte, Janus's (SHA-256 in TWINS), it is replaced by a native twin. Any other text
// (an edited copy, another module) keeps its Lua function.
//
// A twin returns exactly what the Lua function returns (the same strings, tables with the same
// keys in the same pairs order, the offer's own line tables inside an answer, the defaults
// written into options) and is observably the same otherwise: it reads only plain tables and
// strings, without metamethods, and whenever the Lua function could do something else (an
// argument that is not a string or a plain table, fields that are not strings, a metatable,
// Lua pattern magic in a codec name, a payload type that is not a decimal integer, `pairs`,
// `tonumber`, `table.insert`, a string method or a JANUSSDP function replaced) the twin calls
// the Lua function instead, which then runs as in Janus. Its work is charged to the script's
// instruction budget (instruction-budget.ts).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lua, to_jsstring, type LuaState, type LuaJsFunction } from 'fengari';
import { charge, ITEM_UNITS, LINE_UNITS } from './instruction-budget';
import { CR, KEPT_EXTENSIONS, LF, SDP_WORDS, bytesOf, equalBytes, forEachLine, lower, upper } from './bytes';

/** The parts of fengari's C API this module uses beyond workers/lua/fengari.d.ts. */
const api = lua as typeof lua & {
  lua_getupvalue(L: LuaState, funcindex: number, n: number): Uint8Array | null;
  lua_replace(L: LuaState, idx: number): void;
  lua_getinfo(L: LuaState, what: Uint8Array | string, ar: LuaDebug): boolean;
  lua_Debug: new () => LuaDebug;
};
interface LuaDebug {
  source: Uint8Array | null;
  linedefined: number;
  lastlinedefined: number;
}

// ---- the functions the Lua ones call, as the environment gave them --------------------------

/** Registry key of the table of the library functions the Lua functions rely on. */
const LIBRARY_KEY = 'luasfu.janus-sdp.library';
const GLOBALS = ['pairs', 'tonumber', 'table.insert'] as const;
const METHODS = ['gmatch', 'sub', 'find', 'gsub', 'upper', 'lower'] as const;

/**
 * Remembers the environment's own library functions (call once the libraries are installed,
 * before any script code runs): a twin runs only while its Lua function would call these.
 */
export function rememberLibrary(L: LuaState): void {
  lua.lua_createtable(L, 0, GLOBALS.length + METHODS.length + 1);
  for (const path of [...GLOBALS, 'string', ...METHODS.map((m) => `string.${m}`)]) {
    const [first, second] = path.split('.');
    lua.lua_getglobal(L, first);
    if (second !== undefined) {
      lua.lua_getfield(L, -1, second);
      lua.lua_remove(L, -2);
    }
    lua.lua_setfield(L, -2, path);
  }
  lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, LIBRARY_KEY);
}

/** Is raw t[key] (t at idx) the remembered library[path]? Pops nothing. */
function rawIs(L: LuaState, t: number, key: string, library: number, path: string): boolean {
  lua.lua_pushstring(L, key);
  lua.lua_rawget(L, t < 0 ? t - 1 : t);
  lua.lua_getfield(L, library, path);
  const same = lua.lua_type(L, -1) !== lua.LUA_TNIL && lua.lua_rawequal(L, -1, -2);
  lua.lua_pop(L, 2);
  return same;
}

/** Pushes the upvalue called `name` of the Lua function (the twin's upvalue 1); false: none. */
function pushUpvalue(L: LuaState, name: string): boolean {
  for (let n = 1; ; n++) {
    const found = api.lua_getupvalue(L, lua.lua_upvalueindex(1), n);
    if (found === null) return false;
    if (to_jsstring(found) === name) return true;
    lua.lua_pop(L, 1);
  }
}

/**
 * Would the Lua function (upvalue 1) call what its twin stands in for? Its `_ENV` holds the
 * remembered globals, strings index the remembered `string` table holding its own methods, and
 * the module it reads other functions from (`JANUSSDP`) holds the twin it needs (upvalue
 * NEEDED_TWIN). Raw reads only: nothing a metamethod could notice.
 */
function libraryIntact(L: LuaState, twin: Twin): boolean {
  const base = lua.lua_gettop(L);
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, LIBRARY_KEY);
  const library = base + 1;
  let intact = pushUpvalue(L, '_ENV') && lua.lua_type(L, -1) === lua.LUA_TTABLE;
  for (const path of twin.globals) {
    if (!intact) break;
    const [first, second] = path.split('.');
    if (second === undefined) intact = rawIs(L, -1, first, library, path);
    else {
      lua.lua_pushstring(L, first);
      intact = lua.lua_rawget(L, -2) === lua.LUA_TTABLE && rawIs(L, -1, second, library, path);
      lua.lua_pop(L, 1);
    }
  }
  if (intact && twin.methods.length > 0) {
    lua.lua_pushstring(L, '');
    intact = lua.lua_getmetatable(L, -1) && rawIs(L, -1, '__index', library, 'string');
    lua.lua_getfield(L, library, 'string');
    intact = intact && twin.methods.every((method) => rawIs(L, -1, method, library, `string.${method}`));
  }
  if (intact && twin.needs !== undefined) {
    intact = pushUpvalue(L, 'JANUSSDP') && lua.lua_type(L, -1) === lua.LUA_TTABLE;
    if (intact) {
      lua.lua_pushstring(L, twin.needs);
      lua.lua_rawget(L, -2);
      intact = lua.lua_rawequal(L, -1, lua.lua_upvalueindex(NEEDED_TWIN));
    }
  }
  lua.lua_settop(L, base);
  return intact;
}

/** Calls the Lua function (upvalue 1) with the twin's `count` arguments and returns its results. */
function callLua(L: LuaState, count: number): number {
  lua.lua_settop(L, count);
  lua.lua_pushvalue(L, lua.lua_upvalueindex(1));
  lua.lua_insert(L, 1);
  lua.lua_call(L, count, lua.LUA_MULTRET);
  return lua.lua_gettop(L);
}

// ---- the twins ---------------------------------------------------------------------------------

// A twin's upvalues: the Lua function, the field names as Lua strings made once (a key pushed
// from a JS string would be converted, copied and hashed at every use), then the twin it needs.
const KEYS = ['type', 'name', 'value'];
const [TYPE, NAME, VALUE] = KEYS.map((_, i) => i + 2);
const NEEDED_TWIN = KEYS.length + 2;
const pushKey = (L: LuaState, upvalue: number): void => lua.lua_pushvalue(L, lua.lua_upvalueindex(upvalue));

const COLON = 0x3a;

/**
 * parse(text): one { type = line:sub(1,1), name, value } per run of bytes between CR/LF runs,
 * name and value split at the first ':' after line:sub(3) (no ':': name only), in order.
 */
function parse(L: LuaState): number {
  const type = lua.lua_type(L, 1);
  if (type <= lua.LUA_TNIL) {
    lua.lua_pushnil(L);
    return 1;
  }
  if (type !== lua.LUA_TSTRING || !libraryIntact(L, TWINS.parse)) return callLua(L, 1);
  const s = lua.lua_tolstring(L, 1) as Uint8Array;
  lua.lua_settop(L, 1);
  charge(L, s.length >> 4);
  lua.lua_createtable(L, 0, 0);
  let count = 0;
  forEachLine(s, (start, i) => {
    charge(L, LINE_UNITS);
    const rest = Math.min(start + 2, i);
    let colon = rest;
    while (colon < i && s[colon] !== COLON) colon++;
    // Keys pushed before values: rawset without moving stack slots.
    lua.lua_createtable(L, 0, 3);
    pushKey(L, TYPE);
    lua.lua_pushstring(L, s.subarray(start, start + 1));
    lua.lua_rawset(L, -3);
    pushKey(L, NAME);
    lua.lua_pushstring(L, s.subarray(rest, colon));
    lua.lua_rawset(L, -3);
    if (colon < i) {
      pushKey(L, VALUE);
      lua.lua_pushstring(L, s.subarray(colon + 1, i));
      lua.lua_rawset(L, -3);
    }
    lua.lua_rawseti(L, 2, ++count);
  });
  return 1;
}

/** A line without a value (`a.value == nil`), told apart from an empty value by identity. */
const NO_VALUE = new Uint8Array(0);

/** Pushes raw line[key] and returns its bytes: null when nil, undefined when not a string. */
function rawText(L: LuaState, line: number, key: number): Uint8Array | null | undefined {
  pushKey(L, key);
  const type = lua.lua_rawget(L, line);
  if (type === lua.LUA_TNIL) return null;
  return type === lua.LUA_TSTRING ? (lua.lua_tolstring(L, -1) as Uint8Array) : undefined;
}

/** render(sdp): for each line in pairs(sdp) order, type "=" name [":" value] CRLF. */
function render(L: LuaState): number {
  const type = lua.lua_type(L, 1);
  if (type <= lua.LUA_TNIL) {
    lua.lua_pushnil(L);
    return 1;
  }
  if (type !== lua.LUA_TTABLE || lua.lua_getmetatable(L, 1) || !libraryIntact(L, TWINS.render)) return callLua(L, 1);
  lua.lua_settop(L, 1);
  const pieces: Uint8Array[] = [];
  let length = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, 1) !== 0) {
    charge(L, ITEM_UNITS);
    if (lua.lua_type(L, -1) !== lua.LUA_TTABLE || lua.lua_getmetatable(L, -1)) return callLua(L, 1);
    const lineType = rawText(L, 3, TYPE);
    const name = rawText(L, 3, NAME);
    const value = rawText(L, 3, VALUE);
    if (!lineType || !name || value === undefined) return callLua(L, 1);
    pieces.push(lineType, name, value ?? NO_VALUE);
    length += lineType.length + name.length + (value === null ? 3 : value.length + 4);
    lua.lua_pop(L, 4);
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (let p = 0; p < pieces.length; p += 3) {
    out.set(pieces[p], at);
    at += pieces[p].length;
    out[at++] = 0x3d; // =
    out.set(pieces[p + 1], at);
    at += pieces[p + 1].length;
    if (pieces[p + 2] !== NO_VALUE) {
      out[at++] = COLON;
      out.set(pieces[p + 2], at);
      at += pieces[p + 2].length;
    }
    out[at++] = CR;
    out[at++] = LF;
  }
  charge(L, length >> 4);
  lua.lua_pushstring(L, out);
  return 1;
}

// ---- findPayloadType and generateAnswer: the offer read once, as plain lines ---------------

/** A line of an offer as findPayloadType and generateAnswer read it. */
interface Line {
  type: Uint8Array;
  name: Uint8Array;
  value: Uint8Array | null;
  /** tonumber of the value's first word, for rtpmap/fmtp/rtcp-fb lines (else NaN). */
  pt: number;
}

const W = { ...SDP_WORDS, slashSendonly: bytesOf('/sendonly'), slashRecvonly: bytesOf('/recvonly') };
// generateAnswer keeps KEPT_EXTENSIONS, and transport-cc (found by this part of its URI) unless
// options.disableTwcc is true.
const TWCC = bytesOf('draft-holmer-rmcat-transport-wide-cc-extensions-01');
// generateAnswer's codec preferences when options name none, in its order.
const AUDIO_CODECS = ['opus', 'multiopus', 'pcmu', 'pcma', 'g722', 'isac16', 'isac32'].map(bytesOf);
const VIDEO_CODECS = ['vp8', 'vp9', 'h264'].map(bytesOf);

/** string.find(s, needle, 1, true) ~= nil (an empty needle is found). */
const contains = (s: Uint8Array, needle: Uint8Array): boolean => Buffer.from(s.buffer, s.byteOffset, s.length).indexOf(needle) >= 0;
const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => Buffer.concat([a, b]);
/** Lua pattern magic characters: a pattern without them matches as plain text. */
const MAGIC = new Set([...'^$*+?.([%-'].map((c) => c.charCodeAt(0)));
const isPlain = (s: Uint8Array): boolean => s.every((c) => !MAGIC.has(c));

/** s:gsub(from, to) for plain `from` and `to` (no magic, no %): every occurrence, left to right. */
function replaceAll(s: Uint8Array, from: Uint8Array, to: Uint8Array): Uint8Array {
  const text = Buffer.from(s.buffer, s.byteOffset, s.length);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (let found = text.indexOf(from, at); found >= 0; found = text.indexOf(from, at)) {
    parts.push(text.subarray(at, found), to);
    at = found + from.length;
  }
  parts.push(text.subarray(at));
  return Buffer.concat(parts);
}

/**
 * tonumber of `value:gmatch("[^ ]+")()`, when that is a plain decimal integer (what an SDP
 * holds); null when it is anything else (no word, a float, hex, not a number), for which the
 * Lua function runs instead.
 */
function firstWordNumber(value: Uint8Array): number | null {
  let i = 0;
  while (i < value.length && value[i] === 0x20) i++;
  const start = i;
  let n = 0;
  while (i < value.length && value[i] >= 48 && value[i] <= 57) n = n * 10 + value[i++] - 48;
  if (i === start || i - start > 15 || (i < value.length && value[i] !== 0x20)) return null;
  return n;
}

/**
 * The lines of the table at idx in pairs order, each kept (when `scratch` is given) in the
 * table at `scratch` at the same index, for generateAnswer to hand back; null when the Lua
 * functions could read them otherwise: a metatable, a line that is not a plain table of
 * strings, an rtpmap, fmtp or rtcp-fb value whose first word is not a decimal integer.
 */
function readLines(L: LuaState, idx: number, scratch?: number): Line[] | null {
  if (lua.lua_getmetatable(L, idx)) return null;
  const lines: Line[] = [];
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx) !== 0) {
    charge(L, ITEM_UNITS);
    const line = lua.lua_gettop(L);
    if (lua.lua_type(L, line) !== lua.LUA_TTABLE || lua.lua_getmetatable(L, line)) return null;
    const type = rawText(L, line, TYPE);
    const name = rawText(L, line, NAME);
    const value = rawText(L, line, VALUE);
    if (!type || !name || value === undefined) return null;
    let pt = NaN;
    if (value !== null && (equalBytes(name, W.rtpmap) || equalBytes(name, W.fmtp) || equalBytes(name, W.rtcpFb))) {
      const word = firstWordNumber(value);
      if (word === null) return null;
      pt = word;
    }
    lines.push({ type, name, value, pt });
    if (scratch === undefined) lua.lua_settop(L, line - 1);
    else {
      lua.lua_settop(L, line);
      lua.lua_rawseti(L, scratch, lines.length);
    }
  }
  return lines;
}

/** Janus's findPayloadType on read lines: codec and profile plain strings (or profile null). */
function payloadType(lines: Line[], codec: Uint8Array | null, profile: Uint8Array | null): number {
  if (codec === null) return -1;
  const codecUpper = upper(codec);
  const codecLower = lower(codec);
  let pt = -1;
  let checkProfile = false;
  for (const a of lines) {
    if (checkProfile && equalBytes(a.name, W.fmtp) && a.value !== null) {
      checkProfile = false;
      const value = a.value;
      if (equalBytes(codec, W.vp9)) {
        if (contains(value, concat(W.profileId, profile as Uint8Array))) break;
        pt = -1;
      } else if (equalBytes(codec, W.h264)) {
        const p = profile as Uint8Array;
        if (contains(value, concat(W.profileLevelId, lower(p))) || contains(value, concat(W.profileLevelId, upper(p)))) break;
        pt = -1;
      }
    } else if (equalBytes(a.name, W.rtpmap) && a.value !== null) {
      if (contains(a.value, codecLower) || contains(a.value, codecUpper)) {
        pt = a.pt;
        if (profile === null) break;
        checkProfile = true;
      }
    }
  }
  return pt;
}

/** The string at idx when it is nil (null) or a string without pattern magic; else undefined. */
function plainOrNil(L: LuaState, idx: number): Uint8Array | null | undefined {
  const type = lua.lua_type(L, idx);
  if (type <= lua.LUA_TNIL) return null;
  const s = type === lua.LUA_TSTRING ? (lua.lua_tolstring(L, idx) as Uint8Array) : null;
  return s !== null && isPlain(s) ? s : undefined;
}

/** findPayloadType(sdp, codec, profile): the payload type of codec's first rtpmap, or -1. */
function findPayloadType(L: LuaState): number {
  if (lua.lua_type(L, 1) <= lua.LUA_TNIL || lua.lua_type(L, 2) <= lua.LUA_TNIL) {
    lua.lua_pushinteger(L, -1);
    return 1;
  }
  lua.lua_settop(L, 3);
  const codec = plainOrNil(L, 2);
  const profile = plainOrNil(L, 3);
  if (lua.lua_type(L, 1) !== lua.LUA_TTABLE || !codec || profile === undefined || !libraryIntact(L, TWINS.findPayloadType)) return callLua(L, 3);
  const lines = readLines(L, 1);
  if (lines === null) return callLua(L, 3);
  lua.lua_pushinteger(L, payloadType(lines, codec, profile));
  return 1;
}

const OPTION_NAMES = ['audio', 'video', 'data', 'disableTwcc', 'audioCodec', 'videoCodec', 'vp9Profile', 'h264Profile'] as const;

/** Pushes a new { type = type, name = name } (and value) table. */
function pushLine(L: LuaState, type: Uint8Array, name: Uint8Array, value?: Uint8Array): void {
  lua.lua_createtable(L, 0, value === undefined ? 2 : 3);
  pushKey(L, TYPE);
  lua.lua_pushstring(L, type);
  lua.lua_rawset(L, -3);
  pushKey(L, NAME);
  lua.lua_pushstring(L, name);
  lua.lua_rawset(L, -3);
  if (value !== undefined) {
    pushKey(L, VALUE);
    lua.lua_pushstring(L, value);
    lua.lua_rawset(L, -3);
  }
}

/**
 * generateAnswer(offer, options): Janus's answer to a parsed offer, line tables of the offer
 * included as they are, options' defaults written back into options as the Lua function does.
 */
function generateAnswer(L: LuaState): number {
  if (lua.lua_type(L, 1) <= lua.LUA_TNIL) {
    lua.lua_pushnil(L);
    return 1;
  }
  lua.lua_settop(L, 2);
  const hasOptions = lua.lua_type(L, 2) === lua.LUA_TTABLE;
  if (lua.lua_type(L, 1) !== lua.LUA_TTABLE || !(hasOptions || lua.lua_type(L, 2) === lua.LUA_TNIL) || (hasOptions && (lua.lua_getmetatable(L, 2) || lua.lua_rawequal(L, 1, 2)))) return callLua(L, 2);
  // 3..10: the options (raw reads of a plain table: nothing else can see them).
  for (const option of OPTION_NAMES) {
    if (hasOptions) lua.lua_getfield(L, 2, option);
    else lua.lua_pushnil(L);
  }
  const option = (name: (typeof OPTION_NAMES)[number]): number => 3 + OPTION_NAMES.indexOf(name);
  const audioCodecOption = plainOrNil(L, option('audioCodec'));
  const videoCodecOption = plainOrNil(L, option('videoCodec'));
  const vp9Profile = plainOrNil(L, option('vp9Profile'));
  const h264Profile = plainOrNil(L, option('h264Profile'));
  if (audioCodecOption === undefined || videoCodecOption === undefined || vp9Profile === undefined || h264Profile === undefined) return callLua(L, 2);
  if (!libraryIntact(L, TWINS.generateAnswer)) return callLua(L, 2);
  lua.lua_createtable(L, 0, 0);
  const scratch = lua.lua_gettop(L);
  const lines = readLines(L, 1, scratch);
  if (lines === null) return callLua(L, 2);

  // The options' defaults, as the Lua function writes them.
  const setDefault = (name: (typeof OPTION_NAMES)[number], push: () => void): void => {
    if (!hasOptions || lua.lua_type(L, option(name)) !== lua.LUA_TNIL) return;
    push();
    lua.lua_setfield(L, 2, name);
  };
  let audioCodec = audioCodecOption;
  let videoCodec = videoCodecOption;
  setDefault('audio', () => lua.lua_pushboolean(L, true));
  if (audioCodec === null) {
    audioCodec = AUDIO_CODECS.find((codec) => payloadType(lines, codec, null) > 0) ?? null;
    if (audioCodec !== null) setDefault('audioCodec', () => lua.lua_pushstring(L, audioCodec as Uint8Array));
  }
  setDefault('video', () => lua.lua_pushboolean(L, true));
  if (videoCodec === null) {
    const profiles = [null, vp9Profile, h264Profile];
    videoCodec = VIDEO_CODECS.find((codec, i) => payloadType(lines, codec, profiles[i]) > 0) ?? null;
    if (videoCodec !== null) setDefault('videoCodec', () => lua.lua_pushstring(L, videoCodec as Uint8Array));
  }
  setDefault('data', () => lua.lua_pushboolean(L, true));
  setDefault('disableTwcc', () => lua.lua_pushboolean(L, false));
  const disableTwcc = lua.lua_type(L, option('disableTwcc')) === lua.LUA_TBOOLEAN && lua.lua_toboolean(L, option('disableTwcc'));

  lua.lua_createtable(L, 0, 0);
  const answer = lua.lua_gettop(L);
  let count = 0;
  const append = (): void => lua.lua_rawseti(L, answer, ++count);
  const appendOffered = (i: number): void => {
    lua.lua_rawgeti(L, scratch, i + 1);
    append();
  };
  const appendNew = (type: Uint8Array, name: Uint8Array, value?: Uint8Array): void => {
    pushLine(L, type, name, value);
    append();
  };
  let audio = 0;
  let video = 0;
  let data = 0;
  let audioPt = -1;
  let videoPt = -1;
  let medium: 'audio' | 'video' | 'application' | null = null;
  lines.forEach((a, i) => {
    charge(L, ITEM_UNITS);
    if (medium === null && !equalBytes(a.type, W.m) && a.value === null) appendOffered(i);
    if (equalBytes(a.type, W.m)) {
      if (contains(a.name, W.audio)) {
        medium = 'audio';
        audio++;
        if (audioPt < 0) audioPt = payloadType(lines, audioCodec, null);
        if (audioPt < 0) audio++;
        appendNew(W.m, audio > 1 ? bytesOf('audio 0 UDP/TLS/RTP/SAVPF 0') : bytesOf(`audio 9 UDP/TLS/RTP/SAVPF ${audioPt}`));
      } else if (contains(a.name, W.video)) {
        medium = 'video';
        video++;
        if (videoPt < 0) {
          const profile = videoCodec !== null && equalBytes(videoCodec, W.vp9) ? vp9Profile : videoCodec !== null && equalBytes(videoCodec, W.h264) ? h264Profile : null;
          videoPt = payloadType(lines, videoCodec, profile);
        }
        if (videoPt < 0) video++;
        appendNew(W.m, video > 1 ? bytesOf('video 0 UDP/TLS/RTP/SAVPF 0') : bytesOf(`video 9 UDP/TLS/RTP/SAVPF ${videoPt}`));
      } else if (contains(a.name, W.application)) {
        medium = 'application';
        data++;
        appendNew(W.m, data > 1 ? bytesOf('application 0 DTLS/SCTP 5000') : a.name);
      }
    } else if (equalBytes(a.type, W.a)) {
      if (equalBytes(a.name, W.sendonly)) appendNew(W.a, W.recvonly);
      else if (equalBytes(a.name, W.recvonly)) appendNew(W.a, W.sendonly);
      else if (a.value !== null) {
        if (equalBytes(a.name, W.rtpmap) || equalBytes(a.name, W.fmtp) || equalBytes(a.name, W.rtcpFb)) {
          if ((medium === 'audio' && a.pt === audioPt) || (medium === 'video' && a.pt === videoPt)) appendOffered(i);
        } else if (equalBytes(a.name, W.extmap)) {
          let value = a.value;
          if (contains(a.value, W.slashSendonly)) value = replaceAll(a.value, W.slashSendonly, W.slashRecvonly);
          else if (contains(a.value, W.slashRecvonly)) value = replaceAll(a.value, W.slashRecvonly, W.slashSendonly);
          if (KEPT_EXTENSIONS.some((uri) => contains(a.value as Uint8Array, uri)) || (!disableTwcc && contains(a.value, TWCC))) appendNew(W.a, a.name, value);
        }
      } else appendOffered(i);
    }
  });
  return 1;
}

// ---- what is twinned ------------------------------------------------------------------------

interface Twin {
  /** SHA-256 of the Lua function's source lines (joined by "\n"), as in Janus's janus-sdp.lua. */
  sha256: string;
  twin: LuaJsFunction;
  /** Globals (of the function's _ENV) and string methods the Lua function calls. */
  globals: readonly (typeof GLOBALS)[number][];
  methods: readonly (typeof METHODS)[number][];
  /** A function of the same module the Lua function calls (through JANUSSDP), twinned first. */
  needs?: 'findPayloadType';
}

/** Janus's functions with a twin, in adoption order. parse, render, findPayloadType: the same
 * text in every Janus release since 2019; generateAnswer: Janus 1.1's. */
const TWINS = {
  parse: { sha256: 'bf0f41eb900d95081024f08fa7890d285207c200544f23ff8a98bd2ea2c0a148', twin: parse, globals: ['pairs', 'table.insert'], methods: ['gmatch', 'sub', 'find'] },
  render: { sha256: '5ac04760c830347563276f2cf1b2413dd1e2bc55c2a969119eb22efc11e39988', twin: render, globals: ['pairs'], methods: [] },
  findPayloadType: { sha256: 'a232e2fcfd19ccc1c5124fa9d75121848650dcf17af7e41808b3b0db773f188a', twin: findPayloadType, globals: ['pairs', 'tonumber'], methods: ['find', 'gmatch', 'upper', 'lower'] },
  generateAnswer: { sha256: 'c9bec7b60c7f0c8c58a21cf013258bd9a17efc5223d6907b495917dcac9a2f5f', twin: generateAnswer, globals: ['pairs', 'tonumber'], methods: ['find', 'gmatch', 'gsub'], needs: 'findPayloadType' },
} satisfies Record<string, Twin>;

// ---- adopting the twins ------------------------------------------------------------------------

/** SHA-256 (hex) of the source lines of the function on top of the stack (popped), or null. */
function sourceHash(L: LuaState, files: Map<string, string[] | null>): string | null {
  const ar = new api.lua_Debug();
  api.lua_getinfo(L, '>S', ar);
  if (ar.source === null || ar.source[0] !== 0x40 /* @: a file */ || ar.linedefined <= 0) return null;
  const path = to_jsstring(ar.source, 1);
  if (!files.has(path)) {
    try {
      files.set(path, readFileSync(path, 'latin1').split('\n'));
    } catch {
      files.set(path, null);
    }
  }
  const lines = files.get(path);
  if (!lines || ar.lastlinedefined > lines.length) return null;
  const text = lines.slice(ar.linedefined - 1, ar.lastlinedefined).join('\n');
  return createHash('sha256').update(text, 'latin1').digest('hex');
}

/** The module a loader returned (on top of the stack): its Janus functions become twins. */
function adoptTwins(L: LuaState): void {
  const module = lua.lua_gettop(L);
  if (lua.lua_type(L, module) !== lua.LUA_TTABLE) return;
  const files = new Map<string, string[] | null>();
  const adopted = new Set<string>();
  for (const [name, spec] of Object.entries(TWINS) as [string, Twin][]) {
    lua.lua_pushstring(L, name);
    if (lua.lua_rawget(L, module) === lua.LUA_TFUNCTION && (spec.needs === undefined || adopted.has(spec.needs))) {
      lua.lua_pushvalue(L, -1);
      if (sourceHash(L, files) === spec.sha256) {
        for (const key of KEYS) lua.lua_pushstring(L, key);
        if (spec.needs === undefined) lua.lua_pushnil(L);
        else lua.lua_getfield(L, module, spec.needs);
        lua.lua_pushjsclosure(L, spec.twin, NEEDED_TWIN);
        lua.lua_pushstring(L, name);
        lua.lua_insert(L, -2);
        lua.lua_rawset(L, module);
        adopted.add(name);
      }
    }
    lua.lua_settop(L, module);
  }
}

/** A module loader (upvalue 1) whose module adopts the twins. */
const adoptingLoader: LuaJsFunction = (L) => {
  lua.lua_pushvalue(L, lua.lua_upvalueindex(1));
  lua.lua_insert(L, 1);
  lua.lua_call(L, lua.lua_gettop(L) - 1, 1);
  adoptTwins(L);
  return 1;
};

/**
 * package.searchers' Lua file searcher (upvalue 1) with its loaders wrapped: every Lua module
 * is loaded and run as before, then gets the twins of those of its functions that are Janus's.
 */
export const twinAdoptingSearcher: LuaJsFunction = (L) => {
  lua.lua_settop(L, 1);
  lua.lua_pushvalue(L, lua.lua_upvalueindex(1));
  lua.lua_insert(L, 1);
  lua.lua_call(L, 1, 2);
  if (lua.lua_type(L, 1) === lua.LUA_TFUNCTION) {
    lua.lua_pushvalue(L, 1);
    lua.lua_pushjsclosure(L, adoptingLoader, 1);
    api.lua_replace(L, 1);
  }
  return 2;
};
