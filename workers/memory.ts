// The memory watchdog both script runtimes share: the worker's heap in use, and a limit check
// that confirms an over-limit reading with a full GC before calling it live memory.

import * as v8 from 'node:v8';
import * as vm from 'node:vm';

/** A full GC when available: confirms an over-limit reading is live memory, not garbage. */
const forceGc: (() => void) | undefined = (() => {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    return typeof gc === 'function' ? () => (gc as () => void)() : undefined;
  } catch {
    return undefined;
  }
})();

/** Bytes of the worker's V8 heap in use, plus external memory. */
export function memoryInUse(): number {
  const stats = v8.getHeapStatistics() as v8.HeapInfo & { external_memory?: number };
  return stats.used_heap_size + (stats.external_memory ?? 0);
}

/** The heap in use, and whether it is over the limit (the last Result of every task carries it). */
export interface MemoryReport {
  memoryBytes: number;
  overMemory: boolean;
}

/** The shortest time between two forced GCs, to avoid thrashing. */
const GC_INTERVAL_MS = 100;

/** A memory limit on the worker heap, checked against live memory. */
export class MemoryLimit {
  limitBytes = 256 * 1024 * 1024;
  private lastGc = 0;

  /**
   * During a task (the Lua hook, every few thousand instructions): the memory in use, and
   * whether it is over the limit even after a full GC (at most one forced GC per 100 ms:
   * within that, an over-limit reading does not count yet).
   */
  check(): MemoryReport {
    return this.measure(true);
  }

  /**
   * After a task, once: an over-limit reading is always confirmed with a full GC. Throttled
   * like check(), a script that went over within 100 ms of a GC forced mid-task went
   * unnoticed until its next task, which may never come.
   */
  checkAfterTask(): MemoryReport {
    return this.measure(false);
  }

  private measure(throttled: boolean): MemoryReport {
    let memoryBytes = memoryInUse();
    if (memoryBytes <= this.limitBytes) return { memoryBytes, overMemory: false };
    if (forceGc) {
      const now = performance.now();
      if (throttled && now - this.lastGc < GC_INTERVAL_MS) return { memoryBytes, overMemory: false };
      this.lastGc = now;
      forceGc();
      memoryBytes = memoryInUse();
    }
    return { memoryBytes, overMemory: memoryBytes > this.limitBytes };
  }
}
