// A Janus Duktape plugin script (docs/contract.md §6) in a node:vm context: loads the script as
// janus_duktape.c does (global sloppy-mode code, mandatory callbacks checked, optional ones
// detected once, init(config)), then runs callbacks (the table in ../runtime.ts) under a
// wall-clock limit each. Pokes are served right after the task that made them (bounded
// rounds), their host calls returned separately so the host can send the reply first, as the
// Lua runtime does.

import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DUKTAPE_PLUGIN_INFO } from '../../src/common/identity';
import { Status, type LoadTask, type ScriptInfoMessage } from '../../src/common/bridge';
import {
  ScriptRuntimeBase, readInfoTexts, type Invoked, type InvokedSpec, type ScriptArg, type TaskOutcome,
} from '../runtime';
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

  protected hasScript(): boolean {
    return this.sandbox !== undefined;
  }

  protected invokeCallback(name: string, args: ScriptArg[], spec: InvokedSpec): Invoked {
    const r = (this.sandbox as JsSandbox).call(name, args.map(jsArg));
    const outcome: Invoked = outcomeOf(r);
    if (r.status === 'missing') outcome.missing = true;
    const { result } = spec;
    if (result === 'message') {
      // ONE value: a number (<0 error, else async) or a string (sync JSON); anything else is an error.
      if (r.status === 'ok' && typeof r.value === 'number') outcome.code = r.value >= 0 ? 1 : -1;
      else if (r.status === 'ok' && typeof r.value === 'string') outcome.text = encoder.encode(r.value);
    } else if (result === 'json') {
      // A throw becomes {"error": String(error)} where janus_duktape.c answers so (querySession).
      if (spec.throwAsJson && r.status !== 'ok') outcome.json = encoder.encode(JSON.stringify({ error: r.message }));
      else outcome.json = r.status === 'ok' && typeof r.value === 'string' ? encoder.encode(r.value) : null;
    }
    return outcome;
  }
}

/** A callback argument as janus_duktape.c pushes it. */
function jsArg(arg: ScriptArg): CallbackArg {
  switch (arg.kind) {
    case 'text': return textOrNull(arg.value);
    case 'bytes': return binaryString(arg.value);
    default: return arg.value;
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
