// The Lua environment a script gets: the standard libraries with the dangerous parts removed
// (no os.exit/os.execute, io, package.loadlib, debug beyond traceback, no JS loaders), a
// math.random that works past 32 bits (fengari integers are 32-bit; videoroom.lua calls
// math.random(4294967296)), a type() that behaves as the stock one but reuses its names, and
// the modules Janus's samples require when the script folder has none: json, ansicolors,
// socket (docs/contract.md §4), and luasfu's SDP helpers, sdp (lua-sdp.ts).

import { lua, lauxlib, lualib, to_luastring, type LuaState, type LuaJsFunction, type LuaHook } from 'fengari';
import { pushJsonModule } from './lua-json';
import { pushSdpModule } from './lua-sdp';
import { rememberLibrary, twinAdoptingSearcher } from './janus-sdp';

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

function setField(L: LuaState, idx: number, name: string, fn: LuaJsFunction): void {
  lua.lua_pushjsfunction(L, fn);
  lua.lua_setfield(L, idx < 0 ? idx - 1 : idx, to_luastring(name));
}

function unavailable(name: string): LuaJsFunction {
  return (L) => lauxlib.luaL_error(L, to_luastring(`${name} is not available to luasfu scripts`));
}

/** xorshift128+ on 32-bit halves: a seedable PRNG giving doubles in [0, 1). */
class Random {
  private s = new Uint32Array(4);

  constructor() {
    this.seed(Math.random() * 2 ** 32, Date.now());
  }

  seed(a: number, b: number): void {
    // splitmix32 to spread the seed over the state
    let x = (a >>> 0) ^ Math.imul(b >>> 0, 0x9e3779b9);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** xoshiro128** output, two draws combined into 53 bits. */
  private next32(): number {
    const s = this.s;
    const result = Math.imul(((Math.imul(s[1], 5) << 7) | (Math.imul(s[1], 5) >>> 25)), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ((s[3] << 11) | (s[3] >>> 21)) >>> 0;
    return result;
  }

  double(): number {
    return ((this.next32() >>> 5) * 67108864 + (this.next32() >>> 6)) / 9007199254740992;
  }
}

/** Reads an integral argument like Lua 5.3's luaL_checkinteger, but with doubles (53 bits). */
function checkIntegral(L: LuaState, arg: number, fname: string): number {
  const value = lua.lua_tonumberx(L, arg);
  if (value === false) lauxlib.luaL_error(L, to_luastring(`bad argument #${arg} to '${fname}' (number expected)`));
  if (!Number.isInteger(value)) lauxlib.luaL_error(L, to_luastring(`bad argument #${arg} to '${fname}' (number has no integer representation)`));
  return value;
}

function pushIntegral(L: LuaState, value: number): void {
  if (value >= INT32_MIN && value <= INT32_MAX) lua.lua_pushinteger(L, value);
  else lua.lua_pushnumber(L, value);
}

function installMathRandom(L: LuaState): void {
  const random = new Random();
  lua.lua_getglobal(L, 'math');
  setField(L, -1, 'random', (L1) => {
    const argc = lua.lua_gettop(L1);
    const r = random.double();
    if (argc === 0) {
      lua.lua_pushnumber(L1, r);
      return 1;
    }
    let low = 1;
    let up: number;
    if (argc === 1) {
      up = checkIntegral(L1, 1, 'random');
    } else if (argc === 2) {
      low = checkIntegral(L1, 1, 'random');
      up = checkIntegral(L1, 2, 'random');
    } else {
      return lauxlib.luaL_error(L1, to_luastring('wrong number of arguments'));
    }
    if (low > up) lauxlib.luaL_error(L1, to_luastring("bad argument #" + argc + " to 'random' (interval is empty)"));
    if (up - low >= Number.MAX_SAFE_INTEGER) lauxlib.luaL_error(L1, to_luastring("bad argument #" + argc + " to 'random' (interval too large)"));
    pushIntegral(L1, low + Math.floor(r * (up - low + 1)));
    return 1;
  });
  setField(L, -1, 'randomseed', (L1) => {
    const a = lua.lua_tonumberx(L1, 1);
    random.seed(a === false ? 0 : Math.floor(a), 0);
    return 0;
  });
  lua.lua_pop(L, 1);
}

/** The basic types, LUA_TNIL (0) to LUA_TTHREAD (8): one upvalue of `type` each. */
const TYPE_COUNT = 9;

/**
 * type() as the base library's (same name strings, same "value expected" error), but pushing
 * names made once: the stock one copies and wraps the name in a new Lua string per call, and
 * scripts call it on every message (`type(body) == "table"`, echotest.lua's `value()`): it was
 * the largest source of Lua strings on the API path (bench/README.md "Profiles").
 */
function installType(L: LuaState): void {
  for (let t = 0; t < TYPE_COUNT; t++) lua.lua_pushstring(L, lua.lua_typename(L, t));
  lua.lua_pushjsclosure(L, (L1) => {
    lauxlib.luaL_checkany(L1, 1);
    lua.lua_pushvalue(L1, lua.lua_upvalueindex(lua.lua_type(L1, 1) + 1));
    return 1;
  }, TYPE_COUNT);
  lua.lua_setglobal(L, 'type');
}

function installSandbox(L: LuaState, memoryLimitBytes: number): void {
  // os: keep the clocks and dates only.
  lua.lua_getglobal(L, 'os');
  for (const name of ['exit', 'execute', 'remove', 'rename', 'tmpname', 'getenv', 'setlocale']) {
    setField(L, -1, name, unavailable(`os.${name}`));
  }
  lua.lua_pop(L, 1);
  // io: every function errors.
  lua.lua_createtable(L, 0, 8);
  for (const name of ['close', 'flush', 'input', 'lines', 'open', 'output', 'popen', 'read', 'tmpfile', 'type', 'write']) {
    setField(L, -1, name, unavailable(`io.${name}`));
  }
  lua.lua_setglobal(L, 'io');
  // debug: traceback only (sethook/getinfo/upvalue access would break the sandbox).
  lua.lua_getglobal(L, 'debug');
  lua.lua_getfield(L, -1, 'traceback');
  lua.lua_createtable(L, 0, 1);
  lua.lua_insert(L, -2);
  lua.lua_setfield(L, -2, 'traceback');
  lua.lua_setglobal(L, 'debug');
  lua.lua_pop(L, 1);
  // package: no native/JS loaders.
  lua.lua_getglobal(L, 'package');
  setField(L, -1, 'loadlib', unavailable('package.loadlib'));
  lua.lua_pushliteral(L, '');
  lua.lua_setfield(L, -2, 'cpath');
  lua.lua_pushliteral(L, '');
  lua.lua_setfield(L, -2, 'jspath');
  lua.lua_pop(L, 1);
  // load: text chunks only.
  lua.lua_getglobal(L, 'load');
  lua.lua_pushjsclosure(L, (L1) => {
    const n = lua.lua_gettop(L1);
    lua.lua_pushvalue(L1, lua.lua_upvalueindex(1));
    lua.lua_pushvalue(L1, 1);
    if (n >= 2) lua.lua_pushvalue(L1, 2);
    else lua.lua_pushnil(L1);
    lua.lua_pushliteral(L1, 't');
    let nargs = 3;
    if (n >= 4) {
      lua.lua_pushvalue(L1, 4);
      nargs = 4;
    }
    lua.lua_call(L1, nargs, lua.LUA_MULTRET);
    return lua.lua_gettop(L1) - n;
  }, 1);
  lua.lua_setglobal(L, 'load');
  // string.rep: refuse results beyond the memory limit instead of allocating them.
  lua.lua_getglobal(L, 'string');
  lua.lua_getfield(L, -1, 'rep');
  lua.lua_pushjsclosure(L, (L1) => {
    const s = lua.lua_tolstring(L1, 1);
    const n = lua.lua_tonumberx(L1, 2);
    const sep = lua.lua_type(L1, 3) === lua.LUA_TSTRING ? (lua.lua_tolstring(L1, 3) as Uint8Array).length : 0;
    if (s !== null && n !== false && n > 0 && (s.length + sep) * n > memoryLimitBytes) {
      lauxlib.luaL_error(L1, to_luastring('string.rep: resulting string too large'));
    }
    lua.lua_pushvalue(L1, lua.lua_upvalueindex(1));
    lua.lua_insert(L1, 1);
    lua.lua_call(L1, lua.lua_gettop(L1) - 1, 1);
    return 1;
  }, 1);
  lua.lua_setfield(L, -2, 'rep');
  lua.lua_pop(L, 1);
}

/** ansicolors (kikito): colors("%{red}text%{reset}") with real SGR codes, wrapped in resets. */
const ANSICOLORS_SOURCE = `
local keys = { reset = 0, bright = 1, dim = 2, underline = 4, blink = 5, reverse = 7, hidden = 8,
  black = 30, red = 31, green = 32, yellow = 33, blue = 34, magenta = 35, cyan = 36, white = 37,
  blackbg = 40, redbg = 41, greenbg = 42, yellowbg = 43, bluebg = 44, magentabg = 45, cyanbg = 46, whitebg = 47 }
local escapeString = string.char(27) .. '[%dm'
local function escapeNumber(number) return escapeString:format(number) end
local function escapeKeys(str)
  local buffer = {}
  for word in str:gmatch("%w+") do
    local number = keys[word]
    assert(number, "Unknown key: " .. word)
    table.insert(buffer, escapeNumber(number))
  end
  return table.concat(buffer)
end
local function replaceCodes(str)
  str = string.gsub(str, "(%%{(.-)})", function(_, str) return escapeKeys(str) end)
  return str
end
local function ansicolors(str)
  str = tostring(str or '')
  return replaceCodes('%{reset}' .. str .. '%{reset}')
end
return setmetatable({ noReset = replaceCodes }, { __call = function(_, str) return ansicolors(str) end })
`;

/** Pushes a loader for a built-in module, or nil. */
function pushBuiltinLoader(L: LuaState, name: string): boolean {
  switch (name) {
    case 'json':
      lua.lua_pushjsfunction(L, (L1) => {
        pushJsonModule(L1);
        return 1;
      });
      return true;
    case 'sdp':
      lua.lua_pushjsfunction(L, (L1) => {
        pushSdpModule(L1);
        return 1;
      });
      return true;
    case 'ansicolors': {
      const source = to_luastring(ANSICOLORS_SOURCE);
      if (lauxlib.luaL_loadbufferx(L, source, source.length, '=ansicolors', 't') !== lua.LUA_OK) {
        lua.lua_pop(L, 1);
        return false;
      }
      return true;
    }
    case 'socket':
      lua.lua_pushjsfunction(L, (L1) => {
        lua.lua_createtable(L1, 0, 1);
        setField(L1, -1, 'gettime', (L2) => {
          lua.lua_pushnumber(L2, (performance.timeOrigin + performance.now()) / 1000);
          return 1;
        });
        return 1;
      });
      return true;
    default:
      return false;
  }
}

/**
 * package.searchers = { preload, Lua files on package.path (Janus's janus-sdp functions get
 * native twins: janus-sdp.ts), luasfu built-ins }: the script
 * folder's own json.lua (say) wins over ours; fengari's JS/C loaders are dropped.
 */
function installSearchers(L: LuaState, packagePath: string): void {
  lua.lua_getglobal(L, 'package');
  lua.lua_pushstring(L, packagePath);
  lua.lua_setfield(L, -2, 'path');
  lua.lua_getfield(L, -1, 'searchers');
  lua.lua_createtable(L, 3, 0);
  lua.lua_rawgeti(L, -2, 1);
  lua.lua_rawseti(L, -2, 1);
  lua.lua_rawgeti(L, -2, 2);
  lua.lua_pushjsclosure(L, twinAdoptingSearcher, 1);
  lua.lua_rawseti(L, -2, 2);
  lua.lua_pushjsfunction(L, (L1) => {
    const name = lua.lua_tojsstring(L1, 1);
    if (!pushBuiltinLoader(L1, name)) {
      lua.lua_pushliteral(L1, `\n\tno built-in module '${name}'`);
    }
    return 1;
  });
  lua.lua_rawseti(L, -2, 3);
  lua.lua_setfield(L, -3, 'searchers');
  lua.lua_pop(L, 2);
}

export interface EnvironmentOptions {
  packagePath: string;
  memoryLimitBytes: number;
  /** Where print() output goes (Janus's stdout; here the log at info level). */
  print: (text: Uint8Array) => void;
  /** A count hook (a script's instruction budget): lua_sethook(L, fn, LUA_MASKCOUNT, count). */
  hook?: { fn: LuaHook; count: number };
}

/** Instructions between two calls of a script's count hook (its budget and memory checks). */
export const HOOK_STEP = 10_000;

/** Callbacks run under lua_pcall(L, n, r, 1): the error with a traceback, from stack index 1. */
const traceback: LuaJsFunction = (L1) => {
  const message = lua.lua_type(L1, 1) === lua.LUA_TSTRING ? lua.lua_tolstring(L1, 1) : lauxlib.luaL_tolstring(L1, 1);
  lauxlib.luaL_traceback(L1, L1, message, 1);
  return 1;
};

/** Empties the stack and leaves the message handler at index 1, for every pcall to name. */
export function pushMessageHandler(L: LuaState): void {
  lua.lua_settop(L, 0);
  lua.lua_pushjsfunction(L, traceback);
}

/** A JavaScript exception inside Lua becomes an error message Lua code can read. */
const nativeErrorMessage: LuaJsFunction = (L1) => {
  const e = lua.lua_touserdata(L1, 1);
  lua.lua_pushstring(L1, `native error: ${e instanceof Error ? e.message : String(e)}`);
  return 1;
};

/**
 * Throws unless the installed Fengari carries patches/fengari (the install applies them;
 * `npm ci --ignore-scripts` would not): without 020, distinct string keys such as "\1\35"
 * and "\18\3" are the same table key.
 */
function assertFengariPatched(L: LuaState): void {
  lua.lua_createtable(L, 0, 2);
  lua.lua_pushlstring(L, Uint8Array.of(0x01, 0x23), 2);
  lua.lua_pushboolean(L, true);
  lua.lua_rawset(L, -3);
  lua.lua_pushlstring(L, Uint8Array.of(0x12, 0x03), 2);
  const collides = lua.lua_rawget(L, -2) !== lua.LUA_TNIL;
  lua.lua_pop(L, 2);
  if (collides) throw new Error("fengari is installed without luasfu's patches (patches/fengari): run npm ci, or node scripts/patch-package.mjs");
}

/** A fresh state with the standard libraries, sandboxed, with our modules. */
export function createEnvironment(options: EnvironmentOptions): LuaState {
  const L = lauxlib.luaL_newstate();
  assertFengariPatched(L);
  lualib.luaL_openlibs(L);
  installSandbox(L, options.memoryLimitBytes);
  installMathRandom(L);
  installType(L);
  installSearchers(L, options.packagePath);
  rememberLibrary(L);
  lua.lua_pushjsfunction(L, (L1) => {
    const n = lua.lua_gettop(L1);
    const parts: Uint8Array[] = [];
    for (let i = 1; i <= n; i++) parts.push(lauxlib.luaL_tolstring(L1, i));
    const joined = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0) + Math.max(n - 1, 0));
    let offset = 0;
    parts.forEach((p, i) => {
      if (i > 0) joined[offset++] = 0x09;
      joined.set(p, offset);
      offset += p.length;
    });
    options.print(joined);
    return 0;
  });
  lua.lua_setglobal(L, 'print');
  lua.lua_atnativeerror(L, nativeErrorMessage);
  if (options.hook) lua.lua_sethook(L, options.hook.fn, lua.LUA_MASKCOUNT, options.hook.count);
  return L;
}
