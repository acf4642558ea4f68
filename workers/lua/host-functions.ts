// The Janus Lua plugin's C API as Lua globals (docs/contract.md §1): exact arities, the same
// argument conversions (lua_tonumber truncated to uint32, Lua truthiness) and return values.
// Arguments are checked against the rules shared with the JavaScript runtime (validate.ts):
// a bad one returns -1 with one warning line naming the function and the argument.
// Nothing here calls back into the script: each call is validated against the worker's
// session mirror, answered at once, and recorded as a HostCall the main thread applies later.

import { lua, to_luastring, type LuaState, type LuaJsFunction } from 'fengari';
import type { HostCall } from '../../src/common/bridge';
import { startRecording, stopRecording } from '../recording';
import type { SessionMirror } from '../session-mirror';
import { mediumOf } from '../../src/common/codecs';
import type { RecordingGroup } from '../../src/common/recording-args';
import {
  HOST_FUNCTION_ARGS, OpaqueValue, TYPE_ONLY_RULES, checkHostArgs, jsepValid, jsonDocumentKind, type ArgContext, type ArgSpec, type HostFunctionName,
} from '../validate';

export interface HostEnvironment {
  readonly sessions: SessionMirror;
  readonly eventsEnabled: boolean;
  /** Highest janusLog level shipped to the host. */
  readonly logLevel: number;
  /** Whether startRecording's folder/filename lie inside the recording roots. */
  recordingAllowed(folder: string | null, filename: string | null): boolean;
  emit(call: HostCall): void;
  poke(): void;
}

const LOG_ERR = 2;
const LOG_WARN = 3;
const DEFAULT_LABEL = 'JanusDataChannel';

const encoder = new TextEncoder();

function toUint32(L: LuaState, idx: number): number {
  const n = lua.lua_tonumberx(L, idx);
  if (n === false || !Number.isFinite(n)) return 0;
  return Math.trunc(n) >>> 0;
}

function toNumber(L: LuaState, idx: number): number {
  const n = lua.lua_tonumberx(L, idx);
  return n === false ? 0 : n;
}

/** lua_tostring: strings and numbers, else null. */
function toBytes(L: LuaState, idx: number): Uint8Array | null {
  const t = lua.lua_type(L, idx);
  if (t !== lua.LUA_TSTRING && t !== lua.LUA_TNUMBER) return null;
  lua.lua_pushvalue(L, idx); // tolstring converts numbers in place: work on a copy
  const bytes = lua.lua_tolstring(L, -1);
  lua.lua_pop(L, 1);
  return bytes === null ? null : new Uint8Array(bytes);
}

/** Strings up to this many bytes are decoded once per Lua string (medium names, directions). */
const SHORT_TEXT_BYTES = 16;
/**
 * Decoded short strings by their Lua string's bytes: Fengari hands out the same immutable
 * array for the same Lua string (a constant such as "audio" or "in"), so a host call made on
 * every message decodes its names once, not on every call.
 */
const shortTexts = new WeakMap<Uint8Array, string>();

/** A Lua string's own bytes (never converted in place) as UTF-8 text, at most `limit` bytes of it. */
function decodeLuaString(bytes: Uint8Array, limit: number): string {
  if (bytes.byteLength > SHORT_TEXT_BYTES) {
    return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, limit)).toString('utf8');
  }
  let text = shortTexts.get(bytes);
  if (text === undefined) {
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    shortTexts.set(bytes, text);
  }
  return text;
}

function toText(L: LuaState, idx: number): string | null {
  if (lua.lua_type(L, idx) === lua.LUA_TSTRING) {
    const bytes = lua.lua_tolstring(L, idx); // a string already: nothing is converted in place
    return bytes === null ? null : decodeLuaString(bytes, Infinity);
  }
  const bytes = toBytes(L, idx);
  return bytes === null ? null : Buffer.from(bytes).toString('utf8');
}

/** Longest prefix of a string argument the rules look at (names, codecs); packets are longer. */
const RULE_TEXT_BYTES = 256;

/** A string argument for the rules: decoded, but only its first RULE_TEXT_BYTES bytes. */
function ruleText(L: LuaState, idx: number): string {
  const bytes = lua.lua_tolstring(L, idx); // a string already: nothing is converted in place
  return bytes === null ? '' : decodeLuaString(bytes, RULE_TEXT_BYTES);
}

/** What a string argument under a type-only rule stands as: its text is never read. */
const UNREAD_TEXT = '';

/**
 * The first `count` arguments as the shared rules for `specs` see them; a string under a rule
 * that checks only its type (TYPE_ONLY_RULES) is not decoded and stands as UNREAD_TEXT.
 */
function argumentValues(L: LuaState, count: number, specs: readonly ArgSpec[]): unknown[] {
  const values: unknown[] = [];
  for (let i = 1; i <= count; i++) {
    const t = lua.lua_type(L, i);
    if (t === lua.LUA_TNUMBER) values.push(toNumber(L, i));
    else if (t === lua.LUA_TSTRING) {
      const rule = specs[i - 1]?.rule;
      values.push(rule !== undefined && TYPE_ONLY_RULES.has(rule) ? UNREAD_TEXT : ruleText(L, i));
    }
    else if (t === lua.LUA_TBOOLEAN) values.push(lua.lua_toboolean(L, i));
    else if (t === lua.LUA_TNIL || t === lua.LUA_TNONE) values.push(undefined);
    else values.push(new OpaqueValue(t === lua.LUA_TTABLE ? 'table' : t === lua.LUA_TFUNCTION ? 'function' : t === lua.LUA_TTHREAD ? 'thread' : 'userdata'));
  }
  return values;
}

function ret(L: LuaState, value: number): number {
  lua.lua_pushinteger(L, value);
  return 1;
}

export function registerHostFunctions(L: LuaState, env: HostEnvironment): void {
  const log = (level: number, text: string): void => {
    if (level <= env.logLevel) env.emit({ log: { level, text: encoder.encode(text) } });
  };
  const arity = (L1: LuaState, name: string, expected: number): boolean => {
    const n = lua.lua_gettop(L1);
    if (n === expected) return true;
    log(LOG_ERR, `${name}: wrong number of arguments: ${n} (expected ${expected})`);
    return false;
  };
  /** The state a host call runs on (a coroutine's, inside a scheduler), for `isFunction`. */
  let caller: LuaState = L;
  // One context for every call: host calls run one at a time, and this one allocates nothing.
  const context: ArgContext = {
    dialect: 'lua',
    isFunction: (global) => {
      // Read once: _G's metatable may run script code that makes host calls of its own.
      const state = caller;
      const t = lua.lua_getglobal(state, to_luastring(global));
      lua.lua_pop(state, 1);
      return t === lua.LUA_TFUNCTION;
    },
  };
  /**
   * The shared argument rules (validate.ts): the arguments as the rules saw them (strings under
   * a type-only rule as UNREAD_TEXT), or undefined after logging the refusal once, as a warning.
   */
  const valid = (L1: LuaState, name: HostFunctionName): unknown[] | undefined => {
    caller = L1;
    const values = argumentValues(L1, lua.lua_gettop(L1), HOST_FUNCTION_ARGS[name]);
    const invalid = checkHostArgs(name, values, context);
    if (!invalid) return values;
    log(LOG_WARN, invalid.text);
    return undefined;
  };
  /** Arity (an error line, as janus_lua.c) then the argument rules (a warning line). */
  const accepted = (L1: LuaState, name: HostFunctionName, expected: number): unknown[] | undefined =>
    arity(L1, name, expected) ? valid(L1, name) : undefined;
  /** Common shape: f(id) with an alive-check. */
  const aliveOnly = (name: HostFunctionName, record: (id: number) => HostCall): LuaJsFunction => (L1) => {
    if (!accepted(L1, name, 1)) return ret(L1, -1);
    const id = toUint32(L1, 1);
    if (!env.sessions.alive(id)) return ret(L1, -1);
    env.emit(record(id));
    return ret(L1, 0);
  };
  /** f(id, number) with an alive-check. */
  const aliveValue = (name: HostFunctionName, record: (id: number, value: number) => HostCall): LuaJsFunction => (L1) => {
    if (!accepted(L1, name, 2)) return ret(L1, -1);
    const id = toUint32(L1, 1);
    if (!env.sessions.alive(id)) return ret(L1, -1);
    env.emit(record(id, toNumber(L1, 2)));
    return ret(L1, 0);
  };

  const functions: Record<string, LuaJsFunction> = {
    janusLog: (L1) => {
      if (!arity(L1, 'janusLog', 2)) return 0;
      if (!valid(L1, 'janusLog')) return ret(L1, -1);
      const level = Math.trunc(toNumber(L1, 1));
      if (level > env.logLevel) return 0; // filtered here: not worth shipping
      const text = toBytes(L1, 2);
      if (text !== null) env.emit({ log: { level, text } });
      return 0;
    },
    pokeScheduler: (L1) => {
      env.poke();
      return ret(L1, 0);
    },
    timeCallback: (L1) => {
      if (!accepted(L1, 'timeCallback', 3)) return ret(L1, -1);
      const functionName = toText(L1, 1) ?? '';
      const argument = toBytes(L1, 2);
      const delayMs = Math.max(0, toUint32(L1, 3));
      env.emit({ timeCallback: { functionName, argument, delayMs } });
      return ret(L1, 0);
    },
    pushEvent: (L1) => {
      if (!accepted(L1, 'pushEvent', 4)) return ret(L1, -1);
      const id = toUint32(L1, 1);
      const transaction = toText(L1, 2);
      const event = toBytes(L1, 3);
      const jsep = toBytes(L1, 4);
      if (event === null) return ret(L1, -1);
      const { kind } = jsonDocumentKind(event);
      if (kind === 'invalid') {
        log(LOG_ERR, 'pushEvent: error parsing the event JSON');
        return ret(L1, -1);
      }
      if (!env.sessions.alive(id)) return ret(L1, -1);
      if (jsep !== null) {
        if (!jsepValid(jsep)) {
          log(LOG_ERR, 'pushEvent: invalid JSEP (JSON or SDP)');
          return ret(L1, -1);
        }
        // Sent asynchronously, like Janus's push thread: 0 now; a non-object event is dropped later.
        if (kind === 'object') env.emit({ pushEvent: { session: id, transaction, event, jsep } });
        else log(LOG_ERR, 'pushEvent: the event is not a JSON object, dropped');
        return ret(L1, 0);
      }
      if (kind === 'array') return ret(L1, 455);
      env.emit({ pushEvent: { session: id, transaction, event, jsep: null } });
      return ret(L1, 0);
    },
    eventsIsEnabled: (L1) => {
      if (!arity(L1, 'eventsIsEnabled', 0)) return ret(L1, -1);
      return ret(L1, env.eventsEnabled ? 1 : 0);
    },
    notifyEvent: (L1) => {
      if (!accepted(L1, 'notifyEvent', 2)) return ret(L1, -1);
      if (!env.eventsEnabled) return ret(L1, 0);
      const id = toUint32(L1, 1);
      const event = toBytes(L1, 2);
      if (event === null || jsonDocumentKind(event).kind === 'invalid') return ret(L1, -1);
      env.emit({ notifyEvent: { session: env.sessions.alive(id) ? id : 0, event } });
      return ret(L1, 0);
    },
    closePc: aliveOnly('closePc', (id) => ({ closePc: id })),
    endSession: aliveOnly('endSession', (id) => ({ endSession: id })),
    configureMedium: (L1) => {
      const values = accepted(L1, 'configureMedium', 4);
      if (!values) return ret(L1, -1);
      const id = toUint32(L1, 1);
      if (!env.sessions.alive(id)) return ret(L1, -1);
      // The rules passed: the medium and the direction are strings the rules already decoded.
      const medium = mediumOf(values[1] as string) ?? 'audio';
      const incoming = (values[2] as string).toLowerCase() === 'in';
      env.emit({ configureMedium: { session: id, medium, incoming, enabled: lua.lua_toboolean(L1, 4) } });
      return ret(L1, 0);
    },
    addRecipient: (L1) => {
      if (!accepted(L1, 'addRecipient', 2)) return ret(L1, -1);
      const sender = toUint32(L1, 1);
      const recipient = toUint32(L1, 2);
      if (!env.sessions.alive(sender) || !env.sessions.alive(recipient)) return ret(L1, -1);
      env.emit({ addRecipient: { sender, recipient } });
      return ret(L1, 0);
    },
    removeRecipient: (L1) => {
      if (!accepted(L1, 'removeRecipient', 2)) return ret(L1, -1);
      const sender = toUint32(L1, 1);
      const recipient = toUint32(L1, 2);
      if (!env.sessions.inTable(sender) || !env.sessions.inTable(recipient)) return ret(L1, -1);
      env.emit({ removeRecipient: { sender, recipient } });
      return ret(L1, 0);
    },
    setBitrate: aliveValue('setBitrate', (session, value) => ({ setBitrate: { session, value: Math.trunc(value) >>> 0 } })),
    setPliFreq: aliveValue('setPliFreq', (session, value) => ({ setPliFreq: { session, value: (Math.trunc(value) >>> 0) & 0xffff } })),
    setSubstream: aliveValue('setSubstream', (session, value) => ({ setSubstream: { session, value } })),
    setTemporalLayer: aliveValue('setTemporalLayer', (session, value) => ({ setTemporalLayer: { session, value } })),
    sendPli: aliveOnly('sendPli', (id) => ({ sendPli: id })),
    relayRtp: relayPacket('relayRtp', (session, video, packet) => ({ relayRtp: { session, video, packet } })),
    relayRtcp: relayPacket('relayRtcp', (session, video, packet) => ({ relayRtcp: { session, video, packet } })),
    relayTextData: relayData('relayTextData', false),
    relayBinaryData: relayData('relayBinaryData', true),
    relayData: (L1) => {
      log(LOG_WARN, 'relayData is deprecated, use relayTextData or relayBinaryData');
      return relayData('relayData', false)(L1);
    },
    startRecording: (L1) => {
      const n = lua.lua_gettop(L1);
      if (n !== 5 && n !== 9 && n !== 13) {
        log(LOG_ERR, `startRecording: wrong number of arguments: ${n} (expected 5, 9 or 13)`);
        return ret(L1, -1);
      }
      if (!valid(L1, 'startRecording')) return ret(L1, -1);
      const id = toUint32(L1, 1);
      if (!env.sessions.alive(id)) return ret(L1, -1);
      const groups: RecordingGroup[] = [];
      for (let base = 2; base + 3 <= n; base += 4) {
        groups.push({ type: toText(L1, base), codec: toText(L1, base + 1), folder: toText(L1, base + 2), filename: toText(L1, base + 3) });
      }
      return ret(L1, startRecording(env, id, groups, (message) => log(LOG_WARN, message)) ? 0 : -1);
    },
    stopRecording: (L1) => {
      const n = lua.lua_gettop(L1);
      if (n < 2 || n > 4) {
        log(LOG_ERR, `stopRecording: wrong number of arguments: ${n} (expected 2 to 4)`);
        return ret(L1, -1);
      }
      if (!valid(L1, 'stopRecording')) return ret(L1, -1);
      const id = toUint32(L1, 1);
      if (!env.sessions.alive(id)) return ret(L1, -1);
      const named: (string | null)[] = [];
      for (let i = 2; i <= n; i++) named.push(toText(L1, i)); // nil: skipped (real Janus crashes)
      stopRecording(env, id, named);
      return ret(L1, 0);
    },
    testExtraFunction: (L1) => ret(L1, 1234),
  };

  function relayPacket(name: HostFunctionName, record: (id: number, video: boolean, packet: Uint8Array) => HostCall): LuaJsFunction {
    return (L1) => {
      if (!accepted(L1, name, 4)) return ret(L1, -1);
      const id = toUint32(L1, 1);
      const video = lua.lua_toboolean(L1, 2);
      const bytes = lua.lua_type(L1, 3) === lua.LUA_TSTRING ? lua.lua_tolstring(L1, 3) : null;
      const len = Math.trunc(toNumber(L1, 4));
      if (bytes === null || len < 1) return ret(L1, -1);
      if (!env.sessions.alive(id)) return ret(L1, -1);
      env.emit(record(id, video, bytes.slice(0, Math.min(len, bytes.length))));
      return ret(L1, 0);
    };
  }

  function relayData(name: HostFunctionName, binary: boolean): LuaJsFunction {
    return (L1) => {
      const n = lua.lua_gettop(L1);
      if (n < 3 || n > 5) {
        log(LOG_ERR, `${name}: wrong number of arguments: ${n} (expected 3 to 5)`);
        return ret(L1, -1);
      }
      if (!valid(L1, name)) return ret(L1, -1);
      const id = toUint32(L1, 1);
      const bytes = toBytes(L1, 2);
      const len = Math.trunc(toNumber(L1, 3));
      if (bytes === null || len < 1) return ret(L1, -1);
      if (!env.sessions.alive(id)) return ret(L1, -1);
      if (!env.sessions.dataReady(id)) {
        log(LOG_WARN, `${name}: data channel not ready yet, data dropped`);
        return ret(L1, -1);
      }
      const label = (n >= 4 ? toText(L1, 4) : null) ?? DEFAULT_LABEL;
      const protocol = (n >= 5 ? toText(L1, 5) : null) ?? '';
      env.emit({ relayData: { session: id, binary, payload: bytes.slice(0, Math.min(len, bytes.length)), label, protocol } });
      return ret(L1, 0);
    };
  }

  for (const [name, fn] of Object.entries(functions)) {
    lua.lua_pushjsfunction(L, fn);
    lua.lua_setglobal(L, to_luastring(name));
  }
}
