// Janus's janus-sdp.lua (the SDP helpers its echotest.lua and videoroom.lua require) with its
// two text-heavy functions run natively. Under Fengari its `parse` costs ~1 ms and `render`
// ~0.3 ms per offer on the script thread (Lua string patterns and a quadratic concatenation),
// most of a join's script work; natively they take a few tens of µs (docs/scripts.md).
//
// The module is loaded as usual, from the script's folder, by the Lua file searcher. When a
// loaded module's `parse` or `render` is a Lua function whose source lines are, byte for byte,
// those of Janus's (the same in every Janus release since 2019: SHA-256 below), it is replaced
// by a native twin. Any other text (an edited copy, another module) keeps its Lua function.
//
// A twin returns exactly what the Lua function returns, and is observably the same otherwise:
// it only reads plain tables and strings, without metamethods, so whenever the Lua function
// could do something else (an argument that is not a string or a plain table, fields that are
// numbers, a metatable, `pairs`, `table.insert` or a string method replaced in the function's
// environment) the twin calls the Lua function instead, which then runs as in Janus.
// Its work is charged to the script's instruction budget (instruction-budget.ts).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lua, to_jsstring, type LuaState, type LuaJsFunction } from 'fengari';
import { charge, ITEM_UNITS, LINE_UNITS } from './instruction-budget';

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

/** SHA-256 of the source lines (joined by "\n") of Janus's JANUSSDP.parse and JANUSSDP.render. */
const JANUS_FUNCTIONS: ReadonlyMap<string, { sha256: string; twin: LuaJsFunction }> = new Map([
  ['parse', { sha256: 'bf0f41eb900d95081024f08fa7890d285207c200544f23ff8a98bd2ea2c0a148', twin: parse }],
  ['render', { sha256: '5ac04760c830347563276f2cf1b2413dd1e2bc55c2a969119eb22efc11e39988', twin: render }],
]);

// ---- the functions the Lua ones call, as the environment gave them --------------------------

/** Registry key of the table of the library functions parse and render rely on. */
const LIBRARY_KEY = 'luasfu.janus-sdp.library';
const LIBRARY = ['pairs', 'table.insert', 'string', 'string.gmatch', 'string.sub', 'string.find'] as const;

/**
 * Remembers the environment's own library functions (call once the libraries are installed,
 * before any script code runs): a twin runs only while its Lua function would call these.
 */
export function rememberLibrary(L: LuaState): void {
  lua.lua_createtable(L, 0, LIBRARY.length);
  for (const path of LIBRARY) {
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

/**
 * Would the Lua function (upvalue 1) call the library's own functions? Its `_ENV` holds the
 * remembered `pairs` (and for parse `table.insert`), and strings index the remembered `string`
 * table with its own gmatch, sub and find. Raw reads only: nothing a metamethod could notice.
 */
function libraryIntact(L: LuaState, withStrings: boolean): boolean {
  const base = lua.lua_gettop(L);
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, LIBRARY_KEY);
  const library = base + 1;
  const name = api.lua_getupvalue(L, lua.lua_upvalueindex(1), 1);
  let intact = name !== null && to_jsstring(name) === '_ENV' && lua.lua_type(L, -1) === lua.LUA_TTABLE && rawIs(L, -1, 'pairs', library, 'pairs');
  if (intact && withStrings) {
    lua.lua_pushstring(L, 'table');
    intact = lua.lua_rawget(L, -2) === lua.LUA_TTABLE && rawIs(L, -1, 'insert', library, 'table.insert');
    lua.lua_pushstring(L, '');
    intact = intact && lua.lua_getmetatable(L, -1) && rawIs(L, -1, '__index', library, 'string');
    lua.lua_getfield(L, library, 'string');
    intact = intact && ['gmatch', 'sub', 'find'].every((method) => rawIs(L, -1, method, library, `string.${method}`));
  }
  lua.lua_settop(L, base);
  return intact;
}

/** Calls the Lua function (upvalue 1) with the twin's argument and returns what it returns. */
function callLua(L: LuaState): number {
  lua.lua_settop(L, 1);
  lua.lua_pushvalue(L, lua.lua_upvalueindex(1));
  lua.lua_insert(L, 1);
  lua.lua_call(L, 1, lua.LUA_MULTRET);
  return lua.lua_gettop(L);
}

// ---- the twins ---------------------------------------------------------------------------------

// A twin's upvalues: the Lua function, then the field names as Lua strings made once (a key
// pushed from a JS string would be converted, copied and hashed at every use).
const KEYS = ['type', 'name', 'value'];
const [TYPE, NAME, VALUE] = KEYS.map((_, i) => i + 2);
const pushKey = (L: LuaState, upvalue: number): void => lua.lua_pushvalue(L, lua.lua_upvalueindex(upvalue));

const CR = 13;
const LF = 10;
const COLON = 0x3a;
const isLineEnd = (c: number): boolean => c === CR || c === LF;

/** The index of byte c at or after from, or the length. */
function indexOrLength(s: Uint8Array, c: number, from: number): number {
  const at = s.indexOf(c, from);
  return at < 0 ? s.length : at;
}

/**
 * parse(text): one { type = line:sub(1,1), name, value } per run of bytes between CR/LF runs,
 * name and value split at the first ':' after line:sub(3) (no ':': name only), in order.
 */
function parse(L: LuaState): number {
  const type = lua.lua_type(L, 1);
  if (type === lua.LUA_TNIL || type === lua.LUA_TNONE) {
    lua.lua_pushnil(L);
    return 1;
  }
  if (type !== lua.LUA_TSTRING || !libraryIntact(L, true)) return callLua(L);
  const s = lua.lua_tolstring(L, 1) as Uint8Array;
  lua.lua_settop(L, 1);
  charge(L, s.length >> 4);
  lua.lua_createtable(L, 0, 0);
  let count = 0;
  // The next CR and LF at or after the line's start, each searched once per line it ends.
  let cr = -1;
  let lf = -1;
  for (let i = 0; i < s.length; ) {
    while (i < s.length && isLineEnd(s[i])) i++;
    if (i === s.length) break;
    const start = i;
    if (cr < start) cr = indexOrLength(s, CR, start);
    if (lf < start) lf = indexOrLength(s, LF, start);
    i = Math.min(cr, lf);
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
  }
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
  if (type === lua.LUA_TNIL || type === lua.LUA_TNONE) {
    lua.lua_pushnil(L);
    return 1;
  }
  if (type !== lua.LUA_TTABLE || lua.lua_getmetatable(L, 1) || !libraryIntact(L, false)) return callLua(L);
  lua.lua_settop(L, 1);
  const pieces: Uint8Array[] = [];
  let length = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, 1) !== 0) {
    charge(L, ITEM_UNITS);
    if (lua.lua_type(L, -1) !== lua.LUA_TTABLE || lua.lua_getmetatable(L, -1)) return callLua(L);
    const lineType = rawText(L, 3, TYPE);
    const name = rawText(L, 3, NAME);
    const value = rawText(L, 3, VALUE);
    if (!lineType || !name || value === undefined) return callLua(L);
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
  for (const [name, { sha256, twin }] of JANUS_FUNCTIONS) {
    lua.lua_pushstring(L, name);
    if (lua.lua_rawget(L, module) === lua.LUA_TFUNCTION) {
      lua.lua_pushvalue(L, -1);
      if (sourceHash(L, files) === sha256) {
        lua.lua_pushstring(L, name);
        lua.lua_insert(L, -2);
        for (const key of KEYS) lua.lua_pushstring(L, key);
        lua.lua_pushjsclosure(L, twin, 1 + KEYS.length);
        lua.lua_rawset(L, module);
        continue;
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
