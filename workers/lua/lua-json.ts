// `json` for Lua scripts, with the semantics of Debian's lua-json (luajson 1.3.4) that
// Janus's samples rely on (docs/contract.md §4): compact output, `{}` for an empty table,
// floats written like tostring (`1234.0`), JSON integers decoded as Lua integers, JSON null
// decoded to the truthy sentinel json.util.null, decoded arrays keep an array marker.
// fengari integers are 32-bit: integral floats from 2^31 up (what Lua 5.3 would hold as
// integers, e.g. ids from math.random(4294967296)) are written without `.0`.

import { lua, lauxlib, to_luastring, type LuaState } from 'fengari';

const MAX_DEPTH = 1000;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const TWO_POW_63 = 2 ** 63;

/** Registry keys of the null sentinel and the array metatable. */
export const NULL_KEY = to_luastring('luasfu.json.null');
export const ARRAY_META_KEY = to_luastring('luasfu.json.array');

/** Growable byte buffer for the encoder. */
class ByteWriter {
  private buffer = new Uint8Array(256);
  length = 0;

  /** Empty again, keeping the buffer (the encoder's writer is reused across calls). */
  reset(): void {
    this.length = 0;
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buffer[this.length++] = b;
  }

  ascii(text: string): void {
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.buffer[this.length++] = text.charCodeAt(i);
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  result(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

/** Lua 5.3 `tostring` of a float: "%.14g", plus ".0" when it looks like an integer. */
export function luaFloatToString(value: number): string {
  if (Number.isNaN(value)) return value > 0 ? 'nan' : '-nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  let text: string;
  if (value === 0) {
    text = Object.is(value, -0) ? '-0' : '0';
  } else {
    const exp = value.toExponential(13);
    const [mantissa, expPart] = exp.split('e');
    const exponent = Number(expPart);
    if (exponent < -4 || exponent >= 14) {
      const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
      const sign = exponent < 0 ? '-' : '+';
      const digits = String(Math.abs(exponent)).padStart(2, '0');
      text = `${m}e${sign}${digits}`;
    } else {
      text = value.toFixed(13 - exponent);
      if (text.includes('.')) text = text.replace(/0+$/, '').replace(/\.$/, '');
    }
  }
  if (/^-?[0-9]+$/.test(text)) text += '.0';
  return text;
}

/** How a Lua number is written in JSON. */
export function jsonNumber(value: number, isInteger: boolean): string {
  if (isInteger) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (Number.isInteger(value) && Math.abs(value) > INT32_MAX && Math.abs(value) < TWO_POW_63) {
    return BigInt(value).toString();
  }
  return luaFloatToString(value);
}

const ESCAPES: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };

function writeString(out: ByteWriter, s: Uint8Array): void {
  out.byte(0x22);
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    if (i > start) out.bytes(s.subarray(start, i));
    out.ascii(ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, '0')}`);
    start = i + 1;
  }
  // Most strings need no escape: their bytes as they are, without a view of them.
  if (start === 0) out.bytes(s);
  else if (start < s.length) out.bytes(s.subarray(start));
  out.byte(0x22);
}

function isNullSentinel(L: LuaState, idx: number): boolean {
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, NULL_KEY);
  const same = lua.lua_rawequal(L, idx < 0 ? idx - 1 : idx, -1);
  lua.lua_pop(L, 1);
  return same;
}

function hasArrayMarker(L: LuaState, idx: number): boolean {
  if (!lua.lua_getmetatable(L, idx)) return false;
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, ARRAY_META_KEY);
  const same = lua.lua_rawequal(L, -1, -2);
  lua.lua_pop(L, 2);
  return same;
}

function absIndex(L: LuaState, idx: number): number {
  return idx > 0 ? idx : lua.lua_gettop(L) + idx + 1;
}

function encodeValue(L: LuaState, idx: number, out: ByteWriter, depth: number): void {
  idx = absIndex(L, idx);
  switch (lua.lua_type(L, idx)) {
    case lua.LUA_TNIL:
      out.ascii('null');
      return;
    case lua.LUA_TBOOLEAN:
      out.ascii(lua.lua_toboolean(L, idx) ? 'true' : 'false');
      return;
    case lua.LUA_TNUMBER: {
      const value = lua.lua_tonumberx(L, idx) as number;
      out.ascii(jsonNumber(value, lua.lua_isinteger(L, idx)));
      return;
    }
    case lua.LUA_TSTRING:
      writeString(out, lua.lua_tolstring(L, idx) as Uint8Array);
      return;
    case lua.LUA_TTABLE:
      if (depth >= MAX_DEPTH) lauxlib.luaL_error(L, to_luastring('json.encode: table nesting too deep (cycle?)'));
      encodeTable(L, idx, out, depth + 1);
      return;
    case lua.LUA_TFUNCTION:
      if (isNullSentinel(L, idx)) {
        out.ascii('null');
        return;
      }
      break;
    default:
      break;
  }
  lauxlib.luaL_error(L, to_luastring(`json.encode: cannot encode a value of this type`));
}

function encodeTable(L: LuaState, idx: number, out: ByteWriter, depth: number): void {
  if (!lua.lua_checkstack(L, 8)) lauxlib.luaL_error(L, to_luastring('json.encode: stack overflow'));
  // Array when the keys are exactly 1..n (a sequence); empty tables are objects unless marked.
  const n = lua.lua_rawlen(L, idx);
  let count = 0;
  let sequence = true;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx) !== 0) {
    count++;
    if (sequence) {
      const key = lua.lua_isinteger(L, -2) ? (lua.lua_tointegerx(L, -2) as number) : 0;
      if (key < 1 || key > n) sequence = false;
    }
    lua.lua_pop(L, 1);
  }
  if (count === 0) {
    out.ascii(hasArrayMarker(L, idx) ? '[]' : '{}');
    return;
  }
  if (sequence && count === n) {
    out.byte(0x5b);
    for (let i = 1; i <= n; i++) {
      if (i > 1) out.byte(0x2c);
      lua.lua_rawgeti(L, idx, i);
      encodeValue(L, -1, out, depth);
      lua.lua_pop(L, 1);
    }
    out.byte(0x5d);
    return;
  }
  out.byte(0x7b);
  let first = true;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx) !== 0) {
    if (!first) out.byte(0x2c);
    first = false;
    const keyType = lua.lua_type(L, -2);
    if (keyType === lua.LUA_TSTRING) {
      writeString(out, lua.lua_tolstring(L, -2) as Uint8Array);
    } else if (keyType === lua.LUA_TNUMBER) {
      // Sparse numeric keys become string keys (tostring of the number).
      const value = lua.lua_tonumberx(L, -2) as number;
      const text = lua.lua_isinteger(L, -2) ? String(value) : luaFloatToString(value);
      writeString(out, to_luastring(text));
    } else {
      lauxlib.luaL_error(L, to_luastring('json.encode: table keys must be strings or numbers'));
    }
    out.byte(0x3a);
    encodeValue(L, -1, out, depth);
    lua.lua_pop(L, 1);
  }
  out.byte(0x7d);
}

/**
 * The encoder's one writer: encoding runs no script code (raw table access only), so calls
 * never nest, and a new writer per call was an off-heap allocation per json.encode.
 */
const encoderOutput = new ByteWriter();

/**
 * Encodes the value at `idx` as compact JSON bytes (raises a Lua error when it cannot). The
 * bytes are a view valid until the next call: copy them (lua_pushlstring does) to keep them.
 */
export function encodeLuaValue(L: LuaState, idx: number): Uint8Array {
  encoderOutput.reset();
  encodeValue(L, idx, encoderOutput, 0);
  return encoderOutput.result();
}

class JsonDecodeError extends Error {}

/** Recursive-descent JSON parser that pushes the decoded value onto the Lua stack. */
class Decoder {
  private pos = 0;

  constructor(
    private readonly L: LuaState,
    private readonly text: Uint8Array,
  ) {}

  private fail(what: string): never {
    throw new JsonDecodeError(`json.decode: ${what} at position ${this.pos + 1}`);
  }

  private skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos];
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  decodeDocument(): void {
    this.skipSpace();
    this.value(0);
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail('trailing characters');
  }

  private literal(word: string): void {
    for (let i = 0; i < word.length; i++) {
      if (this.text[this.pos + i] !== word.charCodeAt(i)) this.fail('unexpected character');
    }
    this.pos += word.length;
  }

  private value(depth: number): void {
    const L = this.L;
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    if (!lua.lua_checkstack(L, 4)) this.fail('stack overflow');
    this.skipSpace();
    const c = this.text[this.pos];
    switch (c) {
      case 0x7b: return this.object(depth);
      case 0x5b: return this.array(depth);
      case 0x22: {
        const s = this.string();
        lua.lua_pushlstring(L, s, s.length);
        return;
      }
      case 0x74: this.literal('true'); lua.lua_pushboolean(L, true); return;
      case 0x66: this.literal('false'); lua.lua_pushboolean(L, false); return;
      case 0x6e:
        this.literal('null');
        lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, NULL_KEY);
        return;
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        this.fail(c === undefined ? 'unexpected end of input' : 'unexpected character');
    }
  }

  private number(): void {
    const t = this.text;
    const start = this.pos;
    let isFloat = false;
    if (t[this.pos] === 0x2d) this.pos++;
    const digitsStart = this.pos;
    while (t[this.pos] >= 0x30 && t[this.pos] <= 0x39) this.pos++;
    if (this.pos === digitsStart) this.fail('invalid number');
    if (t[this.pos] === 0x2e) {
      isFloat = true;
      this.pos++;
      const fracStart = this.pos;
      while (t[this.pos] >= 0x30 && t[this.pos] <= 0x39) this.pos++;
      if (this.pos === fracStart) this.fail('invalid number');
    }
    if (t[this.pos] === 0x65 || t[this.pos] === 0x45) {
      isFloat = true;
      this.pos++;
      if (t[this.pos] === 0x2b || t[this.pos] === 0x2d) this.pos++;
      const expStart = this.pos;
      while (t[this.pos] >= 0x30 && t[this.pos] <= 0x39) this.pos++;
      if (this.pos === expStart) this.fail('invalid number');
    }
    let token = '';
    for (let i = start; i < this.pos; i++) token += String.fromCharCode(t[i]);
    const value = Number(token);
    if (!isFloat && value >= INT32_MIN && value <= INT32_MAX) lua.lua_pushinteger(this.L, value);
    else lua.lua_pushnumber(this.L, value);
  }

  private hex4(): number {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.text[this.pos++];
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else this.fail('invalid \\u escape');
      v = v * 16 + d;
    }
    return v;
  }

  /** Reads a string token; returns its bytes with escapes resolved (UTF-8 for \u). */
  private string(): Uint8Array {
    const t = this.text;
    this.pos++;
    const start = this.pos;
    while (this.pos < t.length && t[this.pos] !== 0x22 && t[this.pos] !== 0x5c) this.pos++;
    if (t[this.pos] === 0x22) {
      const s = t.subarray(start, this.pos);
      this.pos++;
      return s;
    }
    const out = new ByteWriter();
    out.bytes(t.subarray(start, this.pos));
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated string');
      const c = t[this.pos++];
      if (c === 0x22) return out.result();
      if (c !== 0x5c) {
        out.byte(c);
        continue;
      }
      const e = t[this.pos++];
      switch (e) {
        case 0x22: out.byte(0x22); break;
        case 0x5c: out.byte(0x5c); break;
        case 0x2f: out.byte(0x2f); break;
        case 0x62: out.byte(0x08); break;
        case 0x66: out.byte(0x0c); break;
        case 0x6e: out.byte(0x0a); break;
        case 0x72: out.byte(0x0d); break;
        case 0x74: out.byte(0x09); break;
        case 0x75: {
          let cp = this.hex4();
          if (cp >= 0xd800 && cp <= 0xdbff && t[this.pos] === 0x5c && t[this.pos + 1] === 0x75) {
            const save = this.pos;
            this.pos += 2;
            const low = this.hex4();
            if (low >= 0xdc00 && low <= 0xdfff) cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            else this.pos = save;
          }
          out.bytes(Buffer.from(String.fromCodePoint(cp), 'utf8'));
          break;
        }
        default:
          this.fail('invalid escape');
      }
    }
  }

  private object(depth: number): void {
    const L = this.L;
    this.pos++;
    lua.lua_createtable(L, 0, 4);
    this.skipSpace();
    if (this.text[this.pos] === 0x7d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== 0x22) this.fail('expected a string key');
      const key = this.string();
      lua.lua_pushlstring(L, key, key.length);
      this.skipSpace();
      if (this.text[this.pos] !== 0x3a) this.fail("expected ':'");
      this.pos++;
      this.value(depth + 1);
      lua.lua_rawset(L, -3);
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === 0x7d) return;
      if (c !== 0x2c) this.fail("expected ',' or '}'");
    }
  }

  private array(depth: number): void {
    const L = this.L;
    this.pos++;
    lua.lua_createtable(L, 4, 0);
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, ARRAY_META_KEY);
    lua.lua_setmetatable(L, -2);
    this.skipSpace();
    if (this.text[this.pos] === 0x5d) {
      this.pos++;
      return;
    }
    for (let i = 1; ; i++) {
      this.value(depth + 1);
      lua.lua_rawseti(L, -2, i);
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === 0x5d) return;
      if (c !== 0x2c) this.fail("expected ',' or ']'");
    }
  }
}

/**
 * Decodes JSON bytes and pushes the value; on malformed input pops what it pushed and
 * returns the error text instead.
 */
export function decodeToLua(L: LuaState, text: Uint8Array): string | undefined {
  const top = lua.lua_gettop(L);
  try {
    new Decoder(L, text).decodeDocument();
    return undefined;
  } catch (error) {
    lua.lua_settop(L, top);
    if (error instanceof JsonDecodeError) return error.message;
    throw error;
  }
}

/** Creates the `json` module table and leaves it on the stack. */
export function pushJsonModule(L: LuaState): void {
  // Registry: null sentinel (a function, truthy) and the array metatable.
  lua.lua_pushjsfunction(L, () => 0);
  lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, NULL_KEY);
  lua.lua_createtable(L, 0, 1);
  lua.lua_pushboolean(L, true);
  lua.lua_setfield(L, -2, to_luastring('__is_luajson_array'));
  lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, ARRAY_META_KEY);

  lua.lua_createtable(L, 0, 4);
  lua.lua_pushjsfunction(L, (L1) => {
    const bytes = encodeLuaValue(L1, 1);
    lua.lua_pushlstring(L1, bytes, bytes.length);
    return 1;
  });
  lua.lua_setfield(L, -2, to_luastring('encode'));
  lua.lua_pushjsfunction(L, (L1) => {
    if (lua.lua_type(L1, 1) !== lua.LUA_TSTRING) lauxlib.luaL_error(L1, to_luastring('json.decode: expected a string'));
    const error = decodeToLua(L1, lua.lua_tolstring(L1, 1) as Uint8Array);
    if (error !== undefined) lauxlib.luaL_error(L1, to_luastring(error));
    return 1;
  });
  lua.lua_setfield(L, -2, to_luastring('decode'));
  // json.util.null and json.null: the sentinel; json.util.InitArray marks a table as array.
  lua.lua_createtable(L, 0, 2);
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, NULL_KEY);
  lua.lua_setfield(L, -2, to_luastring('null'));
  lua.lua_pushjsfunction(L, (L1) => {
    lua.lua_settop(L1, 1);
    if (lua.lua_type(L1, 1) !== lua.LUA_TTABLE) lauxlib.luaL_error(L1, to_luastring('InitArray: expected a table'));
    lua.lua_getfield(L1, lua.LUA_REGISTRYINDEX, ARRAY_META_KEY);
    lua.lua_setmetatable(L1, 1);
    return 1;
  });
  lua.lua_setfield(L, -2, to_luastring('InitArray'));
  lua.lua_setfield(L, -2, to_luastring('util'));
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, NULL_KEY);
  lua.lua_setfield(L, -2, to_luastring('null'));
}
