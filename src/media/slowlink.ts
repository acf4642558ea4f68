// When to tell of a slow link. Janus reports `slowlink` when a medium loses packets past a
// threshold; mediasoup condenses loss and retransmissions into a 0..10 score per stream,
// so a score under SLOW_SCORE is our threshold. Reports are spaced so a bad link does not
// flood the client and the script.

export const SLOW_SCORE = 7;
export const SLOW_LINK_INTERVAL_MS = 5000;

export class SlowLinkGate {
  private lastReport = -Infinity;

  /** True when this score should be reported now (and remembers that it was). */
  report(score: number, nowMs: number): boolean {
    if (score >= SLOW_SCORE || nowMs - this.lastReport < SLOW_LINK_INTERVAL_MS) return false;
    this.lastReport = nowMs;
    return true;
  }
}

/** Packets lost so far on a Producer's or Consumer's streams (0 if stats are unavailable). */
export async function lostPackets(source: { getStats(): Promise<Array<{ packetsLost?: number }>> }): Promise<number> {
  try {
    return (await source.getStats()).reduce((sum, stat) => sum + (stat.packetsLost ?? 0), 0);
  } catch {
    return 0;
  }
}
