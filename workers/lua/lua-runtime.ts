// A Janus Lua plugin script running in Fengari (docs/contract.md §2, §4): loads the script the
// way janus_lua.c does, checks the mandatory callbacks, detects the optional ones once, and
// runs callbacks (the table in ../runtime.ts) under an instruction budget and a memory
// watchdog. Pokes are served right after the task that made them (bounded rounds), their
// host calls returned separately so the host can send the reply first.

import { dirname } from 'node:path';
import { lua, lauxlib, to_luastring, type LuaState, type LuaHook } from 'fengari';
import { LUA_PLUGIN_INFO } from '../../src/common/identity';
import { Status, type LoadTask, type ScriptInfoMessage } from '../../src/common/bridge';
import { memoryInUse, type MemoryReport } from '../memory';
import {
  ScriptRuntimeBase, readInfoTexts, type Invoked, type InvokedSpec, type ScriptArg, type TaskOutcome,
} from '../runtime';
import { recordingCheck } from '../recording-check';
import { HOOK_STEP, createEnvironment, pushMessageHandler } from './lua-libs';
import { registerHostFunctions } from './host-functions';
import { LuaWarmUp } from './warm-up';

const INT32_MAX = 2147483647;
const LOG_INFO = 4;
/** Callback and timer names getGlobal keeps as Lua strings. */
const MAX_NAME_REFS = 64;

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

/** A callback argument as janus_lua.c pushes it. */
function pushArg(L: LuaState, arg: ScriptArg): void {
  switch (arg.kind) {
    case 'id': pushId(L, arg.value); break;
    case 'string': lua.lua_pushstring(L, arg.value); break;
    case 'text': pushBytesOrNil(L, arg.value); break;
    case 'bytes': lua.lua_pushlstring(L, arg.value, arg.value.length); break;
    case 'boolean': lua.lua_pushboolean(L, arg.value); break;
    case 'integer': lua.lua_pushinteger(L, arg.value); break;
  }
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
  /** Fengari and our modules warmed up between tasks after the load (./warm-up.ts). */
  private warmUp: LuaWarmUp | undefined;
  /** Registry refs of callback names as Lua strings (getGlobal). */
  private readonly nameRefs = new Map<string, number>();

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

  /** Over the limit even after a full GC; remembered until the task's report. */
  private overMemoryLimit(): boolean {
    if (!this.memory.check().overMemory) return false;
    this.overMemory = true;
    return true;
  }

  override warmUpStep(): boolean {
    if (this.warmUp?.step()) return true;
    this.warmUp = undefined;
    return false;
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
      hook: { fn: this.hook, count: this.hookStep() },
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
    // The message handler (traceback) stays at stack index 1 for every pcall.
    pushMessageHandler(L);
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
    if (task.warmUp) this.warmUp = new LuaWarmUp();
    return this.loaded(calls, this.readInfo());
  }

  /**
   * As the base, but an over-limit reading the hook confirmed during the task counts too (and
   * is forgotten once reported: the next task starts clean).
   */
  override memoryReport(): MemoryReport {
    const memoryBytes = memoryInUse();
    const over = this.overMemory || (memoryBytes > this.memory.limitBytes && this.memory.checkAfterTask().overMemory);
    this.overMemory = false;
    return { memoryBytes, overMemory: over };
  }

  private isFunction(name: string): boolean {
    const L = this.L as LuaState;
    const type = this.getGlobal(L, name);
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
    if (this.getGlobal(L, name) !== lua.LUA_TFUNCTION) {
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

  /**
   * lua_getglobal(L, name) (metamethods of _G included), with the name pushed from a Lua string
   * made once per callback name: lua_getglobal makes a new one per call, which the lookup then
   * hashes afresh (a few % of an API message on the script thread).
   */
  private getGlobal(L: LuaState, name: string): number {
    let ref = this.nameRefs.get(name);
    if (ref === undefined) {
      // Timer names come from the script: only the first few dozen names are kept.
      if (this.nameRefs.size >= MAX_NAME_REFS) return lua.lua_getglobal(L, name);
      lua.lua_pushstring(L, name);
      ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
      this.nameRefs.set(name, ref);
    }
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
    const type = lua.lua_gettable(L, -2);
    lua.lua_remove(L, -2);
    return type;
  }

  protected resume(): void {
    const r = this.invoke('resumeScheduler', () => 0, 0);
    if (r.status !== Status.OK) {
      this.out.push({ log: { level: 2, text: new TextEncoder().encode(`resumeScheduler failed: ${r.error ?? ''}`) } });
    }
  }

  protected hasScript(): boolean {
    return this.L !== undefined;
  }

  protected invokeCallback(name: string, args: ScriptArg[], spec: InvokedSpec): Invoked {
    const { result } = spec;
    let code = 0;
    let text: Uint8Array | null = null;
    let json: Uint8Array | null = null;
    const nresults = result === 'message' ? 2 : result === 'json' ? 1 : 0;
    const invocation = this.invoke(name, (L) => {
      for (const arg of args) pushArg(L, arg);
      return args.length;
    }, nresults, (L) => {
      if (result === 'message') {
        // (code, text): janus_lua.c always collects two results.
        const n = lua.lua_tonumberx(L, -2);
        code = n === false ? 0 : Math.trunc(n);
        text = valueBytes(L, -1);
      } else if (result === 'json') {
        json = lua.lua_type(L, -1) === lua.LUA_TSTRING ? valueBytes(L, -1) : null;
      }
    });
    const outcome: Invoked = { status: invocation.status, error: invocation.error };
    if (invocation.status === Status.NO_CALLBACK) outcome.missing = true;
    if (result === 'message') {
      outcome.code = code;
      outcome.text = text;
    } else if (result === 'json') {
      outcome.json = json;
    }
    return outcome;
  }
}
