// Checks the worker makes so host calls can return their result synchronously to the script:
// event JSON as jansson would load it, and the SDP of a JSEP as Janus's SDP parser would.

import { mediumOf } from '../src/common/codecs';
import { isRecordingCodec } from '../src/common/recording-args';

const decoder = new TextDecoder('utf-8');

export type JsonDocumentKind = 'object' | 'array' | 'invalid';

/** jansson's json_loads without JSON_DECODE_ANY: only an object or an array parses. */
export function jsonDocumentKind(bytes: Uint8Array): { kind: JsonDocumentKind; value?: unknown } {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return { kind: 'invalid' };
  }
  if (Array.isArray(value)) return { kind: 'array', value };
  if (typeof value === 'object' && value !== null) return { kind: 'object', value };
  return { kind: 'invalid' };
}

const O_LINE = /^o=\S+ \d+ \d+ IN IP[46] \S+$/;
const M_LINE = /^m=\S+ \d+(\/\d+)? \S+( .*)?$/;

/** A lenient version of janus_sdp_parse's checks: every line `x=...`, a valid o= and m= lines. */
export function sdpParses(sdp: string): boolean {
  const lines = sdp.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line.length > 0);
  if (lines.length === 0 || !lines[0].startsWith('v=')) return false;
  for (const line of lines) {
    if (line.length < 3 || line[1] !== '=') return false;
    if (line[0] === 'o' && !O_LINE.test(line)) return false;
    if (line[0] === 'm' && !M_LINE.test(line)) return false;
  }
  return true;
}

/** A script JSEP: must parse to an object whose `sdp` is a string the SDP parser accepts. */
export function jsepValid(bytes: Uint8Array): boolean {
  const { kind, value } = jsonDocumentKind(bytes);
  if (kind !== 'object') return false;
  const sdp = (value as Record<string, unknown>).sdp;
  return typeof sdp === 'string' && sdpParses(sdp);
}

// ---------------------------------------------------------------------------------------------
// Host function arguments: the rules both runtimes apply before a host function does anything
// (as Janus's plugins check what they are given). Each runtime hands the arguments over as
// plain values (Lua: number, string, boolean, undefined for nil, an OpaqueValue otherwise;
// JavaScript: the values themselves, only inspected with typeof) and turns an InvalidArgument
// into its own failure: -1 in Lua, a thrown TypeError/Error in JavaScript, one warning line each.

/** A Lua value the rules only need the type name of (table, function, userdata, thread). */
export class OpaqueValue {
  constructor(readonly typeName: string) {}
}

/** Lua converts numeric strings to numbers where a number is expected (lua_tonumber); Duktape does not. */
export type Dialect = 'lua' | 'js';

export type ArgRule =
  /** a script session id: an integer from 0 to 2^32-1 */
  | 'id'
  /** a finite number >= 0 (bitrates, PLI frequencies) */
  | 'nonNegative'
  /** a delay in ms: a finite number >= 0, or absent (0) */
  | 'delay'
  /** a length: a finite number >= 1 */
  | 'size'
  /** a simulcast substream or temporal layer: an integer from 0 to 2 */
  | 'layer'
  /** a Janus log level: an integer from 0 to 7 */
  | 'logLevel'
  /** 'audio', 'video' or 'data' (any case) */
  | 'medium'
  /** 'in' or 'out' (any case) */
  | 'direction'
  /** a boolean (Lua: any value, by truthiness) */
  | 'flag'
  /** a string (Lua: numbers too) */
  | 'text'
  /** a string, or absent (nil / null / undefined) */
  | 'text?'
  /** a recorder codec, optionally followed by /fmtp=... */
  | 'codec'
  /** the name of a function the script defines as a global */
  | 'callback'
  /** anything (Lua: strings and numbers are used, the rest counts as none; JS: a string or undefined) */
  | 'argument';

/**
 * Rules that look at a string argument's type only, never at its text: a runtime need not
 * decode such a string for the check (packets, event JSON, log lines).
 */
export const TYPE_ONLY_RULES: ReadonlySet<ArgRule> = new Set<ArgRule>(['text', 'text?', 'flag', 'argument']);

export interface ArgSpec {
  readonly name: string;
  readonly rule: ArgRule;
}

const arg = (name: string, rule: ArgRule): ArgSpec => ({ name, rule });
const ID = arg('id', 'id');
// A recording type is any text: an unknown one is Janus's business (src/common/recording-args.ts).
const RECORDING_GROUP = [arg('type', 'text?'), arg('codec', 'codec'), arg('folder', 'text?'), arg('filename', 'text?')];

/** Every host function's arguments, in order (startRecording's four-argument groups repeat). */
export const HOST_FUNCTION_ARGS = {
  janusLog: [arg('level', 'logLevel'), arg('message', 'text')],
  pokeScheduler: [],
  timeCallback: [arg('function', 'callback'), arg('argument', 'argument'), arg('ms', 'delay')],
  pushEvent: [ID, arg('transaction', 'text?'), arg('event', 'text'), arg('jsep', 'text?')],
  eventsIsEnabled: [],
  notifyEvent: [ID, arg('event', 'text')],
  closePc: [ID],
  endSession: [ID],
  configureMedium: [ID, arg('medium', 'medium'), arg('direction', 'direction'), arg('enabled', 'flag')],
  addRecipient: [arg('sender', 'id'), arg('recipient', 'id')],
  removeRecipient: [arg('sender', 'id'), arg('recipient', 'id')],
  setBitrate: [ID, arg('bitrate', 'nonNegative')],
  setPliFreq: [ID, arg('seconds', 'nonNegative')],
  setSubstream: [ID, arg('substream', 'layer')],
  setTemporalLayer: [ID, arg('temporal', 'layer')],
  sendPli: [ID],
  relayRtp: [ID, arg('video', 'flag'), arg('packet', 'text'), arg('length', 'size')],
  relayRtcp: [ID, arg('video', 'flag'), arg('packet', 'text'), arg('length', 'size')],
  relayTextData: [ID, arg('buffer', 'text'), arg('length', 'size'), arg('label', 'text?'), arg('protocol', 'text?')],
  relayBinaryData: [ID, arg('buffer', 'text'), arg('length', 'size'), arg('label', 'text?'), arg('protocol', 'text?')],
  relayData: [ID, arg('buffer', 'text'), arg('length', 'size'), arg('label', 'text?'), arg('protocol', 'text?')],
  startRecording: [ID, ...RECORDING_GROUP, ...RECORDING_GROUP, ...RECORDING_GROUP],
  stopRecording: [ID, arg('type', 'text?'), arg('type', 'text?'), arg('type', 'text?')],
  readFile: [arg('path', 'text')],
  getModulesFolder: [],
  getDuktapeVersion: [],
  testExtraFunction: [],
} as const satisfies Record<string, readonly ArgSpec[]>;

export type HostFunctionName = keyof typeof HOST_FUNCTION_ARGS;

/** Duktape's type names, as janus_duktape.c prints them in its TypeErrors. */
export function dukType(value: unknown): string {
  if (value === null) return 'DUK_TYPE_NULL';
  switch (typeof value) {
    case 'undefined': return 'DUK_TYPE_UNDEFINED';
    case 'boolean': return 'DUK_TYPE_BOOLEAN';
    case 'number': return 'DUK_TYPE_NUMBER';
    case 'string': return 'DUK_TYPE_STRING';
    default: return 'DUK_TYPE_OBJECT';
  }
}

/** One argument a host function refused. */
export class InvalidArgument {
  constructor(
    readonly fn: HostFunctionName,
    /** 1-based, as the script wrote it */
    readonly position: number,
    readonly name: string,
    readonly problem: string,
    /** JavaScript: the Duktape type the argument should have had, when its type was wrong */
    readonly expectedDukType?: string,
  ) {}

  /** The warning logged (and, for value problems, the JavaScript Error's message). */
  get text(): string {
    return `${this.fn}: invalid argument ${this.position} (${this.name}): ${this.problem}`;
  }
}

export interface ArgContext {
  readonly dialect: Dialect;
  /** Whether the script defines a global function of this name now. */
  isFunction(name: string): boolean;
}

/** A short, safe description of a value (never runs script code: typeof and primitives only). */
function describe(value: unknown, dialect: Dialect): string {
  if (value === undefined) return dialect === 'lua' ? 'nil' : 'undefined';
  if (value === null) return 'null';
  if (value instanceof OpaqueValue) return `a ${value.typeName}`;
  switch (typeof value) {
    case 'string': return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number': case 'boolean': return String(value);
    case 'function': return 'a function';
    default: return 'an object';
  }
}

/** The number a value stands for in this dialect, or undefined when it is none. */
function numberOf(value: unknown, dialect: Dialect): number | undefined {
  if (typeof value === 'number') return value;
  if (dialect === 'lua' && typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

const absent = (value: unknown): boolean => value === undefined || value === null;

type Problem = { problem: string; expected?: string };

// The checks below allocate nothing unless they fail: they run on every host call (once per
// relayed packet, twice per echotest message), and the description of a value is only needed
// for a refusal.

function needNumber(value: unknown, dialect: Dialect, ok: (n: number) => boolean, what: string): Problem | undefined {
  const n = numberOf(value, dialect);
  if (n === undefined) return { problem: `expected ${what}, got ${describe(value, dialect)}`, expected: 'DUK_TYPE_NUMBER' };
  return Number.isFinite(n) && ok(n) ? undefined : { problem: `expected ${what}, got ${describe(value, dialect)}` };
}

function needString(value: unknown, dialect: Dialect, optional: boolean): Problem | undefined {
  if (typeof value === 'string' || (dialect === 'lua' && typeof value === 'number') || (optional && absent(value))) return undefined;
  return { problem: `expected a string${optional ? ' or nothing' : ''}, got ${describe(value, dialect)}`, expected: 'DUK_TYPE_STRING' };
}

const isId = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
const isNonNegative = (n: number): boolean => n >= 0;
const isSize = (n: number): boolean => n >= 1;
const isLayer = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 2;
const isLogLevel = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 7;

/** What is wrong with one value under a rule (with the Duktape type it needed, for type errors), or undefined. */
function problemWith(rule: ArgRule, value: unknown, context: ArgContext): Problem | undefined {
  const dialect = context.dialect;
  switch (rule) {
    case 'id': return needNumber(value, dialect, isId, 'a session id (an integer >= 0)');
    case 'nonNegative': return needNumber(value, dialect, isNonNegative, 'a number >= 0');
    case 'delay': return value === undefined ? undefined : needNumber(value, dialect, isNonNegative, 'a delay in ms >= 0');
    case 'size': return needNumber(value, dialect, isSize, 'a length >= 1');
    case 'layer': return needNumber(value, dialect, isLayer, 'an integer from 0 to 2');
    case 'logLevel': return needNumber(value, dialect, isLogLevel, 'a log level from 0 to 7');
    case 'text': return needString(value, dialect, false);
    case 'text?': return needString(value, dialect, true);
    case 'flag':
      if (dialect === 'lua' || typeof value === 'boolean') return undefined;
      return { problem: `expected a boolean, got ${describe(value, dialect)}`, expected: 'DUK_TYPE_BOOLEAN' };
    case 'argument':
      if (dialect === 'lua' || typeof value === 'string' || value === undefined) return undefined;
      return { problem: `expected a string or nothing, got ${describe(value, dialect)}`, expected: 'DUK_TYPE_STRING' };
    case 'medium': {
      const bad = needString(value, dialect, false);
      if (bad) return bad;
      return mediumOf(String(value)) ? undefined : { problem: `expected "audio", "video" or "data", got ${describe(value, dialect)}` };
    }
    case 'direction': {
      const bad = needString(value, dialect, false);
      if (bad) return bad;
      const d = String(value).toLowerCase();
      return d === 'in' || d === 'out' ? undefined : { problem: `expected "in" or "out", got ${describe(value, dialect)}` };
    }
    case 'codec': {
      const bad = needString(value, dialect, false);
      if (bad) return bad;
      return isRecordingCodec(String(value)) ? undefined : { problem: `unsupported codec ${describe(value, dialect)}` };
    }
    case 'callback': {
      const bad = needString(value, dialect, false);
      if (bad) return bad;
      return context.isFunction(String(value)) ? undefined : { problem: `the script defines no function ${describe(value, dialect)}` };
    }
  }
}

/**
 * Checks the arguments a host function was given (as many as its rules list; missing ones
 * count as absent). startRecording's optional groups: a group whose type and codec are both
 * absent is skipped. The first problem found, or undefined.
 */
export function checkHostArgs(fn: HostFunctionName, args: ArrayLike<unknown>, context: ArgContext): InvalidArgument | undefined {
  const specs: readonly ArgSpec[] = HOST_FUNCTION_ARGS[fn];
  for (let i = 0; i < specs.length; i++) {
    if (fn === 'startRecording' && i >= 1 && (i - 1) % 4 === 0 && absent(args[i]) && absent(args[i + 1])) {
      i += 3;
      continue;
    }
    const found = problemWith(specs[i].rule, args[i], context);
    if (found) return new InvalidArgument(fn, i + 1, specs[i].name, found.problem, found.expected);
  }
  return undefined;
}
