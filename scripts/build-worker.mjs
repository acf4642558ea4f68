// Builds mediasoup's C++ worker offline against Debian's libraries, with our patches
// (patches/mediasoup/NNN-name.patch, unified diffs applied in name order with `git apply`),
// and caches the binary outside node_modules keyed by the mediasoup version and the patched
// worker sources. Also applies the patches' Node-side changes to node_modules/mediasoup/node/lib
// idempotently. Used by scripts/install.mjs; runnable alone:
//   node scripts/build-worker.mjs                 build (or reuse) and place the binary
//   node scripts/build-worker.mjs --check [dir]   only check that every patch applies, to the
//                                                 installed package or to a mediasoup package
//                                                 unpacked in dir (no build)

import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildOpensslSrtp, isBuilt, opensslSrtpPlan, srtpRequest } from './libsrtp.mjs';
import {
  applyPatches as applyPackagePatches, checkVersion as checkPackageVersion, installedPristine as packagePristine,
  listPatches as listPackagePatches, packageVersion, patchTargets, plainPristine, splitPatch, writePatchedFiles,
} from './patch-package.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The mediasoup version our patches are written against. */
export const MEDIASOUP_VERSION = '3.12.16';
/** Our patches to it, applied in file-name order. */
export const PATCH_DIR = path.join(ROOT, 'patches', 'mediasoup');
const MESON_ARGS = ['--buildtype', 'release', '-Db_ndebug=true', '--wrap-mode=nodownload'];
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
  return packageVersion(dir);
}

export function cacheRoot() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'luasfu', 'mediasoup-worker');
}

/** Where mediasoup's Node lib looks for the worker when MEDIASOUP_WORKER_BIN is unset. */
export function defaultWorkerPath(dir = mediasoupDir()) {
  return path.join(dir, 'worker', 'out', 'Release', 'mediasoup-worker');
}

/** Our patch files, in the order they apply (absolute paths). */
export function listPatches(dir = PATCH_DIR) {
  return listPackagePatches(dir);
}

export { patchTargets, splitPatch };

/**
 * Applies the patches to pristine copies of the files they touch (scripts/patch-package.mjs)
 * and returns the patched files (package-relative path -> content); throws, naming the patch,
 * when one does not apply.
 * @param {(rel: string) => Buffer | undefined} pristine
 * @returns {Map<string, Buffer>}
 */
export function applyPatches(pristine, patches = listPatches()) {
  return applyPackagePatches('mediasoup', pristine, patches);
}

/**
 * Unpatched content of the installed package's files: the worker sources are never edited in
 * place; Node files edited by an earlier install keep their original as <file>.luasfu-orig.
 */
export function installedPristine(msDir = mediasoupDir()) {
  return packagePristine(msDir);
}

/** The patched worker files, keyed by their path under worker/ (throws on a failed patch). */
export function patchedWorkerFiles(msDir = mediasoupDir(), patches = listPatches()) {
  return workerPart(applyPatches(installedPristine(msDir), patches));
}

/** @param {Map<string, Buffer>} files package-relative */
function workerPart(files) {
  /** @type {Map<string, Buffer>} */
  const out = new Map();
  for (const [rel, content] of files) if (rel.startsWith('worker/')) out.set(rel.slice('worker/'.length), content);
  return out;
}

/**
 * Cache key: version + meson args + the patched worker sources (path and content of every
 * file a patch touches; patch headers and Node-side changes do not count) + the libsrtp2 it
 * links: SYSTEM_SRTP (Debian's shared one; adds nothing) or the key of our static OpenSSL
 * build (scripts/libsrtp.mjs, e.g. 'openssl-2.5.0-3-<hash of its build options>'). Without
 * `srtp`: the choice recorded for the installed binary (so the key of what is installed).
 * @param {string} version
 * @param {Map<string, Buffer | string>} workerFiles  path under worker/ -> patched content
 */
export function workerKey(version, workerFiles, srtp = installedSrtp()) {
  const h = createHash('sha256');
  h.update(JSON.stringify({ version, MESON_ARGS }));
  for (const file of [...workerFiles.keys()].sort()) {
    const content = Buffer.from(workerFiles.get(file));
    h.update(`${file}\0${content.length}\0`);
    h.update(content);
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
 * Returns the cached binary for this version, patched worker sources and libsrtp2 choice,
 * building it if needed. `files`: the patched worker files (patchedWorkerFiles()). libsrtp2: LUASFU_SRTP (scripts/libsrtp.mjs) — by default our static OpenSSL build
 * of Debian's source, falling back to the system libsrtp2 (one log line) if that fails.
 * @returns {Promise<{ bin: string, reused: boolean, srtp: string }>}
 */
export async function buildWorker({ msDir = mediasoupDir(), files = patchedWorkerFiles(msDir) } = {}) {
  const version = mediasoupVersion(msDir);
  const want = srtpRequest();
  if (want === 'system') {
    log('libsrtp2: the system one (Debian, NSS), as LUASFU_SRTP=system asks');
  } else {
    try {
      const plan = opensslSrtpPlan();
      const key = workerKey(version, files, plan.key);
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
    msDir, version, files, key: workerKey(version, files, SYSTEM_SRTP), srtp: SYSTEM_SRTP,
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
 * Writes the patched Node-side files into node_modules/mediasoup (idempotent: each patched
 * file keeps its pristine copy next to it as <file>.luasfu-orig, from which the patches are
 * always applied; files no patch touches any more are restored).
 * @param {Map<string, Buffer>} nodeFiles  package-relative path -> patched content
 * @returns {string[]} the files patched
 */
export function applyNodePatches(nodeFiles, msDir = mediasoupDir()) {
  return writePatchedFiles(msDir, nodeFiles, ['node/lib']);
}

/** Fails unless the package in msDir is the mediasoup version our patches are written for. */
function checkVersion(msDir) {
  return checkPackageVersion('mediasoup', MEDIASOUP_VERSION, msDir);
}

/**
 * Checks that every patch applies, in order (`git apply --check` then `git apply` on copies),
 * to the installed package, or to an unpacked mediasoup package in `dir`. Builds nothing.
 * @returns {string[]} the files the patches touch
 */
export function checkPatches(dir = mediasoupDir(), patches = listPatches()) {
  checkVersion(dir);
  const pristine = dir === mediasoupDir() ? installedPristine(dir) : plainPristine(dir);
  return [...applyPatches(pristine, patches).keys()];
}

/**
 * The whole step: apply the patches (failing before anything else if one does not apply);
 * write the Node-side files; use MEDIASOUP_WORKER_BIN if set, else build or reuse the cached
 * binary; place it where mediasoup looks.
 */
export async function ensureWorker({ msDir = mediasoupDir() } = {}) {
  checkVersion(msDir);
  const patched = applyPatches(installedPristine(msDir));
  const nodeFiles = new Map([...patched].filter(([rel]) => rel.startsWith('node/')));
  const nodeDone = applyNodePatches(nodeFiles, msDir);
  if (nodeDone.length) log(`applied the Node-side patches to ${nodeDone.join(', ')}`);
  const envBin = process.env.MEDIASOUP_WORKER_BIN;
  if (envBin) {
    fs.accessSync(envBin, fs.constants.X_OK);
    log(`MEDIASOUP_WORKER_BIN=${envBin}: using it, building nothing`);
    return placeBinary(envBin, msDir);
  }
  const t0 = Date.now();
  const { bin, reused, srtp } = await buildWorker({ msDir, files: workerPart(patched) });
  const placed = placeBinary(bin, msDir, srtp);
  if (reused) log(`reused cached ${bin} (${Date.now() - t0} ms)`);
  log(`worker binary at ${placed} (libsrtp2: ${srtp === SYSTEM_SRTP ? 'system, NSS' : `${srtp}, static`})`);
  return placed;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--check');
  const main = at >= 0
    ? async () => {
      const dir = process.argv[at + 1] ? path.resolve(process.argv[at + 1]) : mediasoupDir();
      const files = checkPatches(dir);
      log(`all ${listPatches().length} patches apply to ${dir} (${files.join(', ')})`);
    }
    : () => ensureWorker();
  main().catch((e) => {
    process.stderr.write(`[mediasoup-worker] FAILED: ${e.message}\n`);
    process.exit(1);
  });
}
