// piscina entry of a script worker: one thread per script, one runtime per thread. Every
// task is a protobuf-encoded Task; every answer a Result carrying this thread's instance id,
// so the host notices when piscina replaced a dead thread (its script state is gone).

import { randomBytes } from 'node:crypto';
import { decodeTask, encodeResult, Status, type Result, type Task } from '../src/script/bridge';
import type { ScriptRuntime, TaskOutcome } from './runtime';
import { LuaRuntime } from './lua/lua-runtime';

const instance = randomBytes(8).toString('hex');
let runtime: ScriptRuntime | undefined;

function createRuntime(kind: string): ScriptRuntime | undefined {
  if (kind === 'lua') return new LuaRuntime();
  return undefined;
}

function run(task: Task): TaskOutcome {
  if (task.load) {
    if (runtime) return { status: Status.LOAD_FAILED, error: 'a script is already loaded in this worker' };
    const created = createRuntime(task.load.runtime);
    if (!created) return { status: Status.LOAD_FAILED, error: `unknown script runtime '${task.load.runtime}'` };
    const outcome = created.load(task.load);
    if (outcome.status === Status.OK) runtime = created;
    return outcome;
  }
  if (!task.call) return { status: Status.SCRIPT_ERROR, error: 'empty task' };
  if (!runtime) return { status: Status.NOT_LOADED, error: 'no script loaded in this worker' };
  return runtime.call(task.call);
}

export default function handle(bytes: Uint8Array): Uint8Array {
  let outcome: TaskOutcome;
  let seq = 0;
  try {
    const task = decodeTask(bytes);
    seq = task.seq;
    outcome = run(task);
  } catch (error) {
    // A bug on our side, not the script's: report it, keep the thread.
    outcome = { status: Status.SCRIPT_ERROR, error: `worker error: ${error instanceof Error ? error.stack ?? error.message : String(error)}` };
  }
  const result: Result = { ...outcome, instance, seq };
  return encodeResult(result);
}
