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

/** The same budget per key (the HTTP transport keys by remote address). Bounded memory. */
export class KeyedRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly maxPerSecond: number,
    private readonly maxKeys = 4096,
    private readonly now: () => number = () => performance.now(),
  ) {}

  hit(key: string): boolean {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= 1000) {
      if (!window && this.windows.size >= this.maxKeys) this.prune(now);
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    return window.count <= this.maxPerSecond;
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.start >= 1000) this.windows.delete(key);
    }
    // Still full of live windows: forget the oldest rather than grow without bound.
    while (this.windows.size >= this.maxKeys) {
      const oldest = this.windows.keys().next().value as string;
      this.windows.delete(oldest);
    }
  }
}
