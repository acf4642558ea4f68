// Compares two builds' script-thread cost per handleMessage, in one process, block by block:
// on a VM whose speed drifts by ±20 % between runs of the same build (bench/README.md), the
// interleaving cancels the drift that separate runs cannot. Run by hand, from any checkout:
//
//   node --max-semi-space-size=8 scripts/ab-script-thread.mjs <checkoutA> <checkoutB> \
//     [--script lua/echotest.lua] [--body '{"audio":true}'] [--blocks 40] [--calls 700]
//     [--offer test/fixtures/sdp/wrtc-offer.sdp]
//
// Each checkout needs its dist/ built (`npm run build`) and its node_modules installed. Both
// runtimes load the same script (path relative to this checkout unless absolute), open 50
// sessions and take tasks of 7 handleMessage calls, as the API bench's load batches them.
// Prints the median µs per call of each, and B/A as the median of block-by-block ratios
// (scripts/lib/paired-blocks.mjs).
// With --offer (a file relative to this checkout unless absolute), each call carries that SDP,
// anonymised as the core hands it to scripts, as an offer JSEP, and the body defaults to
// {"audio":true,"video":true}. A script answering from its scheduler does so in the same task's
// follow-ups; each task must push one event with a JSEP (the answer) per call, or the run stops:
// one that negotiated nothing would measure nothing.
// Tests never run it.
import { createRequire } from 'node:module';
import { resolve, isAbsolute, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { comparePaired, loadBuild } from './lib/paired-blocks.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    script: { type: 'string', default: 'lua/echotest.lua' },
    body: { type: 'string' },
    offer: { type: 'string' },
    blocks: { type: 'string', default: '40' },
    calls: { type: 'string', default: '700' },
  },
});
if (positionals.length !== 2) {
  console.error('usage: ab-script-thread.mjs <checkoutA> <checkoutB> [--script F] [--body JSON] [--blocks N] [--calls N] [--offer F.sdp]');
  process.exit(2);
}
const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const fromHere = (path) => (isAbsolute(path) ? path : resolve(here, path));
const scriptPath = fromHere(values.script);
const blocks = Math.min(Math.max(Number(values.blocks) || 40, 2), 1000);
const TASK = 7;
const perBlock = Math.min(Math.max(Math.round((Number(values.calls) || 700) / TASK), 1), 10_000);
const body = Buffer.from(JSON.stringify(JSON.parse(values.body ?? (values.offer ? '{"audio":true,"video":true}' : '{"audio":true}'))));
// Anonymised by this checkout's dist, the same text for both sides.
const jsep = values.offer === undefined ? null : Buffer.from(JSON.stringify({
  type: 'offer',
  sdp: createRequire(import.meta.url)(resolve(here, 'dist/src/media/sdp/anonymise.js')).anonymiseClientSdp(readFileSync(fromHere(values.offer), 'utf8')),
}));
const SESSIONS = 50;

function side(checkout) {
  return loadBuild(checkout, (require) => sideFrom(checkout, require));
}

function sideFrom(checkout, require) {
  const worker = require(resolve(checkout, 'dist/workers/script-worker.js'));
  const bridge = require(resolve(checkout, 'dist/src/common/bridge.js'));
  let seq = 1;
  const run = (task) => bridge.decodeReply(worker.handle(bridge.encodeTask({ seq: seq++, ...task })));
  const loaded = run({ load: {
    runtime: 'lua', scriptPath, instructionLimit: 50_000_000, logLevel: 4, eventsEnabled: false,
    memoryLimitBytes: 512 * 1024 * 1024, maxResumeRounds: 16,
  } }).results[0];
  if (loaded.status !== 0) throw new Error(`${checkout}: ${loaded.error}`);
  // Ten-digit ids, as the host draws them (random uint32): a script formats them on every call.
  const ids = Array.from({ length: SESSIONS }, (_, i) => 2_000_000_000 + 104_729 * i);
  run({ calls: ids.map((session) => ({ session, createSession: {} })) });
  let k = 0;
  const task = () => {
    const calls = Array.from({ length: TASK }, () => {
      k++;
      return { session: ids[k % SESSIONS], handleMessage: { transaction: `t${k % 1000}`, message: body, jsep } };
    });
    const { results } = run({ calls });
    const failed = results.find((r) => r.status !== 0);
    if (failed) throw new Error(`${checkout}: handleMessage failed: ${failed.error}`);
    if (jsep) {
      // Counted, not decoded: the check runs in the timed blocks.
      const answers = results.reduce((n, r) => n + (r.followupCalls ?? []).filter((c) => c.pushEvent?.jsep?.length > 0).length, 0);
      if (answers !== TASK) throw new Error(`${checkout}: ${answers} answers for ${TASK} offers`);
    }
  };
  return { name: checkout, run: task };
}

const sides = positionals.map(side);
comparePaired(sides, { blocks, runs: perBlock, warmup: 2000, what: 'call', perRun: TASK });
console.log(`script ${values.script}${values.offer ? `, offer ${values.offer}` : ''}`);
