// Entry of a script worker: one thread per script, one runtime per thread. Every task is a
// protobuf-encoded Task (a load, or a batch of callbacks run in order); every answer a Reply
// carrying this thread's instance id, so the host notices a thread that is not the one it
// loaded the script in. Run by piscina (src/script/pool.ts), it serves tasks from the port
// the pool hands it; `handle` is also exported to run tasks in process (measurements).

import { randomBytes } from 'node:crypto';
import { decodeTask, encodeReply, Status, type CallMessage, type Result, type TaskPort } from '../src/common/bridge';
import type { ScriptRuntime } from './runtime';
import { LuaRuntime } from './lua/lua-runtime';
import { JsRuntime } from './js/js-runtime';

const instance = randomBytes(8).toString('hex');
let runtime: ScriptRuntime | undefined;

function createRuntime(kind: string): ScriptRuntime | undefined {
  if (kind === 'lua') return new LuaRuntime();
  if (kind === 'js') return new JsRuntime();
  return undefined;
}

function guarded(run: () => Result): Result {
  try {
    return run();
  } catch (error) {
    // A bug on our side, not the script's: report it, keep the thread.
    return { status: Status.SCRIPT_ERROR, error: `worker error: ${error instanceof Error ? error.stack ?? error.message : String(error)}` };
  }
}

function runCall(call: CallMessage): Result {
  if (!runtime) return { status: Status.NOT_LOADED, error: 'no script loaded in this worker' };
  const current = runtime;
  return guarded(() => current.call(call));
}

/** Runs one Task (its protobuf bytes) and answers its Reply (bytes). */
export function handle(bytes: Uint8Array): Uint8Array {
  const task = decodeTask(bytes);
  let results: Result[];
  if (task.load) {
    const load = task.load;
    results = [guarded(() => {
      if (runtime) return { status: Status.LOAD_FAILED, error: 'a script is already loaded in this worker' };
      const created = createRuntime(load.runtime);
      if (!created) return { status: Status.LOAD_FAILED, error: `unknown script runtime '${load.runtime}'` };
      const outcome = created.load(load);
      if (outcome.status === Status.OK) runtime = created;
      return outcome;
    })];
  } else {
    results = (task.calls ?? []).map(runCall);
  }
  // Memory is checked once per task, after its calls: the last result carries the report.
  const last = results[results.length - 1];
  if (runtime && last) Object.assign(last, runtime.memoryReport());
  return encodeReply({ instance, seq: task.seq, results });
}

let warmUpStarted = false;

/**
 * Once a script is loaded, its runtime's warm-up steps run between tasks: setImmediate runs
 * after the event loop's poll phase, so a task that arrives waits for one step at most.
 */
function warmUpBetweenTasks(): void {
  if (warmUpStarted || !runtime) return;
  warmUpStarted = true;
  const loaded = runtime;
  // A step ends the warm-up on its own failure (LuaWarmUp.step catches it), never throws.
  const next = (): void => {
    if (loaded.warmUpStep()) setImmediate(next);
  };
  setImmediate(next);
}

/**
 * piscina's entry: the pool's one task hands over the task port; from then on every Task
 * that comes over it is answered on it, in order (a throw with its text). `handle` alone (in
 * process) does not warm up: measurements stay what they were.
 */
export default function serve({ taskPort }: TaskPort): null {
  taskPort.on('message', (bytes: Uint8Array) => {
    let answer: Uint8Array | string;
    try {
      answer = handle(bytes);
    } catch (error) {
      answer = `script worker: ${error instanceof Error ? error.message : String(error)}`;
    }
    // encodeReply's bytes fill their own ArrayBuffer: moved, not copied.
    if (typeof answer === 'string') taskPort.postMessage(answer);
    else taskPort.postMessage(answer, [answer.buffer as ArrayBuffer]);
    warmUpBetweenTasks();
  });
  return null;
}
