// Builds mediasoup's C++ worker offline against Debian's libraries, with our ordered edits
// (patches/mediasoup/edits.mjs), and caches the binary outside node_modules keyed by the
// mediasoup version and the content of the worker edits. Also applies our Node-side edits to
// node_modules/mediasoup/node/lib idempotently. Used by scripts/install.mjs; runnable alone:
//   node scripts/build-worker.mjs            build (or reuse) and place the binary
//   node scripts/build-worker.mjs --check    only check every edit applies (no build)

import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { edits as allEdits, MEDIASOUP_VERSION } from '../patches/mediasoup/edits.mjs';
import { buildOpensslSrtp, isBuilt, opensslSrtpPlan, srtpRequest } from './libsrtp.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MESON_ARGS = ['--buildtype', 'release', '-Db_ndebug=true', '--wrap-mode=nodownload'];
const ORIG_SUFFIX = '.luasfu-orig';
/** Next to the placed binary: which libsrtp2 it was built with ({ key, srtp }). */
const INFO_SUFFIX = '.luasfu.json';
/** The libsrtp2 choice of a worker built against Debian's shared libsrtp2 (NSS). */
export const SYSTEM_SRTP = 'system';
const LOCK_WAIT_MS = 45 * 60 * 1000;

/** @param {string} msg */
function log(msg) {
  process.stdout.write(`[mediasoup-worker] ${msg}\n`);
}

/** The installed mediasoup package directory. */
export function mediasoupDir(root = ROOT) {
  return path.join(root, 'node_modules', 'mediasoup');
}

/** The version of the installed mediasoup package. */
export function mediasoupVersion(dir = mediasoupDir()) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

export function cacheRoot() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'luasfu', 'mediasoup-worker');
}

/** Where mediasoup's Node lib looks for the worker when MEDIASOUP_WORKER_BIN is unset. */
export function defaultWorkerPath(dir = mediasoupDir()) {
  return path.join(dir, 'worker', 'out', 'Release', 'mediasoup-worker');
}

/**
 * Applies the edits (all for one file, in order) to its text. Throws naming the edit when its
 * find text does not occur exactly `count` times.
 * @param {string} text
 * @param {import('../patches/mediasoup/edits.mjs').Edit[]} fileEdits
 */
export function applyEditsToText(text, fileEdits) {
  for (const e of fileEdits) {
    const want = e.count ?? 1;
    const found = text.split(e.find).length - 1;
    if (found !== want) {
      throw new Error(`mediasoup edit "${e.id}" (${e.target}:${e.file}): find text occurs ${found} times, expected ${want}`);
    }
    text = text.split(e.find).join(e.replace);
  }
  return text;
}

/** Groups edits by file, keeping their order. */
function byFile(edits) {
  /** @type {Map<string, typeof edits>} */
  const m = new Map();
  for (const e of edits) {
    if (!m.has(e.file)) m.set(e.file, []);
    m.get(e.file).push(e);
  }
  return m;
}

/**
 * Cache key: version + meson args + the content (not comments) of the worker edits + the
 * libsrtp2 it links: SYSTEM_SRTP (Debian's shared one; adds nothing, so keys of workers built
 * before the choice existed stay valid) or the key of our static OpenSSL build
 * (scripts/libsrtp.mjs, e.g. 'openssl-2.5.0-3-<hash of its build options>'). Without `srtp`:
 * the choice recorded for the installed binary (so the key of what is installed).
 */
export function workerKey(version, edits = allEdits, srtp = installedSrtp()) {
  const h = createHash('sha256');
  h.update(JSON.stringify({ version, MESON_ARGS }));
  for (const e of edits.filter((x) => x.target === 'worker')) {
    h.update(JSON.stringify([e.id, e.file, e.find, e.replace, e.count ?? 1]));
  }
  if (srtp !== SYSTEM_SRTP) h.update(`srtp=${srtp}`);
  return h.digest('hex').slice(0, 16);
}

/** The libsrtp2 choice recorded next to the installed binary (SYSTEM_SRTP when unrecorded). */
export function installedSrtp(msDir = mediasoupDir()) {
  try {
    return JSON.parse(fs.readFileSync(defaultWorkerPath(msDir) + INFO_SUFFIX, 'utf8')).srtp || SYSTEM_SRTP;
  } catch {
    return SYSTEM_SRTP;
  }
}

/** The patched text of every worker file an edit touches (throws on a failed edit). */
export function patchedWorkerFiles(msDir, edits = allEdits) {
  /** @type {Map<string, string>} */
  const out = new Map();
  for (const [file, fileEdits] of byFile(edits.filter((e) => e.target === 'worker'))) {
    const orig = fs.readFileSync(path.join(msDir, 'worker', file), 'utf8');
    out.set(file, applyEditsToText(orig, fileEdits));
  }
  return out;
}

/**
 * Copies src to dst, writing only files whose content differs, so that ninja's incremental
 * rebuild only recompiles what an edit changed.
 * @param {Map<string, string>} overrides  relative path -> content to write instead
 */
function syncTree(src, dst, overrides, rel = '') {
  fs.mkdirSync(path.join(dst, rel), { recursive: true });
  for (const ent of fs.readdirSync(path.join(src, rel), { withFileTypes: true })) {
    const r = path.join(rel, ent.name);
    if (ent.isDirectory()) {
      if (r === 'out') continue;
      syncTree(src, dst, overrides, r);
    } else if (ent.isFile()) {
      const want = overrides.has(r) ? Buffer.from(overrides.get(r)) : fs.readFileSync(path.join(src, r));
      const target = path.join(dst, r);
      let have = null;
      try { have = fs.readFileSync(target); } catch { /* missing */ }
      if (!have || !have.equals(want)) fs.writeFileSync(target, want);
    }
  }
}

/** Runs a command, streaming its output with a prefix and into a log file. */
function run(cmd, args, logFile) {
  return new Promise((resolve, reject) => {
    log(`$ ${cmd} ${args.join(' ')}`);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const logStream = fs.createWriteStream(logFile, { flags: 'a' });
    for (const s of [child.stdout, child.stderr]) {
      readline.createInterface({ input: s }).on('line', (line) => {
        logStream.write(line + '\n');
        process.stdout.write(`[mediasoup-worker] ${line}\n`);
      });
    }
    child.on('error', reject);
    child.on('close', (code) => {
      logStream.end();
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited with ${code} (log: ${logFile})`));
    });
  });
}

function pidAlive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

/** A directory lock so that two installs don't build into the same tree at once. */
export async function withLock(lockDir, fn) {
  const start = Date.now();
  let warned = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let pid = 0;
      try { pid = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8')); } catch { /* being written */ }
      if (pid && !pidAlive(pid)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - start > LOCK_WAIT_MS) throw new Error(`timed out waiting for build lock ${lockDir}`);
      if (!warned) { log(`another build holds ${lockDir} (pid ${pid}); waiting`); warned = true; }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

/** Shared libraries a binary needs (readelf -d), or null when readelf is unavailable. */
function neededLibs(bin) {
  const r = spawnSync('readelf', ['-d', bin], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return [...r.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

/**
 * Returns the cached binary for this version, edit list and libsrtp2 choice, building it if
 * needed. libsrtp2: LUASFU_SRTP (scripts/libsrtp.mjs) — by default our static OpenSSL build
 * of Debian's source, falling back to the system libsrtp2 (one log line) if that fails.
 * @returns {Promise<{ bin: string, reused: boolean, srtp: string }>}
 */
export async function buildWorker({ msDir = mediasoupDir(), edits = allEdits } = {}) {
  const version = mediasoupVersion(msDir);
  if (version !== MEDIASOUP_VERSION) {
    throw new Error(`our mediasoup edits are written for ${MEDIASOUP_VERSION}, installed is ${version}`);
  }
  // Fail on a bad edit before anything else (no fallback would help).
  const files = patchedWorkerFiles(msDir, edits);
  const want = srtpRequest();
  if (want === 'system') {
    log('libsrtp2: the system one (Debian, NSS), as LUASFU_SRTP=system asks');
  } else {
    try {
      const plan = opensslSrtpPlan();
      const key = workerKey(version, edits, plan.key);
      const cached = path.join(cacheRoot(), `${version}-${key}`, 'mediasoup-worker');
      if (!fs.existsSync(cached) && !isBuilt(plan)) {
        fs.mkdirSync(path.dirname(plan.prefix), { recursive: true });
        await withLock(`${plan.prefix}.lock`, async () => { if (!isBuilt(plan)) await buildOpensslSrtp(plan); });
      }
      log(`libsrtp2: ${plan.srcPackage} ${plan.srcVersion} from Debian's source, OpenSSL crypto, linked statically (${plan.prefix})`);
      return await buildWith({
        msDir, version, files, key, srtp: plan.key,
        mesonArgs: [...MESON_ARGS, `-Dpkg_config_path=${plan.pkgConfigDir}`],
        buildBase: path.join(cacheRoot(), `build-${version}-srtp-openssl`),
      });
    } catch (e) {
      if (want === 'openssl') throw new Error(`libsrtp2 with OpenSSL (LUASFU_SRTP=openssl): ${e.message}`);
      log(`libsrtp2 with OpenSSL unavailable (${e.message}); FALLING BACK to the system libsrtp2 (Debian, NSS; slower per packet)`);
    }
  }
  return buildWith({
    msDir, version, files, key: workerKey(version, edits, SYSTEM_SRTP), srtp: SYSTEM_SRTP,
    mesonArgs: MESON_ARGS, buildBase: path.join(cacheRoot(), `build-${version}`),
  });
}

/** Builds (or reuses) one configuration in its own build tree. */
async function buildWith({ msDir, version, files, key, srtp, mesonArgs, buildBase }) {
  const cached = path.join(cacheRoot(), `${version}-${key}`, 'mediasoup-worker');
  if (fs.existsSync(cached)) return { bin: cached, reused: true, srtp };
  fs.mkdirSync(cacheRoot(), { recursive: true });
  return withLock(`${buildBase}.lock`, async () => {
    if (fs.existsSync(cached)) return { bin: cached, reused: true, srtp };
    const t0 = Date.now();
    const srcDir = path.join(buildBase, 'src');
    const outDir = path.join(buildBase, 'out');
    const logFile = path.join(buildBase, 'build.log');
    // The meson options a tree was set up with (absent in trees set up before this existed,
    // which used MESON_ARGS): a different set means a fresh setup.
    const argsStamp = path.join(outDir, 'luasfu-meson-args.json');
    fs.mkdirSync(buildBase, { recursive: true });
    fs.writeFileSync(logFile, `build ${version}-${key} (libsrtp2: ${srtp}) at ${new Date().toISOString()}\n`);
    log(`building mediasoup-worker ${version}-${key} in ${buildBase} (log: ${logFile}); several minutes on 2 cores`);
    const jobs = process.env.LUASFU_BUILD_JOBS || String(Math.max(1, os.availableParallelism()));
    const build = async () => {
      syncTree(path.join(msDir, 'worker'), srcDir, files);
      let stamp = JSON.stringify(MESON_ARGS);
      try { stamp = fs.readFileSync(argsStamp, 'utf8'); } catch { /* legacy or new tree */ }
      if (stamp !== JSON.stringify(mesonArgs)) fs.rmSync(outDir, { recursive: true, force: true });
      if (!fs.existsSync(path.join(outDir, 'build.ninja'))) {
        fs.rmSync(outDir, { recursive: true, force: true });
        await run('meson', ['setup', ...mesonArgs, outDir, srcDir], logFile);
        fs.writeFileSync(argsStamp, JSON.stringify(mesonArgs));
      }
      // ninja re-runs meson by itself when a meson.build changed.
      await run('ninja', ['-C', outDir, '-j', jobs, 'mediasoup-worker'], logFile);
    };
    const incremental = fs.existsSync(outDir);
    try {
      await build();
    } catch (e) {
      if (!incremental) throw e;
      // A stale tree (e.g. system libraries upgraded) must not block an install: start clean once.
      log(`incremental build failed (${e.message}); retrying from a clean build directory`);
      fs.rmSync(srcDir, { recursive: true, force: true });
      fs.rmSync(outDir, { recursive: true, force: true });
      await build();
    }
    const built = path.join(outDir, 'mediasoup-worker');
    const needed = neededLibs(built);
    if (needed) {
      log(`linked shared libraries: ${needed.join(' ')}`);
      const sys = needed.filter((l) => /^libsrtp2\.so|^libnss3\.so/.test(l));
      if (srtp !== SYSTEM_SRTP && sys.length) {
        throw new Error(`the worker links ${sys.join(', ')} although it was set up for our static libsrtp2`);
      }
    }
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    const tmp = `${cached}.tmp-${process.pid}`;
    fs.copyFileSync(built, tmp);
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, cached);
    log(`built in ${Math.round((Date.now() - t0) / 1000)} s -> ${cached}`);
    return { bin: cached, reused: false, srtp };
  });
}

/**
 * Copies the binary where mediasoup looks for it (atomically: running workers keep theirs)
 * and records its libsrtp2 choice next to it (`srtp` undefined: unknown, record removed).
 */
export function placeBinary(bin, msDir = mediasoupDir(), srtp = undefined) {
  const dst = defaultWorkerPath(msDir);
  const info = dst + INFO_SUFFIX;
  fs.rmSync(info, { force: true });
  if (path.resolve(bin) !== path.resolve(dst)) {
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    const tmp = `${dst}.tmp-${process.pid}`;
    fs.copyFileSync(bin, tmp);
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, dst);
  }
  if (srtp) fs.writeFileSync(info, JSON.stringify({ bin, srtp }, null, 2) + '\n');
  return dst;
}

/**
 * Applies the Node-side edits to node_modules/mediasoup (idempotent: each edited file keeps
 * its pristine copy next to it as <file>.luasfu-orig and is always rebuilt from that; files
 * no edit touches any more are restored).
 * @returns {string[]} the files edited
 */
export function applyNodeEdits(msDir = mediasoupDir(), edits = allEdits) {
  const groups = byFile(edits.filter((e) => e.target === 'node'));
  // Compute everything first so a failing edit leaves node_modules untouched.
  /** @type {Map<string, string>} */
  const results = new Map();
  for (const [file, fileEdits] of groups) {
    const abs = path.join(msDir, file);
    const orig = fs.existsSync(abs + ORIG_SUFFIX) ? abs + ORIG_SUFFIX : abs;
    results.set(file, applyEditsToText(fs.readFileSync(orig, 'utf8'), fileEdits));
  }
  for (const [file, text] of results) {
    const abs = path.join(msDir, file);
    if (!fs.existsSync(abs + ORIG_SUFFIX)) fs.copyFileSync(abs, abs + ORIG_SUFFIX);
    if (fs.readFileSync(abs, 'utf8') !== text) fs.writeFileSync(abs, text);
  }
  // Restore files that an older edit list touched.
  for (const dir of ['node/lib']) {
    const absDir = path.join(msDir, dir);
    if (!fs.existsSync(absDir)) continue;
    for (const name of fs.readdirSync(absDir)) {
      if (!name.endsWith(ORIG_SUFFIX)) continue;
      const rel = path.join(dir, name.slice(0, -ORIG_SUFFIX.length));
      if (results.has(rel)) continue;
      fs.copyFileSync(path.join(absDir, name), path.join(msDir, rel));
      fs.rmSync(path.join(absDir, name));
    }
  }
  return [...results.keys()];
}

/** Checks that every edit applies (worker and node) without building anything. */
export function checkEdits(msDir = mediasoupDir(), edits = allEdits) {
  patchedWorkerFiles(msDir, edits);
  for (const [file, fileEdits] of byFile(edits.filter((e) => e.target === 'node'))) {
    const abs = path.join(msDir, file);
    const orig = fs.existsSync(abs + ORIG_SUFFIX) ? abs + ORIG_SUFFIX : abs;
    applyEditsToText(fs.readFileSync(orig, 'utf8'), fileEdits);
  }
}

/**
 * The whole step: use MEDIASOUP_WORKER_BIN if set, else build or reuse the cached binary;
 * place it where mediasoup looks; apply the Node-side edits.
 */
export async function ensureWorker({ msDir = mediasoupDir() } = {}) {
  const nodeFiles = applyNodeEdits(msDir);
  if (nodeFiles.length) log(`applied Node-side edits to ${nodeFiles.join(', ')}`);
  const envBin = process.env.MEDIASOUP_WORKER_BIN;
  if (envBin) {
    fs.accessSync(envBin, fs.constants.X_OK);
    log(`MEDIASOUP_WORKER_BIN=${envBin}: using it, building nothing`);
    return placeBinary(envBin, msDir);
  }
  const t0 = Date.now();
  const { bin, reused, srtp } = await buildWorker({ msDir });
  const placed = placeBinary(bin, msDir, srtp);
  if (reused) log(`reused cached ${bin} (${Date.now() - t0} ms)`);
  log(`worker binary at ${placed} (libsrtp2: ${srtp === SYSTEM_SRTP ? 'system, NSS' : `${srtp}, static`})`);
  return placed;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const main = process.argv.includes('--check')
    ? async () => { checkEdits(); log(`all ${allEdits.length} edits apply`); }
    : () => ensureWorker();
  main().catch((e) => {
    process.stderr.write(`[mediasoup-worker] FAILED: ${e.message}\n`);
    process.exit(1);
  });
}
