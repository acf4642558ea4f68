// Paired block timing for the by-hand A/B scripts (scripts/ab-*.mjs), and how they load a
// build: both builds run in one
// process, block after block in alternating order, and B/A is the median of the ratios of
// neighbouring blocks. On a VM whose speed drifts by ±20 % between runs of one build
// (bench/README.md), pairing cancels the drift that separate runs cannot. Tests never run it.

import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

/**
 * Runs `load(require)` with a require rooted at `checkout` (its node_modules), and returns what
 * it returns. The checkout's dist modules leave the cache afterwards, so a second side from the
 * same checkout (an A/A check) gets its own copy.
 */
export function loadBuild(checkout, load) {
  const require = createRequire(join(resolve(checkout), 'package.json'));
  try {
    return load(require);
  } finally {
    for (const key of Object.keys(require.cache)) if (key.startsWith(resolve(checkout, 'dist'))) delete require.cache[key];
  }
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * sides: [{ name, run }] (exactly two; `run` does `perRun` units of work, default 1), `runs` per
 * block, `blocks` pairs, `warmup` runs each first. Prints each side's median CPU µs per unit
 * (`what` names it) and B/A.
 */
export function comparePaired(sides, { blocks, runs, warmup, what, perRun = 1 }) {
  if (sides.length !== 2) throw new Error('comparePaired takes two sides');
  for (const s of sides) for (let i = 0; i < warmup; i++) s.run();
  const perUnit = sides.map(() => []);
  for (let b = 0; b < blocks; b++) {
    const order = b % 2 === 0 ? [0, 1] : [1, 0];
    for (const k of order) {
      const start = process.cpuUsage();
      for (let i = 0; i < runs; i++) sides[k].run();
      const used = process.cpuUsage(start);
      perUnit[k].push((used.user + used.system) / (runs * perRun));
    }
    if ((b + 1) % 10 === 0) process.stderr.write(`block ${b + 1}/${blocks}\n`);
  }
  sides.forEach((s, k) => {
    const sorted = [...perUnit[k]].sort((x, y) => x - y);
    console.log(`${s.name}: median ${quantile(sorted, 0.5).toFixed(2)} µs per ${what} (p25 ${quantile(sorted, 0.25).toFixed(2)}, p75 ${quantile(sorted, 0.75).toFixed(2)})`);
  });
  // Each block of B against the block of A run next to it: drift cancels pair by pair.
  const ratios = perUnit[1].map((x, i) => x / perUnit[0][i]).sort((x, y) => x - y);
  console.log(`B/A ${quantile(ratios, 0.5).toFixed(3)}, median of ${blocks} paired blocks (p25 ${quantile(ratios, 0.25).toFixed(3)}, p75 ${quantile(ratios, 0.75).toFixed(3)}); ${runs * perRun} ${what}s per block`);
}
