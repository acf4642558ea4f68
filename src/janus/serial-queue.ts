// Runs async tasks one at a time, in submission order: the core serialises every plugin
// callback for one handle this way (createSession -> handleMessage... -> hangupMedia ->
// destroySession), whatever the plugin does inside.

export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  /** Tasks queued or running. */
  get size(): number {
    return this.pending;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(task);
    // The chain continues whether the task resolved or rejected.
    this.tail = result.then(
      () => { this.pending--; },
      () => { this.pending--; },
    );
    return result;
  }

  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void> {
    return this.tail;
  }
}

/** Monotonic clock in milliseconds (session activity, timeouts). */
export function monotonicMs(): number {
  return performance.now();
}

/** Monotonic clock in microseconds, as Janus reports times in handle_info. */
export function monotonicMicros(): number {
  return Math.round(performance.now() * 1000);
}

/** Resolves with true when `promise` settles within `ms`, false otherwise. */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref?.();
    promise.then(
      () => { clearTimeout(timer); resolve(true); },
      () => { clearTimeout(timer); resolve(true); },
    );
  });
}
