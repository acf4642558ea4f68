// postinstall: make sure Debian's build packages for mediasoup's worker (and the demo pages'
// janus.js and adapter.js) are present, then
// build (or reuse from the cache) our patched mediasoup worker (by default on libsrtp2 built
// with OpenSSL from Debian's source, scripts/libsrtp.mjs; LUASFU_SRTP=system: Debian's own)
// and apply our Node-side mediasoup edits; then apply our edits to fengari (the Lua VM), from its
// pristine files. See scripts/build-worker.mjs, scripts/patch-package.mjs and patches/README.md.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { ensureWorker } from './build-worker.mjs';
import { APT_WAIT_FOR_LOCK } from './lib/apt.mjs';
import { FENGARI, patchPackage } from './patch-package.mjs';

const BUILD_PACKAGES = [
  'meson', 'ninja-build', 'pkg-config', 'g++', 'python3', 'git',
  'libssl-dev', 'libabsl-dev', 'libsrtp2-dev', 'libuv1-dev', 'nlohmann-json3-dev', 'libusrsctp-dev',
  // Not for the build: the janus.js and adapter.js that the --demos pages (and `npm start`) load.
  'libjs-janus-gateway', 'libjs-webrtc-adapter',
];

function log(msg) {
  process.stdout.write(`[install] ${msg}\n`);
}

/** Packages from the list that dpkg does not report as installed. */
function missingPackages() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...BUILD_PACKAGES], { encoding: 'utf8' });
  if (r.error) return null; // no dpkg: not Debian
  const installed = new Set(
    r.stdout.split('\n').filter((l) => l.endsWith(' installed')).map((l) => l.split(' ')[0]),
  );
  return BUILD_PACKAGES.filter((p) => !installed.has(p));
}

function aptInstall(pkgs) {
  return spawnSync('apt-get', [...APT_WAIT_FOR_LOCK, 'install', '-y', '--no-install-recommends', ...pkgs], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  }).status === 0;
}

function aptListsEmpty() {
  try {
    return fs.readdirSync('/var/lib/apt/lists').filter((f) => f.endsWith('_Packages')).length === 0;
  } catch {
    return true;
  }
}

function ensurePackages() {
  const missing = missingPackages();
  if (missing === null) {
    log('dpkg-query not found (not Debian?); assuming the build tools and libraries are present');
    return;
  }
  if (missing.length === 0) return;
  const line = `apt-get install -y ${missing.join(' ')}`;
  const canApt = process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0;
  if (!canApt) {
    process.stderr.write(`[install] missing Debian build packages; run as root: ${line}\n`);
    process.exit(1);
  }
  log(`missing Debian build packages: ${missing.join(' ')}; running: ${line}`);
  if (aptListsEmpty()) {
    log('apt lists are empty; running: apt-get update');
    spawnSync('apt-get', [...APT_WAIT_FOR_LOCK, 'update'], { stdio: 'inherit' });
  }
  if (!aptInstall(missing)) {
    log('apt-get install failed; running apt-get update and retrying');
    spawnSync('apt-get', [...APT_WAIT_FOR_LOCK, 'update'], { stdio: 'inherit' });
    if (!aptInstall(missing)) {
      process.stderr.write(`[install] could not install build packages; run as root: ${line}\n`);
      process.exit(1);
    }
  }
  const still = missingPackages() ?? [];
  if (still.length) {
    process.stderr.write(`[install] still missing after apt-get: ${still.join(' ')}; run: apt-get install -y ${still.join(' ')}\n`);
    process.exit(1);
  }
  log(`installed ${missing.join(' ')}`);
}

async function main() {
  if (!process.env.MEDIASOUP_WORKER_BIN) ensurePackages();
  await ensureWorker();
  log(`applied our ${FENGARI.name} ${FENGARI.version} patches to ${patchPackage(FENGARI).join(', ')}`);
}

main().catch((e) => {
  process.stderr.write(`[install] FAILED: ${e.message}\n`);
  process.exit(1);
});
