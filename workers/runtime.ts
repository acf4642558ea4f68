// What a script runtime (Lua in Fengari, or JavaScript in node:vm) offers the worker entry:
// load a script, then run callbacks. Each returns the Result fields of one task.

import type { CallTask, LoadTask, Result } from '../src/script/bridge';

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
