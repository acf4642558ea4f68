// Our edits to fengari (patches/fengari, applied at install by scripts/install.mjs through
// scripts/patch-package.mjs): they apply to the published 0.1.5 tarball, and the copy the
// Lua runtime loads is the patched one, with the patches' effects.

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lauxlib, lua, lualib, to_luastring, type LuaState } from 'fengari';

/** Runs a chunk on a fresh state with the standard libraries and returns its integer results. */
function runLua(src: string, nresults: number): { L: LuaState; results: (number | false)[] } {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  const code = to_luastring(src);
  expect(lauxlib.luaL_loadbufferx(L, code, code.length, 'test', 't')).to.equal(lua.LUA_OK);
  expect(lua.lua_pcall(L, 0, nresults, 0)).to.equal(lua.LUA_OK);
  const results: (number | false)[] = [];
  for (let i = 1; i <= nresults; i++) results.push(lua.lua_tointegerx(L, i));
  lua.lua_settop(L, 0);
  return { L, results };
}

// scripts/patch-package.mjs is plain ESM without types; a variable specifier keeps tsc out.
const PATCH_SCRIPT = '../../scripts/patch-package.mjs';

describe('scripts/patch-package.mjs and patches/fengari', () => {
  let tmp: string;
  before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'luasfu-fengari-patch-test-')); });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('every patch says what and why in its header and touches only src/', async () => {
    const { FENGARI, listPatches, patchTargets } = await import(PATCH_SCRIPT);
    const patches = listPatches(FENGARI.patchDir) as string[];
    expect(patches.map((p) => path.basename(p))).to.include('010-stack-clear-not-delete.patch');
    for (const p of patches) {
      const text = fs.readFileSync(p, 'utf8');
      const header = text.slice(0, text.indexOf('\ndiff --git '));
      expect(header, path.basename(p)).to.match(/What:/).and.match(/Why:/);
      for (const target of patchTargets(text) as string[]) expect(target).to.match(/^src\/[\w.]+\.js$/);
    }
  });

  it('the patches apply to a clean fengari 0.1.5 package (git apply --check, in order)', async function () {
    this.timeout(120_000);
    const { FENGARI, checkPackagePatches } = await import(PATCH_SCRIPT);
    // The published tarball (npm's cache after npm ci), not node_modules, which we patch.
    execFileSync('npm', ['pack', `fengari@${FENGARI.version}`, '--prefer-offline', '--silent', '--pack-destination', tmp], { stdio: 'pipe', timeout: 100_000 });
    execFileSync('tar', ['xzf', path.join(tmp, `fengari-${FENGARI.version}.tgz`), '-C', tmp]);
    const files = checkPackagePatches(FENGARI, path.join(tmp, 'package')) as string[];
    expect(files).to.include.members(['src/ldo.js', 'src/lapi.js', 'src/lstring.js']);
    // Applied once, a patch no longer applies: the check really reads what it is given.
    for (const [rel, content] of (await import(PATCH_SCRIPT)).applyPatches('fengari', (r: string) => fs.readFileSync(path.join(tmp, 'package', r)), [path.join(FENGARI.patchDir, '010-stack-clear-not-delete.patch')]) as Map<string, Buffer>) {
      fs.writeFileSync(path.join(tmp, 'package', rel), content);
    }
    expect(() => checkPackagePatches(FENGARI, path.join(tmp, 'package'))).to.throw(/fengari patch 010-stack-clear-not-delete\.patch does not apply/);
  });

  it('patching the installed copy again changes nothing, and the installed copy is patched', async () => {
    const { FENGARI, packageDir, patchPackage, applyPatches, installedPristine, listPatches } = await import(PATCH_SCRIPT);
    const dir = packageDir(FENGARI.name) as string;
    const before = new Map((patchPackage(FENGARI) as string[]).map((rel) => [rel, fs.readFileSync(path.join(dir, rel))]));
    patchPackage(FENGARI);
    const want = applyPatches('fengari', installedPristine(dir), listPatches(FENGARI.patchDir)) as Map<string, Buffer>;
    for (const [rel, content] of want) {
      expect(fs.readFileSync(path.join(dir, rel)).equals(content), rel).to.equal(true);
      expect(fs.readFileSync(path.join(dir, rel)).equals(before.get(rel)!), rel).to.equal(true);
      expect(fs.existsSync(path.join(dir, rel + '.luasfu-orig')), rel).to.equal(true);
    }
    // The module the runtime loads is that copy.
    expect(require.resolve('fengari')).to.equal(path.join(dir, 'src', 'fengari.js'));
    for (const file of ['lapi.js', 'ldo.js', 'lvm.js']) {
      expect(fs.readFileSync(path.join(dir, 'src', file), 'utf8'), file).to.not.match(/delete \w+\.stack\[/);
    }
  });

  it('010: the Lua stack stays a JS array of plain slots after deep calls return', () => {
    const src = 'local function deep(n) if n == 0 then return 0 end return 1 + deep(n - 1) end return deep(150)';
    const { L, results } = runLua(src, 1);
    expect(results).to.deep.equal([150]);
    // Popped slots hold undefined instead of being deleted (holes): every index is an own key.
    const stack = (L as unknown as { stack: unknown[] }).stack;
    expect(stack.length).to.be.greaterThan(150);
    let holes = 0;
    for (let i = 0; i < 160; i++) if (!Object.prototype.hasOwnProperty.call(stack, i)) holes++;
    expect(holes).to.equal(0);
  });

  it('020: strings whose bytes spell the same unpadded hex are different table keys', () => {
    const src = 'local t = {} t["\\1\\35"] = 1 t["\\18\\3"] = 2 local n = 0 for _ in pairs(t) do n = n + 1 end return t["\\1\\35"], t["\\18\\3"], n';
    expect(runLua(src, 3).results).to.deep.equal([1, 2, 2]);
  });

  it('030: every byte value keys a table on its own, and the 256 one-byte keys are distinct', () => {
    // string.char(0..255) as keys, each read back; then the count of distinct keys, and a long
    // key (past 4096 bytes) that differs from another only in its last byte.
    const src = `local t, n = {}, 0
      for b = 0, 255 do t[string.char(b)] = b end
      for b = 0, 255 do if t[string.char(b)] == b then n = n + 1 end end
      local distinct = 0 for _ in pairs(t) do distinct = distinct + 1 end
      local long = string.rep("\\200", 5000)
      t[long .. "\\1"] = 1 t[long .. "\\2"] = 2
      return n, distinct, t[long .. "\\1"], t[long .. "\\2"]`;
    expect(runLua(src, 4).results).to.deep.equal([256, 256, 1, 2]);
    // The key itself: one UTF-16 unit per byte, as patch 020 made it (light userdata keys rely
    // on the "|" prefix not clashing with theirs).
    const { luaS_hash } = require('fengari/src/lstring') as { luaS_hash: (s: Uint8Array) => string };
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i).subarray(3, 250);
    expect(luaS_hash(bytes)).to.equal('|' + String.fromCharCode(...bytes));
  });
});
