// The realm a JavaScript plugin script runs in: a node:vm context with the Duktape plugin's
// globals (docs/contract.md §6): the host functions, Duktape = {modLoaded, modSearch},
// Duktape-style require(), console, readFile, getModulesFolder, getDuktapeVersion,
// testExtraFunction. Nothing of Node is reachable from it.
//
// Realm hygiene: every object the script can touch is created inside the context by the
// bootstrap below. The worker's functions (hostCall, hostLog, compile) stay in the
// bootstrap's strict-mode closure, receive only primitives or context objects, and write
// their outcomes as primitives into a null-prototype box; the in-context wrapper then throws
// an Error/TypeError of the script's own realm. A worker-realm object reaching the script
// would hand it the worker's Function constructor (and so `process`).
//
// Callbacks run through one precompiled script (`__luasfuRun()`) with the vm `timeout`, so a
// runaway callback is terminated (uncatchable by the script). `microtaskMode: afterEvaluate`
// keeps promise jobs inside that limit too.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vm from 'node:vm';
import { types } from 'node:util';
import type { HostArgs, HostFunction, HostOutcome } from './js-host-functions';
import { DUKTAPE_VERSION } from './js-host-functions';

const BOOTSTRAP = `(function (hostCall, hostLog, compile, findModule, names, duktapeVersion) {
  'use strict';
  var G = globalThis;
  var ErrorCtor = Error, TypeErrorCtor = TypeError, SyntaxErrorCtor = SyntaxError, StringCtor = String;
  var apply = Reflect.apply, defineProperty = Object.defineProperty, hasOwn = Object.prototype.hasOwnProperty;
  var stringify = JSON.stringify;
  // Duktape has none of these; Atomics.wait could block the worker thread beyond the limit.
  delete G.Atomics; delete G.SharedArrayBuffer; delete G.WebAssembly;

  function newBox() { return { __proto__: null, kind: '', value: undefined, message: '' }; }
  function settle(name, box) {
    if (box.kind === 'value') return box.value;
    if (box.kind === 'TypeError') throw new TypeErrorCtor(box.message);
    if (box.kind === 'SyntaxError') throw new SyntaxErrorCtor(box.message);
    throw new ErrorCtor(box.kind === 'Error' ? box.message : name + ': host call failed');
  }
  function hostFunction(name) {
    return function () {
      var box = newBox();
      try { hostCall(name, box, arguments); } catch (e) { throw new ErrorCtor(name + ': host call failed'); }
      return settle(name, box);
    };
  }
  var list = names.split(',');
  for (var i = 0; i < list.length; i++) G[list[i]] = hostFunction(list[i]);

  // console (Duktape's console extension): objects formatted as JSON, joined by spaces.
  function format(v) {
    if (v !== null && (typeof v === 'object' || typeof v === 'function')) {
      try { var s = stringify(v); if (typeof s === 'string') return s; } catch (e) {}
    }
    try { return StringCtor(v); } catch (e) { return '[unprintable]'; }
  }
  function logger(level) {
    return function () {
      var text = '';
      for (var i = 0; i < arguments.length; i++) text += (i > 0 ? ' ' : '') + format(arguments[i]);
      try { hostLog(level, text); } catch (e) {}
    };
  }
  G.console = { log: logger(4), info: logger(4), warn: logger(3), error: logger(2), debug: logger(7), trace: logger(7) };

  // Duktape's CommonJS loader: Duktape.modSearch(id, require, exports, module) returns the
  // module source (or fills module itself); the source runs as function (require, exports, module).
  // The default modSearch reads <id>.js from the script's folder, then modulesPath; a script
  // may replace it (Janus's scripts do, with readFile + getModulesFolder()).
  var Duktape = {
    version: duktapeVersion,
    modLoaded: {},
    modSearch: function modSearch(id) {
      var box = newBox();
      try { findModule(id, box); } catch (e) { throw new ErrorCtor('require: host call failed'); }
      return settle('require', box);
    },
  };
  G.Duktape = Duktape;
  function resolve(id, base) {
    if (typeof id !== 'string' || id === '') throw new TypeErrorCtor('invalid module id');
    var parts = id.charAt(0) === '.' ? base.split('/').slice(0, -1) : [];
    var terms = id.split('/');
    for (var i = 0; i < terms.length; i++) {
      var t = terms[i];
      if (t === '.') continue;
      if (t === '..') {
        if (parts.length === 0) throw new TypeErrorCtor('cannot resolve module id: ' + id);
        parts.pop();
      } else if (t === '') {
        throw new TypeErrorCtor('cannot resolve module id: ' + id);
      } else {
        parts.push(t);
      }
    }
    return parts.join('/');
  }
  function compileModule(source, id) {
    var box = newBox();
    try { compile(source, id, box); } catch (e) { throw new ErrorCtor('cannot compile module ' + id); }
    return settle('require', box);
  }
  function makeRequire(baseId) {
    var require = function require(id) {
      var resolved = resolve(id, baseId);
      var loaded = Duktape.modLoaded;
      if (loaded !== null && typeof loaded === 'object' && apply(hasOwn, loaded, [resolved])) return loaded[resolved].exports;
      var exports = {};
      var module = { exports: exports, id: resolved };
      var child = makeRequire(resolved);
      loaded[resolved] = module;
      try {
        var search = Duktape.modSearch;
        if (typeof search !== 'function') throw new TypeErrorCtor('module not found: ' + resolved);
        var source = apply(search, Duktape, [resolved, child, exports, module]);
        if (typeof source === 'string') apply(compileModule(source, resolved), exports, [child, exports, module]);
      } catch (e) {
        delete loaded[resolved];
        throw e;
      }
      return module.exports;
    };
    require.id = baseId;
    return require;
  }
  G.require = makeRequire('');

  // Callback invocation: the worker calls prepare(), then runs __luasfuRun() under the limit.
  var pending = { __proto__: null, name: '', args: [] };
  function prepare(name, n, a, b, c, d, e) {
    pending.name = name;
    pending.args = n === 0 ? [] : n === 1 ? [a] : n === 2 ? [a, b] : n === 3 ? [a, b, c] : n === 4 ? [a, b, c, d] : [a, b, c, d, e];
  }
  function describe(e) {
    try { return StringCtor(e); } catch (x) { return 'error (not convertible to a string)'; }
  }
  function stackOf(e) {
    try { if (e !== null && typeof e === 'object' && typeof e.stack === 'string') return e.stack; } catch (x) {}
    return '';
  }
  function run() {
    var result = { __proto__: null, status: 'ok', type: 'undefined', value: undefined, message: '', stack: '' };
    var name = pending.name, args = pending.args;
    pending.args = [];
    var f = G[name];
    if (typeof f !== 'function') {
      result.status = 'missing';
      result.message = name + ' is not a function';
      return result;
    }
    try {
      var r = apply(f, undefined, args);
      result.type = r === null ? 'null' : typeof r;
      if (result.type === 'number' || result.type === 'string') result.value = r;
    } catch (e) {
      result.status = 'error';
      result.message = describe(e);
      result.stack = stackOf(e);
    }
    return result;
  }
  // Non-configurable: a script cannot replace it, and a top-level let/const/class of that name
  // is a SyntaxError.
  defineProperty(G, '__luasfuRun', { value: run, writable: false, enumerable: false, configurable: false });
  return prepare;
})`;

/** A primitive the worker passes to a callback. */
export type CallbackArg = string | number | boolean | null;

export interface Invocation {
  status: 'ok' | 'error' | 'missing' | 'timeout';
  /** typeof the return value ('null' for null). */
  type: string;
  /** The return value when a number or a string. */
  value?: number | string;
  /** String(error) for 'error'; a description otherwise. */
  message: string;
  /** error.stack when there is one. */
  stack: string;
}

export interface SandboxOptions {
  hostFunctions: Record<string, HostFunction>;
  log(level: number, text: string): void;
  /** Wall-clock limit per evaluation / callback, ms. */
  timeLimitMs: number;
  /** Where the default Duktape.modSearch looks for `<id>.js`, in order. */
  moduleFolders: readonly string[];
}

const TIMEOUT_CODE = 'ERR_SCRIPT_EXECUTION_TIMEOUT';
/** startRecording's 13 formal arguments are the most any host function reads. */
const MAX_HOST_ARGS = 13;

/** Reads an own data property without running script code (the object came from the context). */
function own(object: object, key: string): unknown {
  return Object.getOwnPropertyDescriptor(object, key)?.value;
}

/** The vm timeout error (created in the context's realm, so no instanceof). */
function isTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && !types.isProxy(error) && own(error, 'code') === TIMEOUT_CODE;
}

/**
 * "file:line: SyntaxError: message" (or without the name) for a compile error (which may come from either realm):
 * its stack starts with "file:line"; our own frames after it are left out.
 */
function compileErrorText(error: unknown, withName = true): string {
  if (typeof error !== 'object' || error === null || types.isProxy(error)) return 'cannot compile';
  const name = own(error, 'name') ?? own(Object.getPrototypeOf(error) as object, 'name');
  const message = own(error, 'message');
  const stack = own(error, 'stack');
  const text = typeof message === 'string' ? message : 'cannot compile';
  const what = withName ? `${typeof name === 'string' ? name : 'SyntaxError'}: ${text}` : text;
  const where = typeof stack === 'string' ? /^(.*:\d+)\n/.exec(stack)?.[1] : undefined;
  return where ? `${where}: ${what}` : what;
}

/** `<folder>/<id>.js` from the first folder that has it; ids are resolved (no '.', '..' or empty terms). */
function readModule(folders: readonly string[], id: string): string | undefined {
  const terms = id.split('/');
  if (id === '' || terms.some((t) => t === '' || t === '.' || t === '..')) return undefined;
  for (const folder of folders) {
    try {
      return readFileSync(join(folder, `${id}.js`), 'utf8');
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

export class JsSandbox {
  readonly context: vm.Context;
  private readonly prepare: (name: string, n: number, ...args: CallbackArg[]) => void;
  private readonly runner = new vm.Script('__luasfuRun()', { filename: 'luasfu:invoke' });
  private readonly timeLimitMs: number;

  constructor(options: SandboxOptions) {
    this.timeLimitMs = options.timeLimitMs;
    // A null-prototype sandbox: with `{}` the global would inherit our Object.prototype, and
    // `this.constructor.constructor('return process')()` would escape.
    this.context = vm.createContext(Object.create(null) as object, {
      name: 'luasfu script',
      microtaskMode: 'afterEvaluate',
      // No WebAssembly compilation from strings/bytes; eval/Function stay (Duktape has them).
      codeGeneration: { strings: true, wasm: false },
    });
    const functions = new Map(Object.entries(options.hostFunctions));
    const hostCall = (name: unknown, box: Record<string, unknown>, args: HostArgs): void => {
      const fn = typeof name === 'string' ? functions.get(name) : undefined;
      let outcome: HostOutcome = { kind: 'Error', message: `${String(name)}: host call failed` };
      // Only the arguments actually passed (own data properties): reading past them could run
      // a getter the script put on Object.prototype while we are on the stack.
      const list: unknown[] = [];
      const count = Math.min(typeof args.length === 'number' ? args.length : 0, MAX_HOST_ARGS);
      for (let i = 0; i < count; i++) list.push(args[i]);
      try {
        if (fn) outcome = fn(list);
      } catch (error) {
        // Our bug, not the script's: logged here; the script sees a plain Error.
        options.log(2, `host function ${String(name)} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      }
      box.kind = outcome.kind;
      if (outcome.kind === 'value') box.value = outcome.value;
      else box.message = outcome.message;
    };
    const hostLog = (level: unknown, text: unknown): void => {
      if (typeof level === 'number' && typeof text === 'string') options.log(level, text);
    };
    const compile = (source: unknown, id: unknown, box: Record<string, unknown>): void => {
      if (typeof source !== 'string' || typeof id !== 'string') {
        box.kind = 'TypeError';
        box.message = 'module source must be a string';
        return;
      }
      try {
        box.value = vm.compileFunction(source, ['require', 'exports', 'module'], { parsingContext: this.context, filename: `${id}.js` });
        box.kind = 'value';
      } catch (error) {
        box.kind = 'SyntaxError';
        box.message = compileErrorText(error, false); // thrown as a SyntaxError of the script's realm
      }
    };
    const findModule = (id: unknown, box: Record<string, unknown>): void => {
      const source = typeof id === 'string' ? readModule(options.moduleFolders, id) : undefined;
      if (source === undefined) {
        box.kind = 'TypeError';
        box.message = `module not found: ${String(id)}`;
      } else {
        box.kind = 'value';
        box.value = source;
      }
    };
    const factory = new vm.Script(BOOTSTRAP, { filename: 'luasfu:bootstrap' }).runInContext(this.context) as (...args: unknown[]) => unknown;
    this.prepare = factory(hostCall, hostLog, compile, findModule, [...functions.keys()].join(','), DUKTAPE_VERSION) as typeof this.prepare;
  }

  /** Evaluates the script file's text as a classic sloppy-mode script (globals stay). */
  evaluate(source: string, filename: string): Invocation {
    let script: vm.Script;
    try {
      script = new vm.Script(source, { filename });
    } catch (error) {
      return { status: 'error', type: 'undefined', message: compileErrorText(error), stack: '' };
    }
    try {
      script.runInContext(this.context, { timeout: this.timeLimitMs });
      return { status: 'ok', type: 'undefined', message: '', stack: '' };
    } catch (error) {
      if (isTimeout(error)) return this.timedOut();
      // Thrown by the script: an object of its realm; describe it inside the limit.
      return this.describeThrown(error);
    }
  }

  /** Calls global `name` with `args` under the time limit. */
  call(name: string, args: CallbackArg[]): Invocation {
    this.prepare(name, args.length, ...args);
    let result: unknown;
    try {
      result = this.runner.runInContext(this.context, { timeout: this.timeLimitMs });
    } catch (error) {
      if (isTimeout(error)) return this.timedOut();
      return { status: 'error', type: 'undefined', message: `invocation failed: ${error instanceof Error ? error.message : 'unknown error'}`, stack: '' };
    }
    // run() returns a null-prototype object of its own; anything else means tampering.
    if (typeof result !== 'object' || result === null || types.isProxy(result)) {
      return { status: 'error', type: 'undefined', message: 'invocation failed: unexpected result', stack: '' };
    }
    const status = own(result, 'status');
    const value = own(result, 'value');
    return {
      status: status === 'ok' || status === 'error' || status === 'missing' ? status : 'error',
      type: String(own(result, 'type')),
      value: typeof value === 'number' || typeof value === 'string' ? value : undefined,
      message: String(own(result, 'message')),
      stack: String(own(result, 'stack')),
    };
  }

  /** Whether global `name` is a function now (no script code runs: a getter counts as "no"). */
  isFunction(name: string): boolean {
    const descriptor = Object.getOwnPropertyDescriptor(this.context, name);
    return descriptor !== undefined && 'value' in descriptor && typeof descriptor.value === 'function';
  }

  private timedOut(): Invocation {
    return { status: 'timeout', type: 'undefined', message: `execution time limit exceeded (${this.timeLimitMs} ms)`, stack: '' };
  }

  /**
   * A value the script threw at top level. Only own data properties are read (no getters,
   * no toString): nothing of the script runs outside the limit, nothing of ours leaks in.
   */
  private describeThrown(thrown: unknown): Invocation {
    const failed = (message: string, stack = ''): Invocation => ({ status: 'error', type: 'undefined', message, stack });
    if (typeof thrown !== 'object' || thrown === null) return failed(typeof thrown === 'function' ? 'a function was thrown' : String(thrown));
    if (types.isProxy(thrown)) return failed('a proxy was thrown');
    const message = own(thrown, 'message');
    const stack = own(thrown, 'stack');
    return failed(typeof message === 'string' ? message : 'an object was thrown', typeof stack === 'string' ? stack : '');
  }
}
