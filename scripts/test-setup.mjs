#!/usr/bin/env node
// Makes the real Janus parts the tests use available on a fresh Debian machine (run by
// `npm test` before mocha; plain Node, no dependencies):
//  - Janus's own Lua and Duktape scripts from Debian's `janus` package, extracted (never
//    installed, never committed) into test/.fixtures/janus/{lua,duktape};
//  - janus.js from `libjs-janus-gateway`, extracted into test/.fixtures/janus.js;
//  - adapter.js from `libjs-webrtc-adapter` (the `adapter` global janus.js uses, as the demo
//    pages load it), extracted into test/.fixtures/adapter.js;
//  - Janus's demo pages from `janus-demos` with the libraries they load (jQuery, Bootstrap,
//    bootbox, spin.js, toastr, janus.js, adapter.js, Font Awesome…), extracted with their
//    /usr/share layout (so the pages' relative links work) into test/.fixtures/janus-demos;
//  - installed with apt-get (root): `janus-tools` (janus-pp-rec), `chromium`, `nginx` (the
//    reverse-proxy test starts its own instance on 127.0.0.1; the package's service is not used)
//    and `openssl` (the TLS tests make their own certificates).
// Without root or apt it prints the exact apt-get line and exits non-zero.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APT_WAIT_FOR_LOCK } from './lib/apt.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test', '.fixtures');
const janusDir = join(fixtures, 'janus');
const janusJs = join(fixtures, 'janus.js');
const adapterJs = join(fixtures, 'adapter.js');
const demosTree = join(fixtures, 'janus-demos');
const DEMO_PAGES = ['videoroomtest.html', 'videoroomtest.js', 'mvideoroomtest.html', 'mvideoroomtest.js'];
// janus-demos and the packages its pages load scripts and styles from (its Depends, less
// libjs-blueimp-md5, which bookworm lacks and the video room pages don't use).
const DEMO_PACKAGES = [
  'janus-demos', 'libjs-janus-gateway', 'libjs-webrtc-adapter', 'libjs-jquery', 'libjs-jquery-blockui', 'libjs-bootstrap',
  'libjs-bootbox', 'libjs-spin.js', 'libjs-toastr', 'libjs-bootswatch', 'fonts-font-awesome',
];
const INSTALL = ['janus-tools', 'chromium', 'nginx', 'openssl'];
const NEEDED_SCRIPTS = ['lua/echotest.lua', 'lua/videoroom.lua', 'lua/janus-sdp.lua', 'lua/janus-logger.lua', 'duktape/echotest.js', 'duktape/janus-sdp.js'];

const say = (text) => console.log(`[test-setup] ${text}`);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function run(cmd, args, options = {}) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 600_000, ...options });
}

function haveCommand(cmd) {
  try {
    run('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

function fail(message, aptLine) {
  console.error(`[test-setup] ${message}`);
  if (aptLine) console.error(`[test-setup] run as root:  ${aptLine}`);
  process.exit(1);
}

let updated = false;
function aptUpdate() {
  if (updated) return;
  say('apt-get update');
  run('apt-get', [...APT_WAIT_FOR_LOCK, 'update']);
  updated = true;
}

/** apt-get download <pkg> into a temp dir (updating the lists once if that fails). */
function download(pkg) {
  const dir = mkdtempSync(join(tmpdir(), 'luasfu-apt-'));
  const attempt = () => run('apt-get', ['download', pkg], { cwd: dir });
  try {
    attempt();
  } catch {
    if (!isRoot) fail(`apt-get download ${pkg} failed`, 'apt-get update');
    aptUpdate();
    attempt();
  }
  const deb = readdirSync(dir).find((f) => f.endsWith('.deb'));
  if (!deb) fail(`apt-get download ${pkg} produced no .deb`);
  return { dir, deb: join(dir, deb) };
}

/** dpkg -x the package into a temp dir and copy only `paths` (package paths) to `targets`. */
function extract(pkg, copies) {
  say(`downloading ${pkg} (apt-get download) and extracting ${copies.map((c) => c.from).join(', ')}`);
  const { dir, deb } = download(pkg);
  try {
    const tree = join(dir, 'tree');
    run('dpkg', ['-x', deb, tree]);
    for (const { from, to } of copies) {
      const source = join(tree, from);
      if (!existsSync(source)) fail(`${pkg} has no ${from}`);
      mkdirSync(dirname(to), { recursive: true });
      cpSync(source, to, { recursive: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** dpkg -x each package into `target`, keeping the packages' file tree (and relative symlinks). */
function extractTree(pkgs, target) {
  say(`downloading ${pkgs.join(', ')} (apt-get download) and extracting them into ${target}`);
  mkdirSync(target, { recursive: true });
  for (const pkg of pkgs) {
    const { dir, deb } = download(pkg);
    try {
      run('dpkg', ['-x', deb, target]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

if (!haveCommand('apt-get') || !haveCommand('dpkg')) {
  fail('apt-get/dpkg not found: the tests need Debian packages (janus, libjs-janus-gateway, janus-tools, chromium)',
    `apt-get install -y ${INSTALL.join(' ')}`);
}

// 1. Janus's scripts.
if (NEEDED_SCRIPTS.every((p) => existsSync(join(janusDir, p)))) {
  say(`Janus scripts present in ${janusDir}`);
} else {
  extract('janus', [
    { from: 'usr/share/janus/lua', to: join(janusDir, 'lua') },
    { from: 'usr/share/janus/duktape', to: join(janusDir, 'duktape') },
  ]);
  say(`Janus scripts extracted to ${janusDir}`);
}

// 2. janus.js
if (existsSync(janusJs)) {
  say(`janus.js present at ${janusJs}`);
} else {
  extract('libjs-janus-gateway', [{ from: 'usr/share/javascript/janus-gateway/janus.js', to: janusJs }]);
  say(`janus.js extracted to ${janusJs}`);
}

// 2b. adapter.js (webrtc-adapter), which janus.js's default dependencies expect as a global.
if (existsSync(adapterJs)) {
  say(`adapter.js present at ${adapterJs}`);
} else {
  extract('libjs-webrtc-adapter', [{ from: 'usr/share/javascript/webrtc-adapter/adapter.js', to: adapterJs }]);
  say(`adapter.js extracted to ${adapterJs}`);
}

// 2c. Janus's demo pages (videoroomtest.html, mvideoroomtest.html) and what they load.
const demosDir = join(demosTree, 'usr', 'share', 'janus', 'demos');
if (DEMO_PAGES.every((p) => existsSync(join(demosDir, p))) && existsSync(join(demosTree, 'usr', 'share', 'javascript', 'jquery'))) {
  say(`Janus demo pages present in ${demosDir}`);
} else {
  rmSync(demosTree, { recursive: true, force: true });
  extractTree(DEMO_PACKAGES, demosTree);
  say(`Janus demo pages extracted to ${demosDir}`);
}

// 3. Installed tools.
const missing = [];
if (!haveCommand('janus-pp-rec')) missing.push('janus-tools');
if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
if (!existsSync('/usr/sbin/nginx')) missing.push('nginx');
if (!haveCommand('openssl')) missing.push('openssl');
if (missing.length === 0) {
  say('janus-pp-rec, /usr/bin/chromium, /usr/sbin/nginx and openssl present');
} else {
  const line = `apt-get install -y ${missing.join(' ')}`;
  if (!isRoot) fail(`missing ${missing.join(', ')}`, line);
  say(`installing ${missing.join(', ')} (${line})`);
  try {
    run('apt-get', [...APT_WAIT_FOR_LOCK, 'install', '-y', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch {
    aptUpdate();
    run('apt-get', [...APT_WAIT_FOR_LOCK, 'install', '-y', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  say(`installed ${missing.join(', ')}`);
}
say('done');
