// Applies our edits to an installed npm package: unified diffs patches/<package>/NNN-name.patch,
// applied in name order with `git apply` to pristine copies of the files they touch. Each
// patched file keeps its pristine copy next to it as <file>.luasfu-orig, from which the patches
// are always applied, so installing again is idempotent. Used by scripts/build-worker.mjs
// (mediasoup) and scripts/install.mjs (fengari); runnable alone for fengari:
//   node scripts/patch-package.mjs                 patch node_modules/fengari
//   node scripts/patch-package.mjs --check [dir]   only check that every patch applies, to the
//                                                  installed package or to one unpacked in dir

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ORIG_SUFFIX = '.luasfu-orig';

/**
 * A package we patch this way (JS only: the patched files are written into node_modules).
 * `restoreDirs`: where files patched by an older patch set are looked for and restored.
 */
export const FENGARI = {
  name: 'fengari',
  version: '0.1.5',
  patchDir: path.join(ROOT, 'patches', 'fengari'),
  restoreDirs: ['src'],
};

/**
 * The installed package directory, as our code resolves it: under our own node_modules, or
 * higher up where npm hoisted it when luasfu is itself a dependency.
 */
export function packageDir(name, root = ROOT) {
  try {
    return path.dirname(createRequire(path.join(root, 'package.json')).resolve(`${name}/package.json`));
  } catch {
    return path.join(root, 'node_modules', name);
  }
}

/** The version in a package directory's package.json. */
export function packageVersion(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

/** The patch files in a directory, in the order they apply (absolute paths). */
export function listPatches(dir) {
  return fs.readdirSync(dir).filter((n) => /^\d{3}-[\w.-]+\.patch$/.test(n)).sort().map((n) => path.join(dir, n));
}

/**
 * A patch file's header (what and why, the text before its first `diff --git` line) and its
 * diff (from there on).
 * @param {string} patchText
 */
export function splitPatch(patchText) {
  const at = patchText.search(/^diff --git /m);
  return at < 0 ? { header: patchText, diff: '' } : { header: patchText.slice(0, at), diff: patchText.slice(at) };
}

/** The package-relative paths a unified diff touches (from its `diff --git a/X b/X` lines). */
export function patchTargets(patchText) {
  const out = new Set();
  for (const m of patchText.matchAll(/^diff --git a\/(\S+) b\/(\S+)$/gm)) {
    if (m[1] !== '/dev/null') out.add(m[1]);
    out.add(m[2]);
  }
  return [...out];
}

/** Runs git without inheriting a repository from the environment. */
function git(args, cwd) {
  const env = { ...process.env };
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE']) delete env[k];
  return spawnSync('git', args, { cwd, env, encoding: 'utf8' });
}

/**
 * Applies the patches, in order, to pristine copies of the files they touch and returns the
 * patched files (package-relative path -> content). Each patch is first checked with
 * `git apply --check`, then applied; a patch that does not apply throws, naming the package
 * and the patch and quoting git. `pristine(rel)` gives a file's unpatched content (undefined:
 * it does not exist).
 * @param {string} name  the package, for messages
 * @param {(rel: string) => Buffer | undefined} pristine
 * @param {string[]} patches
 * @returns {Map<string, Buffer>}
 */
export function applyPatches(name, pristine, patches) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `luasfu-${name}-patch-`));
  try {
    // Its own repository, so that git applies paths relative to it wherever tmpdir lies.
    const init = git(['init', '-q'], work);
    if (init.error || init.status !== 0) {
      throw new Error(`git is needed to apply our ${name} patches: ${init.error?.message ?? init.stderr}`);
    }
    /** @type {Set<string>} */
    const touched = new Set();
    for (const patch of patches) {
      for (const rel of patchTargets(fs.readFileSync(patch, 'utf8'))) {
        if (touched.has(rel)) continue;
        touched.add(rel);
        const content = pristine(rel);
        if (content === undefined) continue;
        fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
        fs.writeFileSync(path.join(work, rel), content);
      }
      // --whitespace=nowarn: a user's apply.whitespace=error must not reject the package's own lines.
      for (const args of [['apply', '--check', '--whitespace=nowarn', patch], ['apply', '--whitespace=nowarn', patch]]) {
        const r = git(args, work);
        if (r.status !== 0) {
          throw new Error(`${name} patch ${path.basename(patch)} does not apply (git ${args.join(' ')}): ${(r.stderr || String(r.error)).trim()}`);
        }
      }
    }
    /** @type {Map<string, Buffer>} */
    const out = new Map();
    for (const rel of [...touched].sort()) {
      const abs = path.join(work, rel);
      if (fs.existsSync(abs)) out.set(rel, fs.readFileSync(abs));
    }
    return out;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Unpatched content of an installed package's files: <file>.luasfu-orig where an install left one. */
export function installedPristine(dir) {
  return (rel) => {
    const abs = path.join(dir, rel);
    for (const f of [abs + ORIG_SUFFIX, abs]) {
      if (fs.existsSync(f)) return fs.readFileSync(f);
    }
    return undefined;
  };
}

/** Content of a package unpacked in dir, taken as it is (e.g. the published tarball). */
export function plainPristine(dir) {
  return (rel) => {
    const abs = path.join(dir, rel);
    return fs.existsSync(abs) ? fs.readFileSync(abs) : undefined;
  };
}

/**
 * Writes patched files into an installed package (idempotent: each keeps its pristine copy
 * next to it as <file>.luasfu-orig; files under `restoreDirs` that no patch touches any more
 * are restored from theirs).
 * @param {Map<string, Buffer>} files  package-relative path -> patched content
 * @param {string[]} restoreDirs  package-relative directories
 * @returns {string[]} the files patched
 */
export function writePatchedFiles(dir, files, restoreDirs) {
  for (const [file, content] of files) {
    const abs = path.join(dir, file);
    if (fs.existsSync(abs) && !fs.existsSync(abs + ORIG_SUFFIX)) fs.copyFileSync(abs, abs + ORIG_SUFFIX);
    if (!fs.existsSync(abs) || !fs.readFileSync(abs).equals(content)) fs.writeFileSync(abs, content);
  }
  for (const sub of restoreDirs) {
    const absDir = path.join(dir, sub);
    if (!fs.existsSync(absDir)) continue;
    for (const name of fs.readdirSync(absDir)) {
      if (!name.endsWith(ORIG_SUFFIX)) continue;
      const rel = path.posix.join(sub, name.slice(0, -ORIG_SUFFIX.length));
      if (files.has(rel)) continue;
      fs.copyFileSync(path.join(absDir, name), path.join(dir, rel));
      fs.rmSync(path.join(absDir, name));
    }
  }
  return [...files.keys()];
}

/** Fails unless the package in dir is the version our patches are written for. */
export function checkVersion(name, version, dir) {
  const have = packageVersion(dir);
  if (have !== version) throw new Error(`our ${name} patches are written for ${version}, ${dir} is ${have}`);
  return have;
}

/**
 * Checks that every patch of `pkg` applies, in order, to the installed package or to one
 * unpacked in `dir` (taken as pristine). Writes nothing.
 * @returns {string[]} the files the patches touch
 */
export function checkPackagePatches(pkg, dir = packageDir(pkg.name)) {
  checkVersion(pkg.name, pkg.version, dir);
  const pristine = path.resolve(dir) === packageDir(pkg.name) ? installedPristine(dir) : plainPristine(dir);
  return [...applyPatches(pkg.name, pristine, listPatches(pkg.patchDir)).keys()];
}

/**
 * Patches the installed package: applies every patch to the pristine files (failing before
 * anything is written if one does not apply), then writes the patched files.
 * @returns {string[]} the files patched
 */
export function patchPackage(pkg, dir = packageDir(pkg.name)) {
  checkVersion(pkg.name, pkg.version, dir);
  const files = applyPatches(pkg.name, installedPristine(dir), listPatches(pkg.patchDir));
  return writePatchedFiles(dir, files, pkg.restoreDirs);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const log = (msg) => process.stdout.write(`[${FENGARI.name}] ${msg}\n`);
  try {
    const at = process.argv.indexOf('--check');
    if (at >= 0) {
      const dir = process.argv[at + 1] ? path.resolve(process.argv[at + 1]) : packageDir(FENGARI.name);
      const files = checkPackagePatches(FENGARI, dir);
      log(`all ${listPatches(FENGARI.patchDir).length} patches apply to ${dir} (${files.join(', ')})`);
    } else {
      log(`patched ${patchPackage(FENGARI).join(', ')}`);
    }
  } catch (e) {
    process.stderr.write(`[${FENGARI.name}] FAILED: ${e.message}\n`);
    process.exit(1);
  }
}
