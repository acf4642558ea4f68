// The Janus Duktape plugin's C API (docs/contract.md §1 with §6's differences) for the JavaScript
// runtime: arguments are checked against the rules shared with the Lua runtime (validate.ts;
// a wrong type is Duktape's TypeError, a wrong value an Error, each with one warning line naming
// the function and the argument), unknown/dead sessions, bad JSON, unparsable SDP and a data
// channel that isn't ready are Errors, results are numbers.
// These run in the worker's own realm and never touch script objects beyond `typeof` and
// reading primitives; js-sandbox.ts turns their outcomes into errors of the script's realm.
// Nothing here calls back into the script: each call is validated against the session
// mirror, answered at once, and recorded as a HostCall the main thread applies later.

import { readFileSync } from 'node:fs';
import { mediumOf } from '../../src/common/codecs';
import type { RecordingGroup } from '../../src/common/recording-args';
import type { HostCall } from '../../src/common/bridge';
import { startRecording, stopRecording } from '../recording';
import type { SessionMirror } from '../session-mirror';
import { checkHostArgs, dukType, jsonDocumentKind, sdpParses, type HostFunctionName } from '../validate';

export interface JsHostEnvironment {
  readonly sessions: SessionMirror;
  readonly eventsEnabled: boolean;
  /** getModulesFolder(): the configured modules path, or the script's folder */
  readonly modulesFolder: string;
  /** Highest Janus log level shipped to the host. */
  readonly logLevel: number;
  /** Whether startRecording's folder/filename lie inside the recording roots. */
  recordingAllowed(folder: string | null, filename: string | null): boolean;
  /** Whether the script defines a global function of this name now (timeCallback's check). */
  isFunction(name: string): boolean;
  emit(call: HostCall): void;
  poke(): void;
}

/** What a host function did: a value for the script, or an error to throw in its realm. */
export type HostOutcome =
  | { kind: 'value'; value: number | string }
  | { kind: 'TypeError' | 'Error'; message: string };

/** Arguments as the script passed them (only inspected with typeof / read as primitives). */
export type HostArgs = ArrayLike<unknown>;
export type HostFunction = (args: HostArgs) => HostOutcome;

/** DUK_VERSION of Debian bookworm's libduktape (2.7.0), for getDuktapeVersion(). */
export const DUKTAPE_VERSION = 20700;

const LOG_WARN = 3;
const DEFAULT_LABEL = 'JanusDataChannel';

const encoder = new TextEncoder();

const value = (v: number | string): HostOutcome => ({ kind: 'value', value: v });
const error = (message: string): HostOutcome => ({ kind: 'Error', message });

/** (uint32_t)duk_get_number */
function uint32(v: unknown): number {
  const n = typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : 0;
  return n >>> 0;
}

/** (int)duk_get_number */
function int(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : 0;
}

/** A byte string (one char per byte, as Duktape hands binary data to scripts) to bytes. */
export function bytesOfBinaryString(text: string, length: number): Uint8Array {
  const n = Math.min(Math.max(0, length), text.length);
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

export function createHostFunctions(env: JsHostEnvironment): Record<string, HostFunction> {
  const functions = hostFunctions(env);
  const context = { dialect: 'js' as const, isFunction: (name: string) => env.isFunction(name) };
  const checked: Record<string, HostFunction> = {};
  for (const [name, fn] of Object.entries(functions) as [JsHostFunctionName, HostFunction][]) {
    checked[name] = (args) => {
      const invalid = checkHostArgs(name, args, context);
      if (!invalid) return fn(args);
      if (LOG_WARN <= env.logLevel) env.emit({ log: { level: LOG_WARN, text: encoder.encode(invalid.text) } });
      // A wrong type throws what janus_duktape.c throws; a wrong value names itself.
      return invalid.expectedDukType
        ? { kind: 'TypeError', message: `Invalid argument (expected ${invalid.expectedDukType}, got ${dukType(args[invalid.position - 1])})` }
        : error(invalid.text);
    };
  }
  return checked;
}

/** Duktape's plugin has no janusLog (scripts use console). */
type JsHostFunctionName = Exclude<HostFunctionName, 'janusLog'>;

/** The functions themselves; their arguments have passed the rules when they run. */
function hostFunctions(env: JsHostEnvironment): Record<JsHostFunctionName, HostFunction> {
  const log = (level: number, text: string): void => {
    if (level <= env.logLevel) env.emit({ log: { level, text: encoder.encode(text) } });
  };
  const noSession = (id: number): HostOutcome => error(`Session ${id} doesn't exist`);

  /** f(id): alive check, record. */
  const aliveOnly = (record: (id: number) => HostCall): HostFunction => (args) => {
    const id = uint32(args[0]);
    if (!env.sessions.alive(id)) return noSession(id);
    env.emit(record(id));
    return value(0);
  };
  /** f(id, number): alive check, record. */
  const aliveValue = (record: (id: number, n: number) => HostCall): HostFunction => (args) => {
    const id = uint32(args[0]);
    if (!env.sessions.alive(id)) return noSession(id);
    env.emit(record(id, args[1] as number));
    return value(0);
  };
  /** relayRtp / relayRtcp: (number, boolean, string, number). */
  const relayPacket = (record: (id: number, video: boolean, packet: Uint8Array) => HostCall): HostFunction => (args) => {
    const len = int(args[3]);
    const id = uint32(args[0]);
    if (!env.sessions.alive(id)) return noSession(id);
    env.emit(record(id, args[1] as boolean, bytesOfBinaryString(args[2] as string, len)));
    return value(0);
  };
  /** relayTextData / relayBinaryData: (number, string, number, label?, protocol?). */
  const relayData = (binary: boolean): HostFunction => (args) => {
    const len = int(args[2]);
    const id = uint32(args[0]);
    if (!env.sessions.alive(id)) return noSession(id);
    if (!env.sessions.dataReady(id)) return error(`Datachannel not ready yet for session ${id}`);
    const text = args[1] as string;
    // Text: `len` counts the string's characters (scripts pass .length), sent as UTF-8;
    // binary: one byte per character. Janus reads `len` raw bytes (deliberate difference).
    const payload = binary ? bytesOfBinaryString(text, len) : encoder.encode(len >= text.length ? text : text.slice(0, len));
    const label = typeof args[3] === 'string' ? args[3] : DEFAULT_LABEL;
    const protocol = typeof args[4] === 'string' ? args[4] : '';
    env.emit({ relayData: { session: id, binary, payload, label, protocol } });
    return value(0);
  };

  return {
    getModulesFolder: () => value(env.modulesFolder),
    getDuktapeVersion: () => value(DUKTAPE_VERSION),
    testExtraFunction: () => value(1234),
    readFile: (args) => {
      const path = args[0] as string;
      try {
        return value(readFileSync(path, 'utf8'));
      } catch {
        return error(`Error opening file: ${path}`);
      }
    },
    pokeScheduler: () => {
      env.poke();
      return value(0);
    },
    timeCallback: (args) => {
      const argument = typeof args[1] === 'string' ? encoder.encode(args[1]) : null;
      env.emit({ timeCallback: { functionName: args[0] as string, argument, delayMs: uint32(args[2]) } });
      return value(0);
    },
    pushEvent: (args) => {
      const id = uint32(args[0]);
      const transaction = typeof args[1] === 'string' ? args[1] : null;
      const event = encoder.encode(args[2] as string);
      const jsep = typeof args[3] === 'string' ? encoder.encode(args[3]) : null;
      const { kind } = jsonDocumentKind(event);
      if (kind === 'invalid') return error('JSON error: the event is not a JSON object or array');
      let jsepSdp: unknown;
      if (jsep !== null) {
        const parsed = jsonDocumentKind(jsep);
        if (parsed.kind === 'invalid') return error('JSON error: the JSEP is not a JSON object or array');
        jsepSdp = parsed.kind === 'object' ? (parsed.value as Record<string, unknown>).sdp : undefined;
      }
      if (!env.sessions.alive(id)) return noSession(id);
      if (jsep !== null) {
        if (typeof jsepSdp !== 'string' || !sdpParses(jsepSdp)) return error('Error parsing answer: invalid SDP');
        // Sent asynchronously, like Janus's push thread: 0 now; a non-object event is dropped later.
        if (kind === 'object') env.emit({ pushEvent: { session: id, transaction, event, jsep } });
        else log(2, 'pushEvent: the event is not a JSON object, dropped');
        return value(0);
      }
      if (kind === 'array') return value(455);
      env.emit({ pushEvent: { session: id, transaction, event, jsep: null } });
      return value(0);
    },
    notifyEvent: (args) => {
      if (!env.eventsEnabled) return value(0);
      const id = uint32(args[0]);
      const event = encoder.encode(args[1] as string);
      if (jsonDocumentKind(event).kind === 'invalid') return error('JSON error: the event is not a JSON object or array');
      env.emit({ notifyEvent: { session: env.sessions.alive(id) ? id : 0, event } });
      return value(0);
    },
    eventsIsEnabled: () => value(env.eventsEnabled ? 1 : 0),
    closePc: aliveOnly((id) => ({ closePc: id })),
    endSession: aliveOnly((id) => ({ endSession: id })),
    configureMedium: (args) => {
      const id = uint32(args[0]);
      if (!env.sessions.alive(id)) return noSession(id);
      const medium = mediumOf(args[1] as string) ?? 'audio';
      const incoming = (args[2] as string).toLowerCase() === 'in';
      env.emit({ configureMedium: { session: id, medium, incoming, enabled: args[3] as boolean } });
      return value(0);
    },
    addRecipient: (args) => {
      const sender = uint32(args[0]);
      const recipient = uint32(args[1]);
      if (!env.sessions.alive(sender)) return noSession(sender);
      if (!env.sessions.alive(recipient)) return error(`Recipient session ${recipient} doesn't exist`);
      env.emit({ addRecipient: { sender, recipient } });
      return value(0);
    },
    removeRecipient: (args) => {
      const sender = uint32(args[0]);
      const recipient = uint32(args[1]);
      // No "dead" check: works while destroySession runs.
      if (!env.sessions.inTable(sender)) return noSession(sender);
      if (!env.sessions.inTable(recipient)) return error(`Recipient session ${recipient} doesn't exist`);
      env.emit({ removeRecipient: { sender, recipient } });
      return value(0);
    },
    setBitrate: aliveValue((session, n) => ({ setBitrate: { session, value: uint32(n) } })),
    setPliFreq: aliveValue((session, n) => ({ setPliFreq: { session, value: uint32(n) & 0xffff } })),
    setSubstream: aliveValue((session, n) => ({ setSubstream: { session, value: int(n) } })),
    setTemporalLayer: aliveValue((session, n) => ({ setTemporalLayer: { session, value: int(n) } })),
    sendPli: aliveOnly((id) => ({ sendPli: id })),
    relayRtp: relayPacket((session, video, packet) => ({ relayRtp: { session, video, packet } })),
    relayRtcp: relayPacket((session, video, packet) => ({ relayRtcp: { session, video, packet } })),
    relayTextData: relayData(false),
    relayBinaryData: relayData(true),
    relayData: (args) => {
      log(LOG_WARN, "Deprecated function 'relayData' called, invoking 'relayTextData' instead");
      return relayData(false)(args);
    },
    startRecording: (args) => {
      const id = uint32(args[0]);
      if (!env.sessions.alive(id)) return noSession(id);
      const failed = error(`Error starting the recording of session ${id}`);
      const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
      const groups: RecordingGroup[] = [];
      // Declared with 13 formal arguments: absent groups are undefined and skipped.
      for (let base = 1; base + 3 <= 12; base += 4) {
        groups.push({ type: text(args[base]), codec: text(args[base + 1]), folder: text(args[base + 2]), filename: text(args[base + 3]) });
      }
      return startRecording(env, id, groups, (message) => log(LOG_WARN, message)) ? value(0) : failed;
    },
    stopRecording: (args) => {
      const id = uint32(args[0]);
      if (!env.sessions.alive(id)) return noSession(id);
      const named = [args[1], args[2], args[3]].map((v) => (typeof v === 'string' ? v : null)); // undefined / null: skipped
      stopRecording(env, id, named);
      return value(0);
    },
  };
}
