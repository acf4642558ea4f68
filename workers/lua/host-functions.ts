// The Janus Lua plugin's C API as Lua globals (janus-contract §1): exact arities, the same
// argument conversions (lua_tonumber truncated to uint32, Lua truthiness) and return values.
// Nothing here calls back into the script: each call is validated against the worker's
// session mirror, answered at once, and recorded as a HostCall the main thread applies later.

import { lua, to_luastring, type LuaState, type LuaJsFunction } from 'fengari';
import type { HostCall, Recording } from '../../src/script/bridge';
import type { RecorderType, SessionMirror } from '../session-mirror';
import { jsepValid, jsonDocumentKind } from '../validate';

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

const VIDEO_CODECS = ['vp8', 'vp9', 'h264', 'av1', 'h265'];
const AUDIO_CODECS = ['opus', 'multiopus', 'g711', 'pcmu', 'pcma', 'g722', 'l16-48', 'l16'];
const DATA_CODECS = ['text', 'binary'];
const ALL_CODECS = new Set([...VIDEO_CODECS, ...AUDIO_CODECS, ...DATA_CODECS]);

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

function toText(L: LuaState, idx: number): string | null {
  const bytes = toBytes(L, idx);
  return bytes === null ? null : Buffer.from(bytes).toString('utf8');
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
  /** Common shape: f(id) with an alive-check. */
  const aliveOnly = (name: string, record: (id: number) => HostCall): LuaJsFunction => (L1) => {
    if (!arity(L1, name, 1)) return ret(L1, -1);
    const id = toUint32(L1, 1);
    if (!env.sessions.alive(id)) return ret(L1, -1);
    env.emit(record(id));
    return ret(L1, 0);
  };
  /** f(id, number) with an alive-check. */
  const aliveValue = (name: string, record: (id: number, value: number) => HostCall | undefined): LuaJsFunction => (L1) => {
    if (!arity(L1, name, 2)) return ret(L1, -1);
    const id = toUint32(L1, 1);
    if (!env.sessions.alive(id)) return ret(L1, -1);
    const call = record(id, toNumber(L1, 2));
    if (call) env.emit(call);
    return ret(L1, 0);
  };

  const functions: Record<string, LuaJsFunction> = {
    janusLog: (L1) => {
      if (!arity(L1, 'janusLog', 2)) return 0;
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
      if (!arity(L1, 'timeCallback', 3)) return ret(L1, -1);
      if (!lua.lua_isstring(L1, 1)) return ret(L1, -1);
      const functionName = toText(L1, 1) ?? '';
      const argument = toBytes(L1, 2);
      const delayMs = Math.max(0, toUint32(L1, 3));
      env.emit({ timeCallback: { functionName, argument, delayMs } });
      return ret(L1, 0);
    },
    pushEvent: (L1) => {
      if (!arity(L1, 'pushEvent', 4)) return ret(L1, -1);
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
      if (!arity(L1, 'notifyEvent', 2)) return ret(L1, -1);
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
      if (!arity(L1, 'configureMedium', 4)) return ret(L1, -1);
      const id = toUint32(L1, 1);
      if (!env.sessions.alive(id)) return ret(L1, -1);
      const medium = (toText(L1, 2) ?? '').toLowerCase();
      const incoming = (toText(L1, 3) ?? '').toLowerCase() === 'in';
      const enabled = lua.lua_toboolean(L1, 4);
      if (medium === 'audio' || medium === 'video' || medium === 'data') {
        env.emit({ configureMedium: { session: id, medium, incoming, enabled } });
      }
      return ret(L1, 0);
    },
    addRecipient: (L1) => {
      if (!arity(L1, 'addRecipient', 2)) return ret(L1, -1);
      const sender = toUint32(L1, 1);
      const recipient = toUint32(L1, 2);
      if (!env.sessions.alive(sender) || !env.sessions.alive(recipient)) return ret(L1, -1);
      env.emit({ addRecipient: { sender, recipient } });
      return ret(L1, 0);
    },
    removeRecipient: (L1) => {
      if (!arity(L1, 'removeRecipient', 2)) return ret(L1, -1);
      const sender = toUint32(L1, 1);
      const recipient = toUint32(L1, 2);
      if (!env.sessions.inTable(sender) || !env.sessions.inTable(recipient)) return ret(L1, -1);
      env.emit({ removeRecipient: { sender, recipient } });
      return ret(L1, 0);
    },
    setBitrate: aliveValue('setBitrate', (session, value) => ({ setBitrate: { session, value: Math.trunc(value) >>> 0 } })),
    setPliFreq: aliveValue('setPliFreq', (session, value) => ({ setPliFreq: { session, value: (Math.trunc(value) >>> 0) & 0xffff } })),
    setSubstream: aliveValue('setSubstream', (session, value) => {
      const n = Math.trunc(value);
      return n >= 0 && n <= 2 ? { setSubstream: { session, value: n } } : undefined;
    }),
    setTemporalLayer: aliveValue('setTemporalLayer', (session, value) => {
      const n = Math.trunc(value);
      return n >= 0 && n <= 2 ? { setTemporalLayer: { session, value: n } } : undefined;
    }),
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
      const id = toUint32(L1, 1);
      if (!env.sessions.alive(id)) return ret(L1, -1);
      const recordings: Recording[] = [];
      const types = new Set<RecorderType>();
      for (let base = 2; base + 3 <= n; base += 4) {
        const type = toText(L1, base)?.toLowerCase();
        const codecSpec = toText(L1, base + 1);
        if (type === undefined || codecSpec === null) continue;
        if (type !== 'audio' && type !== 'video' && type !== 'data') {
          log(LOG_ERR, `startRecording: invalid type '${type}'`);
          return ret(L1, -1);
        }
        const split = codecSpec.indexOf('/fmtp=');
        const codec = (split >= 0 ? codecSpec.slice(0, split) : codecSpec).toLowerCase();
        const fmtp = split >= 0 ? codecSpec.slice(split + '/fmtp='.length) : null;
        if (!ALL_CODECS.has(codec)) {
          log(LOG_ERR, `startRecording: unsupported codec '${codec}'`);
          return ret(L1, -1);
        }
        if (types.has(type) || env.sessions.isRecording(id, type)) {
          log(LOG_WARN, `startRecording: already recording ${type}, skipped`);
          continue;
        }
        const folder = toText(L1, base + 2);
        const filename = toText(L1, base + 3);
        if (!env.recordingAllowed(folder, filename)) {
          log(LOG_WARN, `startRecording: ${folder ?? ''} ${filename ?? ''} is outside the recording folders`);
          return ret(L1, -1);
        }
        types.add(type);
        recordings.push({ type, codec, fmtp, folder, filename });
      }
      if (recordings.length === 0) return ret(L1, -1);
      for (const type of types) env.sessions.setRecording(id, type, true);
      env.emit({ startRecording: { session: id, recordings } });
      return ret(L1, 0);
    },
    stopRecording: (L1) => {
      const n = lua.lua_gettop(L1);
      if (n < 2 || n > 4) {
        log(LOG_ERR, `stopRecording: wrong number of arguments: ${n} (expected 2 to 4)`);
        return ret(L1, -1);
      }
      const id = toUint32(L1, 1);
      if (!env.sessions.alive(id)) return ret(L1, -1);
      const types: string[] = [];
      for (let i = 2; i <= n; i++) {
        const type = toText(L1, i)?.toLowerCase(); // nil: skipped (real Janus crashes)
        if ((type === 'audio' || type === 'video' || type === 'data') && env.sessions.isRecording(id, type)) {
          env.sessions.setRecording(id, type, false);
          types.push(type);
        }
      }
      if (types.length > 0) env.emit({ stopRecording: { session: id, types } });
      return ret(L1, 0);
    },
    testExtraFunction: (L1) => ret(L1, 1234),
  };

  function relayPacket(name: string, record: (id: number, video: boolean, packet: Uint8Array) => HostCall): LuaJsFunction {
    return (L1) => {
      if (!arity(L1, name, 4)) return ret(L1, -1);
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

  function relayData(name: string, binary: boolean): LuaJsFunction {
    return (L1) => {
      const n = lua.lua_gettop(L1);
      if (n < 3 || n > 5) {
        log(LOG_ERR, `${name}: wrong number of arguments: ${n} (expected 3 to 5)`);
        return ret(L1, -1);
      }
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
