// What a script runtime (Lua in Fengari, or JavaScript in node:vm) offers the worker entry:
// load a script, then run callbacks. Each returns the Result fields of one task.

import type { CallTask, LoadTask, Result } from '../src/script/bridge';

export type TaskOutcome = Result;

export interface ScriptRuntime {
  load(task: LoadTask): TaskOutcome;
  call(task: CallTask): TaskOutcome;
}
