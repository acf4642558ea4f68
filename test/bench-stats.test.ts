// luasfu-bench's statistics: percentiles, summaries, rates, slopes, histograms, tallies.

import { expect } from 'chai';
import { Samples, Tally, histogram, percentile, rate, slope, summarize, trendPerMinute } from '../bench/lib/stats';

describe('luasfu-bench statistics', () => {
  describe('percentile', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

    it('interpolates linearly between the closest ranks of sorted samples', () => {
      expect(percentile(hundred, 50)).to.equal(50.5);
      expect(percentile(hundred, 90)).to.be.closeTo(90.1, 1e-9);
      expect(percentile(hundred, 99)).to.be.closeTo(99.01, 1e-9);
      expect(percentile(hundred, 100)).to.equal(100);
      expect(percentile(hundred, 0)).to.equal(1);
      expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90)).to.equal(10);
    });

    it('is null without samples and refuses percentiles outside 0..100', () => {
      expect(percentile([], 50)).to.equal(null);
      expect(() => percentile([1], 101)).to.throw(RangeError);
    });
  });

  describe('summarize', () => {
    it('sorts the samples itself and reports count, min, mean, p50, p90, p99, max', () => {
      const samples = Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1000..1, descending
      const s = summarize(samples);
      expect(s).to.deep.equal({ count: 1000, min: 1, mean: 500.5, p50: 500.5, p90: 900.1, p99: 990.01, max: 1000 });
    });

    it('one sample is every percentile', () => {
      expect(summarize([7.25])).to.deep.equal({ count: 1, min: 7.25, mean: 7.25, p50: 7.25, p90: 7.25, p99: 7.25, max: 7.25 });
    });

    it('reports nulls, not zeros, without samples', () => {
      expect(summarize([])).to.deep.equal({ count: 0, min: null, mean: null, p50: null, p90: null, p99: null, max: null });
    });

    it('a tail shows in p99 and max but not in p50', () => {
      const samples = [...Array.from({ length: 980 }, () => 2), ...Array.from({ length: 20 }, () => 50)];
      const s = summarize(samples);
      expect(s.p50).to.equal(2);
      expect(s.p90).to.equal(2);
      expect(s.p99).to.equal(50);
      expect(s.max).to.equal(50);
    });
  });

  describe('Samples', () => {
    it('below its capacity keeps every sample: the same summary as summarize()', () => {
      const samples = new Samples(100);
      const values = [5, 1, 4, 2, 3, 9.5];
      for (const v of values) samples.add(v);
      expect(samples.count).to.equal(6);
      expect(samples.summary()).to.deep.equal(summarize(values));
      expect(samples.histogram(3).reduce((n, b) => n + b.count, 0)).to.equal(6);
    });

    it('beyond its capacity: memory bounded, count/min/mean/max exact, percentiles from a uniform sample', () => {
      const samples = new Samples(1000);
      for (let i = 1; i <= 20_000; i++) samples.add(i);
      const s = samples.summary();
      expect(s.count).to.equal(20_000);
      expect(s.min).to.equal(1);
      expect(s.max).to.equal(20_000);
      expect(s.mean).to.equal(10_000.5);
      // A uniform sample of 1,000: the median's standard error is ~1.6 % of the range; allow 5 of them.
      expect(s.p50).to.be.closeTo(10_000, 1600);
      expect(s.p90).to.be.closeTo(18_000, 1000);
      expect(samples.histogram(10).reduce((n, b) => n + b.count, 0)).to.equal(1000);
    });

    it('without samples: nulls', () => {
      expect(new Samples().summary()).to.deep.equal(summarize([]));
    });
  });

  describe('rate', () => {
    it('is events per second', () => {
      expect(rate(1500, 3)).to.equal(500);
      expect(rate(10, 4)).to.equal(2.5);
      expect(rate(0, 2)).to.equal(0);
    });

    it('is null when no time passed', () => {
      expect(rate(5, 0)).to.equal(null);
      expect(rate(5, -1)).to.equal(null);
      expect(rate(5, Number.NaN)).to.equal(null);
    });
  });

  describe('slope', () => {
    it('is the least-squares slope', () => {
      expect(slope([[0, 1], [1, 3], [2, 5], [3, 7]])).to.equal(2);
      // y = 100 + 0.5 x with noise (+e, -e, -e, +e) that the fit cancels out
      expect(slope([[0, 100.1], [10, 104.9], [20, 109.9], [30, 115.1]])).to.be.closeTo(0.5, 1e-9);
      expect(slope([[0, 5], [1, 5], [2, 5]])).to.equal(0);
      expect(slope([[0, 9], [60, 3]])).to.equal(-0.1);
    });

    it('is null with fewer than two distinct x values', () => {
      expect(slope([])).to.equal(null);
      expect(slope([[1, 2]])).to.equal(null);
      expect(slope([[1, 2], [1, 3]])).to.equal(null);
    });
  });

  describe('trendPerMinute', () => {
    it('is the slope per minute of samples over seconds', () => {
      const samples = [0, 1, 2, 3, 4, 5].map((t) => ({ tSec: t, value: 100 + t * 0.5 }));
      expect(trendPerMinute(samples)).to.be.closeTo(30, 1e-9);
    });

    it('is null for runs too short or too few samples to tell a trend from noise', () => {
      expect(trendPerMinute([0, 1, 2, 3].map((t) => ({ tSec: t, value: t })))).to.equal(null); // 3 s
      expect(trendPerMinute([{ tSec: 0, value: 1 }, { tSec: 10, value: 2 }])).to.equal(null); // 2 samples
    });
  });

  describe('histogram', () => {
    it('puts every sample in exactly one logarithmic bucket', () => {
      const samples = [1, 1.5, 2, 10, 10, 99, 100];
      const buckets = histogram(samples, 4);
      expect(buckets).to.have.length(4);
      expect(buckets.reduce((n, b) => n + b.count, 0)).to.equal(samples.length);
      expect(buckets[0]!.from).to.equal(1);
      expect(buckets[3]!.to).to.equal(100);
      // 1..~3.16, ~3.16..10, 10..~31.6, ~31.6..100
      expect(buckets.map((b) => b.count)).to.deep.equal([3, 0, 2, 2]);
    });

    it('takes a million samples (the Samples reservoir size)', () => {
      const samples = Array.from({ length: 1_000_000 }, (_, i) => 1 + (i % 1000));
      const buckets = histogram(samples, 10);
      expect(buckets.reduce((n, b) => n + b.count, 0)).to.equal(1_000_000);
      expect(buckets[9]!.to).to.equal(1000);
    });

    it('one bucket when all samples are equal, none without samples', () => {
      expect(histogram([4, 4, 4])).to.deep.equal([{ from: 4, to: 4, count: 3 }]);
      expect(histogram([])).to.deep.equal([]);
    });
  });

  describe('Tally', () => {
    it('counts by code and keeps the first reason', () => {
      const tally = new Tally();
      tally.add('462', 'first');
      tally.add('timeout', 'second');
      tally.add('timeout', 'third');
      expect(tally.total).to.equal(3);
      expect(tally.first).to.equal('first');
      expect(tally.toJSON()).to.deep.equal({ timeout: 2, 462: 1 });
    });
  });
});
