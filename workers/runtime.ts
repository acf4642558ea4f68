// What a script runtime (Lua in Fengari, or JavaScript in node:vm) offers the worker entry:
// load a script, then run callbacks. Each returns the Result fields of one task. What both
// do alike around their script lives here too: the table of callbacks (CALLBACKS: which
// function, optional or not, its arguments, how its result is read, the session bookkeeping)
// and ScriptRuntimeBase, which runs a Call through that table; a runtime only implements how
// to invoke its engine (invokeCallback).

import {
  Status, callbackOf, type Callback, type CallArguments, type CallMessage, type HostCall, type IncomingData, type IncomingPacket,
  type Layer, type LoadTask, type Result, type ScriptInfoMessage,
} from '../src/common/bridge';
import { MemoryLimit, type MemoryReport } from './memory';
import { SessionMirror } from './session-mirror';

export type TaskOutcome = Result;

export interface ScriptRuntime {
  load(task: LoadTask): TaskOutcome;
  call(task: CallMessage): TaskOutcome;
  /**
   * The memory in use and whether it is over the limit (even after a GC, or as found during
   * the task); once per task, after its last call: reading the heap costs as much as a short
   * callback.
   */
  memoryReport(): MemoryReport;
  /**
   * One step of warming the engine up once a script is loaded (lua/warm-up.ts); false when
   * there is nothing (more) to do. The worker runs steps between tasks.
   */
  warmUpStep(): boolean;
}

/**
 * One argument of a callback, as both runtimes pass it; each runtime converts it to its
 * engine's value.
 */
export type ScriptArg =
  /** A script session id (Lua: an integer, or a float above 2^31 as janus_lua.c pushes it). */
  | { kind: 'id'; value: number }
  | { kind: 'string'; value: string }
  /** Text that may be absent: Lua a string or nil, JavaScript a UTF-8 decoded string or null. */
  | { kind: 'text'; value: Uint8Array | null }
  /** Binary data: Lua a byte string, JavaScript one character per byte (as Duktape). */
  | { kind: 'bytes'; value: Uint8Array }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'integer'; value: number };

/**
 * How a callback's result is read: `ignored`; `message`, handleMessage's answer (Lua: the
 * two values code, text; JavaScript: one number or string); `json`, a JSON string or nothing.
 */
export type ResultHandling = 'ignored' | 'message' | 'json';

interface CallbackBase {
  /** The script's global function. */
  readonly name: string;
  /** Optional callbacks are detected once at load; an absent one answers NO_CALLBACK. */
  readonly optional: boolean;
}

/** A callback the host asks for by name, with arguments `A` (its part of the Call). */
export interface ScriptCallback<A> extends CallbackBase {
  readonly kind: 'callback';
  /** Called instead of `name` when the script lacks it (a legacy name). */
  readonly fallback?: string;
  /** Runs only when the script also defines this one (Janus 1.1.2's gate). */
  readonly requires?: string;
  readonly args: (call: A, session: number) => ScriptArg[];
  readonly result: ResultHandling;
  /** Session-mirror bookkeeping before the script runs. */
  readonly before?: (sessions: SessionMirror, session: number) => void;
  /** And after it, knowing whether it succeeded. */
  readonly after?: (sessions: SessionMirror, session: number, ok: boolean) => void;
  /** JavaScript only: a throw answers {"error": message}, as janus_duktape.c does. */
  readonly throwAsJson?: boolean;
}

/** resumeScheduler: run once per poke to serve (bounded rounds), not as a single call. */
export interface ResumeCallback<A> extends CallbackBase {
  readonly kind: 'resume';
  readonly rounds: (call: A) => number;
}

/** A timeCallback firing: the global it names, looked up now (absent is an error). */
export interface TimerCallback<A> extends CallbackBase {
  readonly kind: 'timer';
  readonly target: (call: A) => string;
  readonly args: (call: A) => ScriptArg[];
}

export type CallbackSpec<A> = ScriptCallback<A> | ResumeCallback<A> | TimerCallback<A>;
/** What a runtime's invokeCallback is given: how to read the result. */
export type InvokedSpec = Pick<ScriptCallback<unknown>, 'result' | 'throwAsJson'>;

/** A timer's function returns nothing the host reads. */
const TIMER_RESULT: InvokedSpec = { result: 'ignored' };

const id = (value: number): ScriptArg => ({ kind: 'id', value });
const noArgs = (): ScriptArg[] => [];
const idOnly = (_call: unknown, session: number): ScriptArg[] => [id(session)];
const packetArgs = (call: IncomingPacket, session: number): ScriptArg[] => [
  id(session), { kind: 'boolean', value: call.video }, { kind: 'bytes', value: call.packet }, { kind: 'integer', value: call.packet.length },
];
const dataArgs = (text: boolean) => (call: IncomingData, session: number): ScriptArg[] => [
  id(session),
  text ? { kind: 'text', value: call.payload } : { kind: 'bytes', value: call.payload },
  { kind: 'integer', value: call.payload.length },
  { kind: 'string', value: call.label },
  { kind: 'string', value: call.protocol },
];
const layerArgs = (call: Layer, session: number): ScriptArg[] => [id(session), { kind: 'integer', value: call.value }];

/**
 * Every callback the host can ask a script for (janus_lua.c / janus_duktape.c), with its
 * arguments and how its result is read. `init` and the info getters run at load instead.
 */
export const CALLBACKS: { readonly [K in Callback]: CallbackSpec<CallArguments[K]> } = {
  destroy: { kind: 'callback', name: 'destroy', optional: false, args: noArgs, result: 'ignored' },
  resumeScheduler: { kind: 'resume', name: 'resumeScheduler', optional: false, rounds: (call) => call.resumes },
  createSession: {
    kind: 'callback', name: 'createSession', optional: false, args: idOnly, result: 'ignored',
    before: (sessions, session) => sessions.create(session),
    // The host refuses the attach when createSession fails: forget the id.
    after: (sessions, session, ok) => { if (!ok) sessions.remove(session); },
  },
  destroySession: {
    kind: 'callback', name: 'destroySession', optional: false, args: idOnly, result: 'ignored',
    after: (sessions, session) => sessions.remove(session),
  },
  querySession: { kind: 'callback', name: 'querySession', optional: false, args: idOnly, result: 'json', throwAsJson: true },
  handleMessage: {
    kind: 'callback', name: 'handleMessage', optional: false, result: 'message',
    args: (call, session) => [
      id(session),
      { kind: 'string', value: call.transaction },
      { kind: 'text', value: call.message },
      { kind: 'text', value: call.jsep ?? null },
    ],
  },
  handleAdminMessage: {
    kind: 'callback', name: 'handleAdminMessage', optional: true, result: 'json',
    args: (call) => [{ kind: 'text', value: call.message ?? null }],
  },
  setupMedia: { kind: 'callback', name: 'setupMedia', optional: false, args: idOnly, result: 'ignored' },
  hangupMedia: {
    kind: 'callback', name: 'hangupMedia', optional: false, args: idOnly, result: 'ignored',
    before: (sessions, session) => sessions.setDataReady(session, false),
  },
  incomingRtp: { kind: 'callback', name: 'incomingRtp', optional: true, args: packetArgs, result: 'ignored' },
  incomingRtcp: { kind: 'callback', name: 'incomingRtcp', optional: true, args: packetArgs, result: 'ignored' },
  incomingTextData: {
    kind: 'callback', name: 'incomingTextData', fallback: 'incomingData', optional: true, args: dataArgs(true), result: 'ignored',
  },
  incomingBinaryData: { kind: 'callback', name: 'incomingBinaryData', optional: true, args: dataArgs(false), result: 'ignored' },
  dataReady: {
    kind: 'callback', name: 'dataReady', optional: true, args: idOnly, result: 'ignored',
    before: (sessions, session) => sessions.setDataReady(session, true),
  },
  slowLink: {
    kind: 'callback', name: 'slowLink', optional: true, result: 'ignored',
    args: (call, session) => [id(session), { kind: 'boolean', value: call.uplink }, { kind: 'boolean', value: call.video }],
  },
  substreamChanged: { kind: 'callback', name: 'substreamChanged', optional: true, args: layerArgs, result: 'ignored' },
  // Janus 1.1.2 gates this on substreamChanged being defined too.
  temporalLayerChanged: {
    kind: 'callback', name: 'temporalLayerChanged', requires: 'substreamChanged', optional: true, args: layerArgs, result: 'ignored',
  },
  timer: {
    kind: 'timer', name: 'timer', optional: false,
    target: (call) => call.functionName,
    args: (call) => (call.argument === null || call.argument === undefined ? [] : [{ kind: 'text', value: call.argument }]),
  },
};

/** The info getters a script may define, read once after init. */
const INFO_GETTERS = ['getVersion', 'getVersionString', 'getDescription', 'getName', 'getAuthor', 'getPackage'] as const;

const SPECS: readonly CallbackSpec<never>[] = Object.values(CALLBACKS);

/** The callbacks every script must define (janus_lua.c / janus_duktape.c refuse it otherwise). */
export const MANDATORY_CALLBACKS: readonly string[] = [
  'init',
  ...SPECS.filter((spec) => !spec.optional && spec.kind !== 'timer').map((spec) => spec.name),
];

/** The callbacks a script may define, detected once at load. */
export const OPTIONAL_CALLBACKS: readonly string[] = [
  ...SPECS.flatMap((spec) => (spec.optional && spec.kind === 'callback' ? [spec.name, ...(spec.fallback ? [spec.fallback] : [])] : [])),
  ...INFO_GETTERS,
];

/** What a runtime's invocation of one script function gives back. */
export interface Invoked extends TaskOutcome {
  /** The global was not a function (each runtime keeps its own status for that). */
  missing?: boolean;
}

const LOG_INFO = 4;

/**
 * What both runtimes keep around their script and do the same way: the session mirror, the
 * optional callbacks found at load, the host calls of the running task, the pokes it made
 * (served right after it, in bounded rounds) and the memory limit.
 */
export abstract class ScriptRuntimeBase implements ScriptRuntime {
  protected readonly sessions = new SessionMirror();
  protected readonly hooks = new Set<string>();
  /** Where host functions put their calls while a task runs. */
  protected out: HostCall[] = [];
  /** Pokes since the count was last reset. */
  protected pokes = 0;
  protected readonly memory = new MemoryLimit();
  protected logLevel = LOG_INFO;
  protected maxResumeRounds = 16;

  abstract load(task: LoadTask): TaskOutcome;
  /** Nothing to warm up unless the runtime says otherwise. */
  warmUpStep(): boolean {
    return false;
  }
  /** Runs the script's resumeScheduler once, logging a failure into `out`. */
  protected abstract resume(): void;
  /** Whether a script is loaded (and its state usable). */
  protected abstract hasScript(): boolean;
  /**
   * Calls the script's global `name` with `args` in the engine and reads its result as
   * `spec.result` says (code/text for `message`, json for `json`).
   */
  protected abstract invokeCallback(name: string, args: ScriptArg[], spec: InvokedSpec): Invoked;

  /** Runs one Call through the callback table. */
  call(task: CallMessage): TaskOutcome {
    if (!this.hasScript()) return { status: Status.NOT_LOADED, error: 'no script loaded in this worker' };
    const calls = this.beginTask();
    const callback = callbackOf(task);
    const run: CallRun = callback === undefined
      ? { outcome: { status: Status.SCRIPT_ERROR, error: 'unknown callback' } }
      : this.runCallback(callback, task, calls);
    return this.endCall(run.outcome, calls, run.resumes ?? 0, run.resumeInto);
  }

  private runCallback<K extends Callback>(callback: K, task: CallMessage, calls: HostCall[]): CallRun {
    const args = task[callback] as CallArguments[K];
    const spec: CallbackSpec<CallArguments[K]> = CALLBACKS[callback];
    const session = task.session ?? 0;
    switch (spec.kind) {
      case 'resume':
        return { outcome: { status: Status.OK }, resumes: spec.rounds(args), resumeInto: calls };
      case 'timer': {
        const name = spec.target(args);
        const invoked = this.invokeCallback(name, spec.args(args), TIMER_RESULT);
        return { outcome: invoked.missing ? { status: Status.SCRIPT_ERROR, error: `timeCallback: no global function '${name}'` } : stripMissing(invoked) };
      }
      case 'callback': {
        spec.before?.(this.sessions, session);
        const name = this.target(spec);
        const outcome = name === undefined ? { status: Status.NO_CALLBACK } : stripMissing(this.invokeCallback(name, spec.args(args, session), spec));
        spec.after?.(this.sessions, session, outcome.status === Status.OK);
        return { outcome };
      }
    }
  }

  /** The function a callback runs in this script, or undefined when it has none to run. */
  private target(spec: Pick<ScriptCallback<unknown>, 'name' | 'optional' | 'requires' | 'fallback'>): string | undefined {
    if (!spec.optional) return spec.name;
    if (spec.requires && !this.hooks.has(spec.requires)) return undefined;
    if (this.hooks.has(spec.name)) return spec.name;
    return spec.fallback && this.hooks.has(spec.fallback) ? spec.fallback : undefined;
  }

  /** The memory in use after the task, and whether it is over the limit (even after a GC). */
  memoryReport(): MemoryReport {
    return this.memory.checkAfterTask();
  }

  /** A load begins: the task's limits, a fresh list of host calls (returned). */
  protected beginLoad(task: LoadTask): HostCall[] {
    const calls = this.beginTask();
    this.memory.limitBytes = task.memoryLimitBytes;
    this.logLevel = task.logLevel;
    this.maxResumeRounds = Math.max(1, task.maxResumeRounds);
    return calls;
  }

  /** A task begins: a fresh list of host calls (returned), no pokes yet. */
  protected beginTask(): HostCall[] {
    const calls: HostCall[] = [];
    this.out = calls;
    this.pokes = 0;
    return calls;
  }

  /**
   * Checks the mandatory callbacks and notes the optional ones the script defines; the error
   * that fails the load when one is missing.
   */
  protected findCallbacks(scriptPath: string, isFunction: (name: string) => boolean): string | undefined {
    const missing = MANDATORY_CALLBACKS.filter((name) => !isFunction(name));
    if (missing.length > 0) {
      return `${scriptPath} does not define the mandatory function${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`;
    }
    for (const name of OPTIONAL_CALLBACKS) if (isFunction(name)) this.hooks.add(name);
    return undefined;
  }

  /** The outcome of a load that succeeded: the pokes of init served right away as follow-ups. */
  protected loaded(calls: HostCall[], info: ScriptInfoMessage): TaskOutcome {
    const followups = this.servePokes(this.pokes, []);
    return {
      status: Status.OK,
      calls,
      followupCalls: followups.calls,
      pendingPokes: followups.pending,
      info,
      hooks: [...this.hooks],
    };
  }

  /**
   * A call task ends: its host calls, then its pokes (and `resumes` more) served, into
   * `resumeInto` for a resumeScheduler task, else as follow-ups; the memory report.
   */
  protected endCall(outcome: TaskOutcome, calls: HostCall[], resumes: number, resumeInto: HostCall[] | undefined): TaskOutcome {
    outcome.calls = calls;
    const served = this.servePokes(resumes + this.pokes, resumeInto ?? []);
    if (!resumeInto) outcome.followupCalls = served.calls;
    outcome.pendingPokes = served.pending;
    return outcome;
  }

  /** Runs resumeScheduler once per poke, at most maxResumeRounds times, into `calls`. */
  private servePokes(pending: number, calls: HostCall[]): { calls: HostCall[]; pending: number } {
    const saved = this.out;
    this.out = calls;
    let rounds = 0;
    while (pending > 0 && rounds < this.maxResumeRounds) {
      pending--;
      rounds++;
      this.pokes = 0;
      this.resume();
      pending += this.pokes;
    }
    this.pokes = 0;
    this.out = saved;
    return { calls, pending };
  }
}

/** What running one Call gives endCall: the outcome, and pokes to serve for resumeScheduler. */
interface CallRun {
  outcome: TaskOutcome;
  resumes?: number;
  resumeInto?: HostCall[];
}

function stripMissing(invoked: Invoked): TaskOutcome {
  // Runtimes set `missing` only when the function is absent: the usual outcome needs no copy.
  if (invoked.missing === undefined) return invoked;
  const { missing: _missing, ...outcome } = invoked;
  return outcome;
}

/**
 * Fills `info` from the script's string getters, in the order janus_lua.c and janus_duktape.c
 * call them (after getVersion); `text` answers undefined for a getter that is absent or fails.
 */
export function readInfoTexts(info: ScriptInfoMessage, text: (getter: string) => string | undefined): void {
  info.versionString = text('getVersionString') ?? info.versionString;
  info.description = text('getDescription') ?? info.description;
  info.name = text('getName') ?? info.name;
  info.author = text('getAuthor') ?? info.author;
  info.package = text('getPackage') ?? info.package;
}
