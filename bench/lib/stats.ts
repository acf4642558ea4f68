// The statistics every scenario reports: latency summaries (percentiles), histograms, rates
// and slopes. The arithmetic is simple-statistics'; this module fixes what is reported and
// how empty or degenerate inputs read (null, never a made-up zero).

// simple-statistics ships a CommonJS build (its "require" export), but its typings are ESM
// only: take the types from those and the code through require.
import type * as SimpleStatistics from 'simple-statistics' with { 'resolution-mode': 'import' };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { linearRegression, mean, quantileSorted } = require('simple-statistics') as typeof SimpleStatistics;

/** Latency (or any duration) summary in milliseconds; null fields when there were no samples. */
export interface LatencySummary {
  count: number;
  min: number | null;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface HistogramBucket {
  /** Lower and upper bound of the bucket (upper exclusive, except for the last). */
  from: number;
  to: number;
  count: number;
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

/**
 * Percentile `p` (0..100) of ascending `sorted` values, interpolated linearly between the
 * closest ranks (as numpy's default and spreadsheets' PERCENTILE do); null when empty.
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  if (p < 0 || p > 100) throw new RangeError(`percentile ${p} is outside 0..100`);
  return quantileSorted([...sorted], p / 100);
}

/** count, min, mean, p50, p90, p99, max of `samples` (any order). */
export function summarize(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) return { count: 0, min: null, mean: null, p50: null, p90: null, p99: null, max: null };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => round(percentile(sorted, p) as number);
  return {
    count: sorted.length,
    min: round(sorted[0]!),
    mean: round(mean(sorted)),
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: round(sorted[sorted.length - 1]!),
  };
}

/**
 * Durations collected with bounded memory, however long the run: count, min, max and mean
 * exactly; percentiles and the histogram from a uniform random sample of at most `capacity`
 * of them (reservoir sampling), which keeps them accurate to well under a percentile rank.
 */
export class Samples {
  private readonly kept: number[] = [];
  private total = 0;
  private sum = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;

  constructor(private readonly capacity = 1_000_000) {}

  get count(): number {
    return this.total;
  }

  add(value: number): void {
    this.total++;
    this.sum += value;
    this.lo = Math.min(this.lo, value);
    this.hi = Math.max(this.hi, value);
    if (this.kept.length < this.capacity) {
      this.kept.push(value);
    } else {
      // Algorithm R: the n-th sample replaces a kept one with probability capacity / n.
      const slot = Math.floor(Math.random() * this.total);
      if (slot < this.capacity) this.kept[slot] = value;
    }
  }

  summary(): LatencySummary {
    if (this.total === 0) return summarize([]);
    const kept = summarize(this.kept);
    return { ...kept, count: this.total, min: round(this.lo), mean: round(this.sum / this.total), max: round(this.hi) };
  }

  histogram(buckets?: number): HistogramBucket[] {
    return histogram(this.kept, buckets);
  }
}

/** Events per second; null when no time has passed. */
export function rate(count: number, seconds: number): number | null {
  if (!(seconds > 0)) return null;
  return round(count / seconds, 2);
}

/**
 * Least-squares slope of y over x (units of y per unit of x); null with fewer than two
 * distinct x values, where no slope exists.
 */
export function slope(points: ReadonlyArray<readonly [number, number]>): number | null {
  if (points.length < 2) return null;
  const firstX = points[0]![0];
  if (points.every(([x]) => x === firstX)) return null;
  return linearRegression(points.map(([x, y]) => [x, y])).m;
}

/** A memory trend needs this long a run: over a second or two, heap growth and GC are noise. */
export const MIN_TREND_SECONDS = 4;

/**
 * Slope of `value` per minute over samples taken at `tSec` (seconds), or null when they span
 * less than MIN_TREND_SECONDS or are fewer than 3.
 */
export function trendPerMinute(samples: ReadonlyArray<{ tSec: number; value: number }>): number | null {
  if (samples.length < 3) return null;
  const span = samples[samples.length - 1]!.tSec - samples[0]!.tSec;
  if (span < MIN_TREND_SECONDS) return null;
  const perSecond = slope(samples.map((s) => [s.tSec, s.value] as const));
  return perSecond === null ? null : perSecond * 60;
}

/**
 * Histogram of positive samples over `buckets` logarithmic buckets from the smallest to the
 * largest sample (latencies span orders of magnitude; linear buckets would put nearly all of
 * them in the first one). Every sample lands in exactly one bucket.
 */
export function histogram(samples: readonly number[], buckets = 24): HistogramBucket[] {
  if (samples.length === 0) return [];
  // A loop, not Math.min(...samples): a million arguments would overflow the stack.
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const sample of samples) {
    if (sample < min) min = sample;
    if (sample > max) max = sample;
  }
  const lo = Math.max(min, 0.001);
  const hi = Math.max(max, lo);
  if (hi === lo) return [{ from: round(lo), to: round(hi), count: samples.length }];
  const logLo = Math.log(lo);
  const step = (Math.log(hi) - logLo) / buckets;
  const counts = new Array<number>(buckets).fill(0);
  for (const sample of samples) {
    const index = Math.floor((Math.log(Math.max(sample, lo)) - logLo) / step);
    counts[Math.min(buckets - 1, Math.max(0, index))]!++;
  }
  return counts.map((count, i) => ({ from: round(Math.exp(logLo + i * step)), to: round(Math.exp(logLo + (i + 1) * step)), count }));
}

/** Counts by key (error codes). */
export class Tally {
  private readonly counts = new Map<string, number>();
  private firstReason: string | undefined;

  add(key: string, reason: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.firstReason ??= reason;
  }

  get total(): number {
    let total = 0;
    for (const count of this.counts.values()) total += count;
    return total;
  }

  get first(): string | undefined {
    return this.firstReason;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
