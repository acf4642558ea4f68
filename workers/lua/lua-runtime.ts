// A Janus Lua plugin script running in Fengari (janus-contract §2, §4): loads the script the
// way janus_lua.c does, checks the mandatory callbacks, detects the optional ones once, and
// runs callbacks under an instruction budget and a memory watchdog. Pokes are served right
// after the task that made them (bounded rounds), their host calls returned separately so the
// host can send the reply first.

import { dirname } from 'node:path';
import { lua, lauxlib, to_luastring, type LuaState, type LuaHook } from 'fengari';
import { LUA_PLUGIN_INFO } from '../../src/janus/identity';
import { Callback, Status, type CallTask, type HostCall, type LoadTask, type ScriptInfoMessage } from '../../src/script/bridge';
import { memoryInUse } from '../memory';
import { ScriptRuntimeBase, readInfoTexts, type TaskOutcome } from '../runtime';
import { recordingCheck } from '../recording-check';
import { createEnvironment } from './lua-libs';
import { registerHostFunctions } from './host-functions';

const INT32_MAX = 2147483647;
const HOOK_STEP = 10_000;
const LOG_INFO = 4;

function pushId(L: LuaState, id: number): void {
  // Ids are uint32; fengari integers are 32-bit signed, so the upper half goes as floats
  // (as the C side pushes every id: lua_pushnumber).
  if (id <= INT32_MAX) lua.lua_pushinteger(L, id);
  else lua.lua_pushnumber(L, id);
}

function pushBytesOrNil(L: LuaState, bytes: Uint8Array | null | undefined): void {
  if (bytes === null || bytes === undefined) lua.lua_pushnil(L);
  else lua.lua_pushlstring(L, bytes, bytes.length);
}

/** lua_tostring on a copy: strings and numbers, else null. */
function valueBytes(L: LuaState, idx: number): Uint8Array | null {
  const t = lua.lua_type(L, idx);
  if (t !== lua.LUA_TSTRING && t !== lua.LUA_TNUMBER) return null;
  lua.lua_pushvalue(L, idx);
  const bytes = lua.lua_tolstring(L, -1);
  lua.lua_pop(L, 1);
  return bytes === null ? null : new Uint8Array(bytes);
}

interface Invocation {
  status: Status;
  error?: string;
}

export class LuaRuntime extends ScriptRuntimeBase {
  private L: LuaState | undefined;
  private used = 0;
  private exceeded: 'instructions' | 'memory' | undefined;
  private overMemory = false;
  private instructionLimit = 50_000_000;

  private readonly hook: LuaHook = (L1) => {
    const step = lua.lua_gethookcount(L1);
    this.used += step;
    if (!this.exceeded) {
      if (this.used > this.instructionLimit) this.exceeded = 'instructions';
      else if (step >= HOOK_STEP && this.overMemoryLimit()) this.exceeded = 'memory';
    }
    if (this.exceeded) {
      // From now on every instruction fails, so pcall loops in the script cannot swallow it.
      if (step !== 1) lua.lua_sethook(L1, this.hook, lua.LUA_MASKCOUNT, 1);
      lauxlib.luaL_error(L1, to_luastring(this.exceeded === 'memory' ? 'memory limit exceeded' : `instruction limit exceeded (${this.instructionLimit})`));
    } else if (step !== this.hookStep()) {
      lua.lua_sethook(L1, this.hook, lua.LUA_MASKCOUNT, this.hookStep());
    }
  };

  private hookStep(): number {
    return Math.min(HOOK_STEP, this.instructionLimit);
  }

  /** Over the limit even after a full GC; remembered for this task's report. */
  private overMemoryLimit(): boolean {
    if (!this.memory.check().overMemory) return false;
    this.overMemory = true;
    return true;
  }

  load(task: LoadTask): TaskOutcome {
    const calls = this.beginLoad(task);
    this.instructionLimit = task.instructionLimit;
    const folders = [dirname(task.scriptPath), ...(task.modulesPath ? [task.modulesPath] : [])];
    const L = createEnvironment({
      packagePath: folders.map((folder) => `${folder}/?.lua`).join(';'),
      memoryLimitBytes: this.memory.limitBytes,
      print: (text) => {
        if (this.logLevel >= LOG_INFO) this.out.push({ log: { level: LOG_INFO, text } });
      },
    });
    lua.lua_atnativeerror(L, (L1) => {
      const e = lua.lua_touserdata(L1, 1);
      lua.lua_pushstring(L1, `native error: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    });
    registerHostFunctions(L, {
      sessions: this.sessions,
      recordingAllowed: recordingCheck(task),
      eventsEnabled: task.eventsEnabled,
      logLevel: task.logLevel,
      emit: (call) => this.out.push(call),
      poke: () => {
        this.pokes++;
      },
    });
    lua.lua_sethook(L, this.hook, lua.LUA_MASKCOUNT, this.hookStep());
    // The message handler (traceback) stays at stack index 1 for every pcall.
    lua.lua_settop(L, 0);
    lua.lua_pushjsfunction(L, (L1) => {
      const message = lua.lua_type(L1, 1) === lua.LUA_TSTRING ? lua.lua_tolstring(L1, 1) : lauxlib.luaL_tolstring(L1, 1);
      lauxlib.luaL_traceback(L1, L1, message, 1);
      return 1;
    });
    this.L = L;

    const failed = (error: string): TaskOutcome => {
      this.L = undefined;
      return { status: Status.LOAD_FAILED, error, calls };
    };
    // Run the script file.
    if (lauxlib.luaL_loadfilex(L, to_luastring(task.scriptPath), to_luastring('t')) !== lua.LUA_OK) {
      return failed(`cannot load ${task.scriptPath}: ${lua.lua_tojsstring(L, -1)}`);
    }
    lua.lua_setglobal(L, '__luasfu_main');
    const main = this.invoke('__luasfu_main', () => 0, 0);
    lua.lua_pushnil(L);
    lua.lua_setglobal(L, '__luasfu_main');
    if (main.status !== Status.OK) return failed(`error running ${task.scriptPath}: ${main.error ?? 'unknown error'}`);
    // Mandatory callbacks, then the optional ones, detected once.
    const missing = this.findCallbacks(task.scriptPath, (name) => this.isFunction(name));
    if (missing) return failed(missing);
    // init(config)
    const init = this.invoke('init', (L1) => {
      pushBytesOrNil(L1, task.config);
      return 1;
    }, 0);
    if (init.status !== Status.OK) return failed(`init failed: ${init.error ?? 'unknown error'}`);
    return this.loaded(calls, this.readInfo());
  }

  /** As the base, but an over-limit reading the hook confirmed during the task counts too. */
  protected override memoryReport(): { memoryBytes: number; overMemory: boolean } {
    const memoryBytes = memoryInUse();
    const over = this.overMemory || (memoryBytes > this.memory.limitBytes && this.overMemoryLimit());
    return { memoryBytes, overMemory: over };
  }

  private isFunction(name: string): boolean {
    const L = this.L as LuaState;
    const type = lua.lua_getglobal(L, name);
    lua.lua_pop(L, 1);
    return type === lua.LUA_TFUNCTION;
  }

  private readInfo(): ScriptInfoMessage {
    const info: ScriptInfoMessage = { ...LUA_PLUGIN_INFO };
    const text = (name: string): string | undefined => {
      if (!this.hooks.has(name)) return undefined;
      let value: string | undefined;
      this.invoke(name, () => 0, 1, (L) => {
        const bytes = valueBytes(L, -1);
        if (bytes !== null) value = Buffer.from(bytes).toString('utf8');
      });
      return value;
    };
    if (this.hooks.has('getVersion')) {
      this.invoke('getVersion', () => 0, 1, (L) => {
        const n = lua.lua_tonumberx(L, -1);
        if (n !== false) info.version = Math.trunc(n);
      });
    }
    readInfoTexts(info, text);
    return info;
  }

  /**
   * Calls global `name` with the arguments `pushArgs` pushes, under a fresh instruction
   * budget. `read` sees the results (at -nresults..-1) before they are popped.
   */
  private invoke(name: string, pushArgs: (L: LuaState) => number, nresults: number, read?: (L: LuaState) => void): Invocation {
    const L = this.L;
    if (!L) return { status: Status.NOT_LOADED, error: 'no script loaded' };
    const base = lua.lua_gettop(L);
    if (lua.lua_getglobal(L, name) !== lua.LUA_TFUNCTION) {
      lua.lua_settop(L, base);
      return { status: Status.NO_CALLBACK };
    }
    const nargs = pushArgs(L);
    this.used = 0;
    this.exceeded = undefined;
    const rc = lua.lua_pcall(L, nargs, nresults, 1);
    let result: Invocation;
    if (rc === lua.LUA_OK) {
      read?.(L);
      result = { status: Status.OK };
    } else {
      const error = lua.lua_type(L, -1) === lua.LUA_TSTRING ? lua.lua_tojsstring(L, -1) : 'error object is not a string';
      result = { status: this.exceeded ? Status.LIMIT_EXCEEDED : Status.SCRIPT_ERROR, error };
    }
    lua.lua_settop(L, base);
    // Threads that hit the limit keep a count-1 hook; the main state gets its normal step back.
    lua.lua_sethook(L, this.hook, lua.LUA_MASKCOUNT, this.hookStep());
    return result;
  }

  protected resume(): void {
    const r = this.invoke('resumeScheduler', () => 0, 0);
    if (r.status !== Status.OK) {
      this.out.push({ log: { level: 2, text: new TextEncoder().encode(`resumeScheduler failed: ${r.error ?? ''}`) } });
    }
  }

  call(task: CallTask): TaskOutcome {
    if (!this.L) return { status: Status.NOT_LOADED, error: 'no script loaded in this worker' };
    const calls = this.beginTask();
    this.overMemory = false;
    const id = task.session ?? 0;
    const withId = (extra?: (L: LuaState) => number) => (L: LuaState): number => {
      pushId(L, id);
      return 1 + (extra ? extra(L) : 0);
    };
    let outcome: TaskOutcome;
    let resumeInto: HostCall[] | undefined;
    let pending = 0;
    switch (task.callback) {
      case Callback.CREATE_SESSION: {
        this.sessions.create(id);
        outcome = this.simple(this.invoke('createSession', withId(), 0));
        if (outcome.status !== Status.OK) this.sessions.remove(id);
        break;
      }
      case Callback.DESTROY_SESSION:
        outcome = this.simple(this.invoke('destroySession', withId(), 0));
        this.sessions.remove(id);
        break;
      case Callback.SETUP_MEDIA:
        outcome = this.simple(this.invoke('setupMedia', withId(), 0));
        break;
      case Callback.HANGUP_MEDIA:
        this.sessions.setDataReady(id, false);
        outcome = this.simple(this.invoke('hangupMedia', withId(), 0));
        break;
      case Callback.DATA_READY:
        this.sessions.setDataReady(id, true);
        outcome = this.optional('dataReady', withId());
        break;
      case Callback.QUERY_SESSION: {
        let json: Uint8Array | null = null;
        outcome = this.simple(this.invoke('querySession', withId(), 1, (L) => {
          json = lua.lua_type(L, -1) === lua.LUA_TSTRING ? valueBytes(L, -1) : null;
        }));
        outcome.json = json;
        break;
      }
      case Callback.HANDLE_MESSAGE: {
        let code = 0;
        let text: Uint8Array | null = null;
        outcome = this.simple(this.invoke('handleMessage', withId((L) => {
          lua.lua_pushstring(L, task.transaction ?? '');
          pushBytesOrNil(L, task.message);
          pushBytesOrNil(L, task.jsep);
          return 3;
        }), 2, (L) => {
          const n = lua.lua_tonumberx(L, -2);
          code = n === false ? 0 : Math.trunc(n);
          text = valueBytes(L, -1);
        }));
        outcome.code = code;
        outcome.text = text;
        break;
      }
      case Callback.HANDLE_ADMIN_MESSAGE: {
        let json: Uint8Array | null = null;
        outcome = this.optional('handleAdminMessage', (L) => {
          pushBytesOrNil(L, task.message);
          return 1;
        }, 1, (L) => {
          json = lua.lua_type(L, -1) === lua.LUA_TSTRING ? valueBytes(L, -1) : null;
        });
        outcome.json = json;
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
        outcome = this.optional(task.callback === Callback.INCOMING_RTP ? 'incomingRtp' : 'incomingRtcp', withId((L) => {
          lua.lua_pushboolean(L, task.flagA ?? false);
          lua.lua_pushlstring(L, payload, payload.length);
          lua.lua_pushinteger(L, payload.length);
          return 3;
        }));
        break;
      }
      case Callback.INCOMING_TEXT_DATA:
      case Callback.INCOMING_BINARY_DATA: {
        const payload = task.payload ?? new Uint8Array(0);
        let name: string = task.callback === Callback.INCOMING_TEXT_DATA ? 'incomingTextData' : 'incomingBinaryData';
        if (name === 'incomingTextData' && !this.hooks.has(name)) name = 'incomingData';
        outcome = this.optional(name, withId((L) => {
          lua.lua_pushlstring(L, payload, payload.length);
          lua.lua_pushinteger(L, payload.length);
          lua.lua_pushstring(L, task.label ?? '');
          lua.lua_pushstring(L, task.protocol ?? '');
          return 4;
        }));
        break;
      }
      case Callback.SLOW_LINK:
        outcome = this.optional('slowLink', withId((L) => {
          lua.lua_pushboolean(L, task.flagA ?? false);
          lua.lua_pushboolean(L, task.flagB ?? false);
          return 2;
        }));
        break;
      case Callback.SUBSTREAM_CHANGED:
        outcome = this.optional('substreamChanged', withId((L) => {
          lua.lua_pushinteger(L, task.number ?? 0);
          return 1;
        }));
        break;
      case Callback.TEMPORAL_LAYER_CHANGED:
        // Janus 1.1.2 gates this on substreamChanged being defined too.
        outcome = this.hooks.has('substreamChanged')
          ? this.optional('temporalLayerChanged', withId((L) => {
              lua.lua_pushinteger(L, task.number ?? 0);
              return 1;
            }))
          : { status: Status.NO_CALLBACK };
        break;
      case Callback.TIMER: {
        const fname = task.functionName ?? '';
        // Looked up at fire time: any global function with that name.
        outcome = this.simple(this.invoke(fname, (L) => {
          if (task.argument === null || task.argument === undefined) return 0;
          lua.lua_pushlstring(L, task.argument, task.argument.length);
          return 1;
        }, 0));
        if (outcome.status === Status.NO_CALLBACK) outcome = { status: Status.SCRIPT_ERROR, error: `timeCallback: no global function '${fname}'` };
        break;
      }
      case Callback.DESTROY:
        outcome = this.simple(this.invoke('destroy', () => 0, 0));
        break;
      default:
        outcome = { status: Status.SCRIPT_ERROR, error: `unknown callback ${String(task.callback)}` };
    }
    return this.endCall(outcome, calls, pending, resumeInto);
  }

  private simple(invocation: Invocation): TaskOutcome {
    return { status: invocation.status, error: invocation.error };
  }

  private optional(name: string, pushArgs: (L: LuaState) => number, nresults = 0, read?: (L: LuaState) => void): TaskOutcome {
    if (!this.hooks.has(name)) return { status: Status.NO_CALLBACK };
    return this.simple(this.invoke(name, pushArgs, nresults, read));
  }
}
