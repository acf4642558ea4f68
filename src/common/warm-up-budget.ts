// The bounds both warm-ups run in (the script thread's LuaWarmUp, workers/lua/warm-up.ts, and
// the main thread's SdpWarmUp, src/media/sdp/warm-up.ts, both built on this class): at most so
// many counted steps, at most so much time spent in them, and the first failure (a bug of
// ours) ends it.

export class WarmUpBudget {
  private steps = 0;
  private spentMs = 0;
  /** Why it stopped early, or undefined. */
  failure: string | undefined;

  constructor(private readonly maxSteps: number, private readonly budgetMs: number) {}

  /** Steps counted so far. */
  get done(): number {
    return this.steps;
  }

  /** Out of steps or time, or failed: no more steps. */
  protected get over(): boolean {
    return this.failure !== undefined || this.steps >= this.maxSteps || this.spentMs >= this.budgetMs;
  }

  /** Runs one step, timed; `step` says whether it counts. A throw is kept as the failure. */
  protected run(step: () => boolean): void {
    const started = performance.now();
    try {
      if (step()) this.steps++;
    } catch (error) {
      this.failure = error instanceof Error ? error.message : String(error);
    }
    this.spentMs += performance.now() - started;
  }
}
