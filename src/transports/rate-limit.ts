// Per-connection request budget: a fixed one-second window. A connection that goes over
// it is closed by its transport (a flood must not starve other sessions).

export class RequestRateLimiter {
  private windowStart = 0;
  private count = 0;

  constructor(
    private readonly maxPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Counts one request; false once the budget of the current second is exceeded. */
  hit(): boolean {
    const now = this.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.count = 0;
    }
    this.count++;
    return this.count <= this.maxPerSecond;
  }
}
