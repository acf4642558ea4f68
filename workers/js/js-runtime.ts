// A Janus Duktape plugin script (janus-contract §6) in a node:vm context: loads the script as
// janus_duktape.c does (global sloppy-mode code, mandatory callbacks checked, optional ones
// detected once, init(config)), then runs callbacks under a wall-clock limit each. Pokes are
// served right after the task that made them (bounded rounds), their host calls returned
// separately so the host can send the reply first, as the Lua runtime does.

import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DUKTAPE_PLUGIN_INFO } from '../../src/janus/identity';
import { Callback, Status, type CallTask, type HostCall, type LoadTask, type ScriptInfoMessage } from '../../src/script/bridge';
import { ScriptRuntimeBase, readInfoTexts, type TaskOutcome } from '../runtime';
import { recordingCheck } from '../recording-check';
import { createHostFunctions } from './js-host-functions';
import { JsSandbox, type CallbackArg, type Invocation } from './js-sandbox';

/** Per-callback wall-clock limit when the host sets none. */
export const DEFAULT_TIME_LIMIT_MS = 2000;
const LOG_ERR = 2;

const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8');

/** Bytes as Duktape hands binary data to scripts: one character per byte. */
function binaryString(bytes: Uint8Array | undefined): string {
  return bytes ? Buffer.from(bytes).toString('latin1') : '';
}

function textOrNull(bytes: Uint8Array | null | undefined): string | null {
  return bytes === null || bytes === undefined ? null : utf8.decode(bytes);
}

export class JsRuntime extends ScriptRuntimeBase {
  private sandbox: JsSandbox | undefined;

  load(task: LoadTask): TaskOutcome {
    const calls = this.beginLoad(task);
    const failed = (error: string): TaskOutcome => {
      this.sandbox = undefined;
      return { status: Status.LOAD_FAILED, error, calls };
    };
    let source: string;
    try {
      source = readFileSync(task.scriptPath, 'utf8');
    } catch (error) {
      return failed(`cannot load ${task.scriptPath}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (source.length === 0) return failed(`cannot load ${task.scriptPath}: empty file`);
    // Modules: the script's own folder, then modulesPath (getModulesFolder(): modulesPath when
    // set, as Janus's configured folder, else the script's folder).
    const scriptFolder = dirname(task.scriptPath);
    const sandbox = new JsSandbox({
      hostFunctions: createHostFunctions({
        sessions: this.sessions,
        recordingAllowed: recordingCheck(task),
        eventsEnabled: task.eventsEnabled,
        modulesFolder: task.modulesPath ?? scriptFolder,
        logLevel: task.logLevel,
        isFunction: (name) => this.sandbox?.isFunction(name) ?? false,
        emit: (call) => this.out.push(call),
        poke: () => {
          this.pokes++;
        },
      }),
      log: (level, text) => {
        if (level <= this.logLevel) this.out.push({ log: { level, text: encoder.encode(text) } });
      },
      timeLimitMs: task.timeLimitMs && task.timeLimitMs > 0 ? task.timeLimitMs : DEFAULT_TIME_LIMIT_MS,
      moduleFolders: [scriptFolder, ...(task.modulesPath ? [task.modulesPath] : [])],
    });
    this.sandbox = sandbox;
    const main = sandbox.evaluate(source, task.scriptPath);
    if (main.status !== 'ok') return failed(`error running ${task.scriptPath}: ${errorText(main)}`);
    const missing = this.findCallbacks(task.scriptPath, (name) => sandbox.isFunction(name));
    if (missing) return failed(missing);
    // init(config): NULL config arrives as null.
    const init = sandbox.call('init', [textOrNull(task.config)]);
    if (init.status !== 'ok') return failed(`init failed: ${errorText(init)}`);
    return this.loaded(calls, this.readInfo(sandbox));
  }

  private readInfo(sandbox: JsSandbox): ScriptInfoMessage {
    const info: ScriptInfoMessage = { ...DUKTAPE_PLUGIN_INFO };
    const get = (name: string): Invocation | undefined => {
      if (!this.hooks.has(name)) return undefined;
      const result = sandbox.call(name, []);
      if (result.status !== 'ok') this.logFailure(name, result);
      return result.status === 'ok' ? result : undefined;
    };
    const text = (name: string): string | undefined => {
      const r = get(name);
      return typeof r?.value === 'string' ? r.value : undefined;
    };
    const version = get('getVersion');
    if (typeof version?.value === 'number' && Number.isFinite(version.value)) info.version = Math.trunc(version.value);
    readInfoTexts(info, text);
    return info;
  }

  private logFailure(name: string, result: Invocation): void {
    if (LOG_ERR <= this.logLevel) this.out.push({ log: { level: LOG_ERR, text: encoder.encode(`Duktape error in ${name}: ${errorText(result)}`) } });
  }

  protected resume(): void {
    const r = this.sandbox?.call('resumeScheduler', []);
    if (r && r.status !== 'ok') this.logFailure('resumeScheduler', r);
  }

  call(task: CallTask): TaskOutcome {
    const sandbox = this.sandbox;
    if (!sandbox) return { status: Status.NOT_LOADED, error: 'no script loaded in this worker' };
    const calls = this.beginTask();
    const id = task.session ?? 0;
    const run = (name: string, args: CallbackArg[]): TaskOutcome => outcomeOf(sandbox.call(name, args));
    const optional = (name: string, args: CallbackArg[]): TaskOutcome => (this.hooks.has(name) ? run(name, args) : { status: Status.NO_CALLBACK });
    let outcome: TaskOutcome;
    let resumeInto: HostCall[] | undefined;
    let pending = 0;
    switch (task.callback) {
      case Callback.CREATE_SESSION:
        this.sessions.create(id);
        outcome = run('createSession', [id]);
        // The host refuses the attach when createSession fails (as for Lua): forget the id.
        if (outcome.status !== Status.OK) this.sessions.remove(id);
        break;
      case Callback.DESTROY_SESSION:
        outcome = run('destroySession', [id]);
        this.sessions.remove(id);
        break;
      case Callback.SETUP_MEDIA:
        outcome = run('setupMedia', [id]);
        break;
      case Callback.HANGUP_MEDIA:
        this.sessions.setDataReady(id, false);
        outcome = run('hangupMedia', [id]);
        break;
      case Callback.DATA_READY:
        this.sessions.setDataReady(id, true);
        outcome = optional('dataReady', [id]);
        break;
      case Callback.QUERY_SESSION: {
        const r = sandbox.call('querySession', [id]);
        outcome = outcomeOf(r);
        // A throw becomes {"error": String(error)}, as janus_duktape.c answers.
        if (r.status === 'ok') outcome.json = typeof r.value === 'string' ? encoder.encode(r.value) : null;
        else outcome.json = encoder.encode(JSON.stringify({ error: r.message }));
        break;
      }
      case Callback.HANDLE_MESSAGE: {
        const r = sandbox.call('handleMessage', [id, task.transaction ?? '', textOrNull(task.message), textOrNull(task.jsep)]);
        outcome = outcomeOf(r);
        // ONE value: a number (<0 error, else async) or a string (sync JSON); anything else is an error.
        if (r.status === 'ok' && typeof r.value === 'number') outcome.code = r.value >= 0 ? 1 : -1;
        else if (r.status === 'ok' && typeof r.value === 'string') outcome.text = encoder.encode(r.value);
        break;
      }
      case Callback.HANDLE_ADMIN_MESSAGE: {
        const r = this.hooks.has('handleAdminMessage') ? sandbox.call('handleAdminMessage', [textOrNull(task.message)]) : undefined;
        outcome = r ? outcomeOf(r) : { status: Status.NO_CALLBACK };
        outcome.json = r?.status === 'ok' && typeof r.value === 'string' ? encoder.encode(r.value) : null;
        break;
      }
      case Callback.RESUME_SCHEDULER:
        outcome = { status: Status.OK };
        pending = task.resumes ?? 1;
        resumeInto = calls;
        break;
      case Callback.INCOMING_RTP:
      case Callback.INCOMING_RTCP: {
        const payload = task.payload ?? new Uint8Array(0);
        const name = task.callback === Callback.INCOMING_RTP ? 'incomingRtp' : 'incomingRtcp';
        outcome = optional(name, [id, task.flagA ?? false, binaryString(payload), payload.length]);
        break;
      }
      case Callback.INCOMING_TEXT_DATA:
      case Callback.INCOMING_BINARY_DATA: {
        const payload = task.payload ?? new Uint8Array(0);
        const binary = task.callback === Callback.INCOMING_BINARY_DATA;
        let name = binary ? 'incomingBinaryData' : 'incomingTextData';
        if (!binary && !this.hooks.has(name)) name = 'incomingData';
        const data = binary ? binaryString(payload) : utf8.decode(payload);
        outcome = optional(name, [id, data, payload.length, task.label ?? '', task.protocol ?? '']);
        break;
      }
      case Callback.SLOW_LINK:
        outcome = optional('slowLink', [id, task.flagA ?? false, task.flagB ?? false]);
        break;
      case Callback.SUBSTREAM_CHANGED:
        outcome = optional('substreamChanged', [id, task.number ?? 0]);
        break;
      case Callback.TEMPORAL_LAYER_CHANGED:
        // Janus 1.1.2 gates this on substreamChanged being defined too.
        outcome = this.hooks.has('substreamChanged') ? optional('temporalLayerChanged', [id, task.number ?? 0]) : { status: Status.NO_CALLBACK };
        break;
      case Callback.TIMER: {
        const fname = task.functionName ?? '';
        // Looked up at fire time: any global function with that name.
        const argument = textOrNull(task.argument);
        const r = sandbox.call(fname, argument === null ? [] : [argument]);
        outcome = r.status === 'missing' ? { status: Status.SCRIPT_ERROR, error: `timeCallback: no global function '${fname}'` } : outcomeOf(r);
        break;
      }
      case Callback.DESTROY:
        outcome = run('destroy', []);
        break;
      default:
        outcome = { status: Status.SCRIPT_ERROR, error: `unknown callback ${String(task.callback)}` };
    }
    return this.endCall(outcome, calls, pending, resumeInto);
  }
}

function errorText(result: Invocation): string {
  return result.stack || result.message;
}

function outcomeOf(result: Invocation): TaskOutcome {
  switch (result.status) {
    case 'ok': return { status: Status.OK };
    case 'timeout': return { status: Status.LIMIT_EXCEEDED, error: result.message };
    default: return { status: Status.SCRIPT_ERROR, error: errorText(result) };
  }
}
