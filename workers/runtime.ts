// What a script runtime (Lua in Fengari, or JavaScript in node:vm) offers the worker entry:
// load a script, then run callbacks. Each returns the Result fields of one task. What both
// do alike around their script lives here too (ScriptRuntimeBase).

import { Status, type CallTask, type HostCall, type LoadTask, type Result, type ScriptInfoMessage } from '../src/script/bridge';
import { MemoryLimit } from './memory';
import { SessionMirror } from './session-mirror';

export type TaskOutcome = Result;

export interface ScriptRuntime {
  load(task: LoadTask): TaskOutcome;
  call(task: CallTask): TaskOutcome;
}

/** The callbacks every script must define (janus_lua.c / janus_duktape.c refuse it otherwise). */
export const MANDATORY_CALLBACKS = [
  'init', 'destroy', 'resumeScheduler', 'createSession', 'destroySession', 'querySession', 'handleMessage', 'setupMedia', 'hangupMedia',
] as const;

/** The callbacks a script may define, detected once at load. */
export const OPTIONAL_CALLBACKS = [
  'handleAdminMessage', 'incomingRtp', 'incomingRtcp', 'incomingTextData', 'incomingBinaryData', 'incomingData', 'dataReady',
  'slowLink', 'substreamChanged', 'temporalLayerChanged',
  'getVersion', 'getVersionString', 'getDescription', 'getName', 'getAuthor', 'getPackage',
] as const;

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
  abstract call(task: CallTask): TaskOutcome;
  /** Runs the script's resumeScheduler once, logging a failure into `out`. */
  protected abstract resume(): void;

  /** The memory in use after the task, and whether it is over the limit (even after a GC). */
  protected memoryReport(): { memoryBytes: number; overMemory: boolean } {
    return this.memory.check();
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
      ...this.memoryReport(),
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
    Object.assign(outcome, this.memoryReport());
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
