// Builds Debian's own libsrtp2 source package with OpenSSL crypto as a static library, for
// scripts/build-worker.mjs to link into mediasoup-worker instead of Debian's shared libsrtp2
// (which bookworm builds on NSS: a PK11 context per packet, ~20 % of the worker's CPU in the
// media bench). Offline apart from Debian's archive; cached; any failure -> the caller falls
// back to the system libsrtp2.
//
//   LUASFU_SRTP=auto (default)  try the OpenSSL build; on any failure log one line and use the
//                               system libsrtp2 (NSS)
//   LUASFU_SRTP=openssl         the OpenSSL build or the install fails
//   LUASFU_SRTP=system          system libsrtp2, nothing fetched or built
//
// Steps (only when not cached): the source version is the one of the installed libsrtp2-dev
// (dpkg's source:Version, e.g. 2.5.0-3); a private apt configuration (deb-src twins of the
// system's `deb` entries, its own lists and cache dirs under the work dir, so /etc/apt and
// /var/lib/apt are not touched and root is not needed) runs `apt-get update` and `apt-get
// source --download-only libsrtp2=<version>` (apt checks the files against the signed
// index); `dpkg-source -x` unpacks it with Debian's patches (dpkg-dev is installed with apt if
// missing and we are root); our own patches (patches/libsrtp2/NNN-*.patch, git apply in name
// order: per-packet HMAC and AES-ICM without OpenSSL 3's EVP re-initialisation) go on top;
// meson builds it like mediasoup's own libsrtp2 subproject (crypto-library=openssl,
// crypto-library-kdf=disabled) as a static, position-independent library with libsrtp's test
// programs, whose known-answer tests (SELF_TESTS) must pass, and installs it into
//   ${XDG_CACHE_HOME:-~/.cache}/luasfu/libsrtp2-<key>/{include/srtp2,lib/libsrtp2.a,lib/pkgconfig}
// (Debian's <includedir>/srtp2 layout). Only the .a is there, so meson's pkg-config lookup
// with that pkgconfig dir first resolves -lsrtp2 to it while OpenSSL stays shared.
//
//   node scripts/libsrtp.mjs      build (or reuse) and print the prefix

import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { APT_WAIT_FOR_LOCK } from './lib/apt.mjs';
import { applyPatches, listPatches, splitPatch } from './patch-package.mjs';

/** meson options for libsrtp2 (mirrors mediasoup's subproject('libsrtp2') + static/PIC). */
export const SRTP_MESON_ARGS = [
  '--buildtype', 'release', '-Db_ndebug=true', '--wrap-mode=nodownload',
  '--default-library=static', '-Db_staticpic=true', '-Dwarning_level=0',
  '-Dcrypto-library=openssl', '-Dcrypto-library-kdf=disabled',
  '-Dtests=enabled', '-Dpcap-tests=disabled', '-Ddoc=disabled', '-Dfuzzer=disabled',
];
/** Our edits to Debian's libsrtp2 source (patches/README.md). */
export const SRTP_PATCH_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'patches', 'libsrtp2');
/**
 * libsrtp's own known-answer tests run after the build (`meson test`): the crypto kernel's
 * cipher and HMAC test cases, ICM test vectors and buffered encryption, reference SRTP packets.
 * The slow ones (replay, roc, rtpw: ~35 s) are left out.
 */
export const SELF_TESTS = ['datatypes_driver', 'kernel_driver', 'cipher_driver', 'srtp_driver', 'test_srtp', 'rdbx_driver'];
const STAMP = 'luasfu-libsrtp2.json';
const STEP_TIMEOUT_MS = 10 * 60 * 1000;

/** @param {string} msg */
function log(msg) {
  process.stdout.write(`[libsrtp2] ${msg}\n`);
}

/** @returns {'auto'|'openssl'|'system'} */
export function srtpRequest(env = process.env) {
  const v = (env.LUASFU_SRTP || 'auto').toLowerCase();
  if (v === 'auto' || v === 'openssl' || v === 'system') return v;
  throw new Error(`LUASFU_SRTP=${env.LUASFU_SRTP}: expected auto, openssl or system`);
}

function cacheBase() {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'luasfu');
}

/**
 * 8 hex digits over the build options and our patches' diffs (not their headers, as the
 * worker key does): a change to either is a new build.
 * @param {string[]} patches
 */
export function buildInputsHash(patches = listPatches(SRTP_PATCH_DIR)) {
  const h = createHash('sha256').update(JSON.stringify(SRTP_MESON_ARGS));
  for (const patch of patches) h.update(splitPatch(fs.readFileSync(patch, 'utf8')).diff);
  return h.digest('hex').slice(0, 8);
}

/**
 * What an OpenSSL build would be: Debian's source package and version of the installed
 * libsrtp2-dev, the cache key (version + build options and patches) and the install prefix.
 * Throws when dpkg does not know libsrtp2-dev.
 */
export function opensslSrtpPlan() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${source:Package}\t${source:Version}\t${db:Status-Status}', 'libsrtp2-dev'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error('dpkg-query does not know libsrtp2-dev');
  const [srcPackage, srcVersion, status] = r.stdout.trim().split('\t');
  if (status !== 'installed' || !srcPackage || !srcVersion) throw new Error('libsrtp2-dev is not installed');
  const key = `openssl-${srcVersion.replace(/[^A-Za-z0-9.+~-]/g, '_')}-${buildInputsHash()}`;
  const prefix = path.join(cacheBase(), `libsrtp2-${key}`);
  return { srcPackage, srcVersion, key, prefix, pkgConfigDir: path.join(prefix, 'lib', 'pkgconfig') };
}

/** True when the prefix holds a complete build for this plan. */
export function isBuilt(plan) {
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(plan.prefix, STAMP), 'utf8'));
    return stamp.key === plan.key
      && fs.existsSync(path.join(plan.prefix, 'lib', 'libsrtp2.a'))
      && fs.existsSync(path.join(plan.pkgConfigDir, 'libsrtp2.pc'))
      && fs.existsSync(path.join(plan.prefix, 'include', 'srtp2', 'srtp.h'));
  } catch {
    return false;
  }
}

/**
 * Runs a command (bounded), its output into logFile and, prefixed, to stdout when `show`.
 * Resolves with the output lines.
 */
function run(cmd, args, { cwd, logFile, env, show = true }) {
  const what = cmd === 'apt-get' ? `apt-get ${args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '-o')}` : cmd;
  let lastError = '';
  /** @type {string[]} */
  const lines = [];
  return new Promise((resolve, reject) => {
    log(`$ ${cmd} ${args.join(' ')}`);
    fs.appendFileSync(logFile, `$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
    for (const s of [child.stdout, child.stderr]) {
      readline.createInterface({ input: s }).on('line', (line) => {
        fs.appendFileSync(logFile, line + '\n');
        lines.push(line);
        if (/^(E: |ERROR|.*error:)/i.test(line)) lastError = line.trim();
        if (show) process.stdout.write(`[libsrtp2] ${line}\n`);
      });
    }
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`${cmd}: ${e.message}`)); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(lines);
      else reject(new Error(`${what} exited with ${signal ?? code}${lastError ? `: ${lastError}` : ''} (log: ${logFile})`));
    });
  });
}

/**
 * deb-src twins of the system's apt `deb` entries: one-line (sources.list, *.list) and
 * deb822 (*.sources) formats.
 * @returns {{ list: string, sources: string }}
 */
export function debSrcEntries(etcApt = '/etc/apt') {
  const listFiles = [path.join(etcApt, 'sources.list')];
  const sourcesFiles = [];
  const partsDir = path.join(etcApt, 'sources.list.d');
  try {
    for (const f of fs.readdirSync(partsDir).sort()) {
      if (f.endsWith('.list')) listFiles.push(path.join(partsDir, f));
      else if (f.endsWith('.sources')) sourcesFiles.push(path.join(partsDir, f));
    }
  } catch { /* no parts dir */ }
  const lines = [];
  for (const f of listFiles) {
    let text = '';
    try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
    for (const l of text.split('\n')) {
      const t = l.trim();
      if (/^deb\s/.test(t)) lines.push(t.replace(/^deb\s/, 'deb-src '));
    }
  }
  const stanzas = [];
  for (const f of sourcesFiles) {
    let text = '';
    try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
    for (const stanza of text.split(/\n\s*\n/)) {
      const fields = stanza.split('\n').filter((l) => l && !l.startsWith('#'));
      const get = (name) => fields.find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim();
      const types = (get('Types') ?? '').split(/\s+/);
      if (!types.includes('deb') || (get('Enabled') ?? 'yes').toLowerCase() === 'no') continue;
      stanzas.push(fields.map((l) => (/^types:/i.test(l) ? 'Types: deb-src' : l)).join('\n'));
    }
  }
  return { list: lines.join('\n') + (lines.length ? '\n' : ''), sources: stanzas.join('\n\n') + (stanzas.length ? '\n' : '') };
}

function haveCommand(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** dpkg-source (dpkg-dev): present, or installed with apt when we are root. */
function ensureDpkgSource() {
  if (haveCommand('dpkg-source')) return;
  if (process.getuid?.() !== 0) throw new Error('dpkg-source not found (apt-get install dpkg-dev) and not root');
  const apt = (args) => spawnSync('apt-get', args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: STEP_TIMEOUT_MS,
  }).status === 0;
  const install = [...APT_WAIT_FOR_LOCK, 'install', '-y', '--no-install-recommends', 'dpkg-dev'];
  log('dpkg-source not found; running: apt-get install -y --no-install-recommends dpkg-dev');
  if (!apt(install)) {
    log('apt-get install failed; running apt-get update and retrying');
    apt([...APT_WAIT_FOR_LOCK, 'update']);
    apt(install);
  }
  if (!haveCommand('dpkg-source')) throw new Error('could not install dpkg-dev');
}

/**
 * Fetches, unpacks and builds the plan's libsrtp2 into plan.prefix (replacing whatever is
 * there). Throws on any failure. The caller holds a lock.
 */
export async function buildOpensslSrtp(plan) {
  const t0 = Date.now();
  const work = `${plan.prefix}.work`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const logFile = path.join(work, 'build.log');
  fs.writeFileSync(logFile, `libsrtp2 ${plan.key} at ${new Date().toISOString()}\n`);
  log(`building libsrtp2 ${plan.srcVersion} with OpenSSL from Debian's source package into ${plan.prefix} (log: ${logFile})`);

  for (const cmd of ['apt-get', 'meson', 'ninja']) {
    if (!haveCommand(cmd)) throw new Error(`${cmd} not found`);
  }
  ensureDpkgSource();

  // 1. Private apt configuration with deb-src entries.
  const { list, sources } = debSrcEntries();
  if (!list && !sources) throw new Error('no `deb` entries in /etc/apt to derive deb-src entries from');
  const aptDir = path.join(work, 'apt');
  fs.mkdirSync(path.join(aptDir, 'sources.list.d'), { recursive: true });
  fs.mkdirSync(path.join(aptDir, 'lists', 'partial'), { recursive: true });
  fs.mkdirSync(path.join(aptDir, 'cache', 'archives', 'partial'), { recursive: true });
  fs.writeFileSync(path.join(aptDir, 'sources.list'), list);
  fs.writeFileSync(path.join(aptDir, 'sources.list.d', 'luasfu-src.sources'), sources);
  const aptOpts = [
    '-o', `Dir::Etc::SourceList=${path.join(aptDir, 'sources.list')}`,
    '-o', `Dir::Etc::SourceParts=${path.join(aptDir, 'sources.list.d')}`,
    '-o', `Dir::State::Lists=${path.join(aptDir, 'lists')}`,
    '-o', `Dir::Cache=${path.join(aptDir, 'cache')}`,
    '-o', 'Acquire::Retries=1',
    '-o', 'Acquire::http::Timeout=20',
    '-o', 'Acquire::https::Timeout=20',
  ];
  // Our work dir is under root's home, which the _apt sandbox user cannot write.
  if (process.getuid?.() === 0) aptOpts.push('-o', 'APT::Sandbox::User=root');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
  log('step 1/5: apt-get update (deb-src indexes, private lists)');
  // An entry without deb-src (third-party repo) fails to update; the source may still be
  // found, so carry on and name the update's problem only if the download fails.
  let updateProblem = '';
  try {
    const out = await run('apt-get', [...aptOpts, 'update'], { cwd: work, logFile, env });
    updateProblem = out.find((l) => /^[WE]: Failed to fetch/.test(l))?.trim() ?? '';
  } catch (e) {
    updateProblem = e.message;
  }
  if (updateProblem) log(`apt-get update had a problem (${updateProblem}); trying the download anyway`);

  // 2. Download (checked against the signed index) and unpack with Debian's patches.
  log(`step 2/5: apt-get source --download-only ${plan.srcPackage}=${plan.srcVersion}`);
  const dl = path.join(work, 'dl');
  fs.mkdirSync(dl);
  try {
    await run('apt-get', [...aptOpts, 'source', '--download-only', `${plan.srcPackage}=${plan.srcVersion}`], { cwd: dl, logFile, env });
  } catch (e) {
    throw new Error(updateProblem ? `Debian's source archive unreachable: ${updateProblem}` : e.message);
  }
  const dsc = fs.readdirSync(dl).find((f) => f.endsWith('.dsc'));
  if (!dsc) throw new Error('apt-get source downloaded no .dsc');
  const srcDir = path.join(work, 'src');
  await run('dpkg-source', ['-x', path.join(dl, dsc), srcDir], { cwd: dl, logFile, env });
  if (!fs.existsSync(path.join(srcDir, 'meson.build'))) throw new Error(`${dsc} has no meson.build`);

  // 3. Our patches on top of Debian's.
  const patches = listPatches(SRTP_PATCH_DIR);
  log(`step 3/5: our patches (${patches.map((p) => path.basename(p)).join(', ') || 'none'})`);
  const patched = applyPatches('libsrtp2', (rel) => {
    const abs = path.join(srcDir, rel);
    return fs.existsSync(abs) ? fs.readFileSync(abs) : undefined;
  }, patches);
  for (const [rel, content] of patched) fs.writeFileSync(path.join(srcDir, rel), content);

  // 4. Build, self-test and install (static, PIC, OpenSSL).
  log('step 4/5: meson + ninja (static, OpenSSL), libsrtp\'s known-answer tests');
  fs.rmSync(plan.prefix, { recursive: true, force: true });
  const buildDir = path.join(work, 'build');
  await run('meson', ['setup', ...SRTP_MESON_ARGS, `--prefix=${plan.prefix}`, '--libdir=lib', '--includedir=include', buildDir, srcDir], { cwd: work, logFile, env, show: false });
  const config = fs.readFileSync(path.join(buildDir, 'config.h'), 'utf8');
  for (const def of ['OPENSSL', 'GCM']) {
    if (!new RegExp(`^#define ${def}\\b`, 'm').test(config)) throw new Error(`libsrtp2 config.h lacks #define ${def}`);
  }
  await run('ninja', ['-C', buildDir], { cwd: work, logFile, env });
  await run('meson', ['test', '-C', buildDir, '--no-rebuild', '--print-errorlogs', ...SELF_TESTS], { cwd: work, logFile, env });
  await run('ninja', ['-C', buildDir, 'install'], { cwd: work, logFile, env });

  // 5. Check and stamp.
  log('step 5/5: checking the result');
  const libDir = path.join(plan.prefix, 'lib');
  const shared = fs.readdirSync(libDir).filter((f) => f.includes('.so'));
  if (shared.length) throw new Error(`unexpected shared libraries in ${libDir}: ${shared.join(', ')}`);
  const nm = spawnSync('nm', ['--defined-only', path.join(libDir, 'libsrtp2.a')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (nm.status === 0) {
    for (const sym of ['srtp_aes_gcm_128_openssl_description', 'srtp_aes_icm_openssl_encrypt']) {
      if (!nm.stdout.includes(sym)) throw new Error(`libsrtp2.a lacks ${sym} (not the OpenSSL build?)`);
    }
  }
  fs.copyFileSync(logFile, path.join(plan.prefix, 'build.log'));
  fs.writeFileSync(path.join(plan.prefix, STAMP), JSON.stringify({
    key: plan.key, source: `${plan.srcPackage} ${plan.srcVersion}`, mesonArgs: SRTP_MESON_ARGS,
    patches: patches.map((p) => path.basename(p)), selfTests: SELF_TESTS, built: new Date().toISOString(),
  }, null, 2) + '\n');
  if (!isBuilt(plan)) throw new Error(`incomplete install in ${plan.prefix}`);
  fs.rmSync(work, { recursive: true, force: true });
  log(`built libsrtp2 ${plan.srcVersion} (OpenSSL, static) in ${Math.round((Date.now() - t0) / 1000)} s -> ${plan.prefix}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  (async () => {
    const { withLock } = await import('./build-worker.mjs');
    const plan = opensslSrtpPlan();
    fs.mkdirSync(path.dirname(plan.prefix), { recursive: true });
    if (!isBuilt(plan)) await withLock(`${plan.prefix}.lock`, async () => { if (!isBuilt(plan)) await buildOpensslSrtp(plan); });
    log(`libsrtp2 ${plan.srcVersion} (OpenSSL, static): ${plan.prefix}`);
  })().catch((e) => {
    process.stderr.write(`[libsrtp2] FAILED: ${e.message}\n`);
    process.exit(1);
  });
}
