// Our edits to fengari (patches/fengari, applied at install by scripts/install.mjs through
// scripts/patch-package.mjs): they apply to the published 0.1.5 tarball, and the copy the
// Lua runtime loads is the patched one, with the patches' effects.

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lauxlib, lua, lualib, to_luastring, type LuaState } from 'fengari';

/**
 * Runs a chunk on a fresh state with the standard libraries (and whatever `prepare` adds) and
 * returns its integer results.
 */
function runLua(src: string, nresults: number, prepare?: (L: LuaState) => void): { L: LuaState; results: (number | false)[] } {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  prepare?.(L);
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
    const { FENGARI, listPatches, patchTargets, splitPatch } = await import(PATCH_SCRIPT);
    const patches = listPatches(FENGARI.patchDir) as string[];
    expect(patches.map((p) => path.basename(p))).to.include('010-stack-clear-not-delete.patch');
    for (const p of patches) {
      const text = fs.readFileSync(p, 'utf8');
      const { header } = splitPatch(text) as { header: string };
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
    expect(files).to.include.members(['src/ldo.js', 'src/lapi.js', 'src/lstring.js', 'src/ltable.js']);
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

describe('fengari patch 050', () => {
  interface CallInfo { next: CallInfo | null; previous: CallInfo | null; l_base: number }
  interface Internals { ci: CallInfo; base_ci: CallInfo; stack: unknown[] }

  /** Loads `src` on a fresh state whose global probe() records its Lua caller's frame. */
  function withProbe(src: string, nresults: number): { L: Internals; frames: CallInfo[]; registers: unknown[]; results: (number | false)[] } {
    const frames: CallInfo[] = [];
    const registers: unknown[] = [];
    const { L, results } = runLua(src, nresults, (state) => {
      lua.lua_pushjsfunction(state, (S: LuaState) => {
        const caller = (S as unknown as Internals).ci.previous as CallInfo;
        frames.push(caller);
        // The TValue object of the caller's second register.
        registers.push((S as unknown as Internals).stack[caller.l_base + 1]);
        return 0;
      });
      lua.lua_setglobal(state, 'probe');
    });
    return { L: L as unknown as Internals, frames, registers, results };
  }

  it('050: calls of a Lua function reuse its CallInfo and its registers\' TValues', () => {
    const { frames, registers, results } = withProbe(
      'local function f(a) local x, y = a, a * 2 probe() return x + y end local s = 0 for i = 1, 4 do s = s + f(i) end return s', 1);
    expect(results).to.deep.equal([30]);
    expect(frames).to.have.length(4);
    // Stock fengari allocates both afresh on every call.
    expect(new Set(frames.slice(1)).size).to.equal(1);
    expect(new Set(registers.slice(1)).size).to.equal(1);
  });

  it('050: closures keep their own values while later calls reuse the slots, also across errors and coroutines', () => {
    const src = `
      local fs = {}
      local function mk(i) local v = i * 10 fs[#fs + 1] = function() v = v + 1 return v end end
      for i = 1, 5 do mk(i) end
      local function noise(a, b, c) local x, y, z = a, b, c return x + y + z end
      for i = 1, 20 do noise(i, i, i) end
      local ok = pcall(function() local w = 99 fs[#fs + 1] = function() return w end error("x") end)
      for i = 1, 20 do noise(-i, 0, 0) end
      local co = coroutine.wrap(function(a) local u = a coroutine.yield(function() return u end) end)
      local fromco = co(7)
      for i = 1, 20 do noise(i, 0, 0) end
      return fs[1](), fs[1](), fs[3](), fs[5](), (ok and 1 or 0), fs[6](), fromco()`;
    expect(runLua(src, 7).results).to.deep.equal([11, 12, 31, 51, 0, 99, 7]);
  });

  it('050: after a deep recursion returns, at most 32 spare CallInfos stay', () => {
    const { L, results } = withProbe('local function deep(n) if n == 0 then probe() return 0 end return 1 + deep(n - 1) end return deep(500)', 1);
    expect(results).to.deep.equal([500]);
    let spares = 0;
    for (let ci = L.base_ci.next; ci !== null && spares < 1000; ci = ci.next) spares++;
    expect(spares).to.be.within(1, 32);
  });
});

describe('fengari patch 060', () => {
  it('060: strings pushed from JavaScript are copied byte for byte (not iterated), and stay copies', () => {
    const L = lauxlib.luaL_newstate();
    const source = Buffer.from('a=rtpmap:111 opus/48000/2');
    // Uint8Array.from (stock fengari) follows a source's iterator; a copy of the bytes does not.
    const view = source.subarray(2, 8);
    Object.defineProperty(view, Symbol.iterator, { value: function* () { yield 0x3f; } });
    lua.lua_pushstring(L, view);
    lua.lua_pushlstring(L, source, 1);
    source[2] = 0x58;
    expect([lua.lua_tojsstring(L, 1), lua.lua_tojsstring(L, 2)]).to.deep.equal(['rtpmap', 'a']);
  });
});

describe('fengari patch 080', () => {
  /** The text Lua gives each value (`tostring` and `..`), read back as a JS string. */
  function luaTexts(values: string): string[] {
    const L = lauxlib.luaL_newstate();
    lualib.luaL_openlibs(L);
    const code = to_luastring(`local out = {} for i, v in ipairs({ ${values} }) do out[#out + 1] = tostring(v) .. "|" .. v end return table.concat(out, ",")`);
    expect(lauxlib.luaL_loadbufferx(L, code, code.length, 'test', 't')).to.equal(lua.LUA_OK);
    expect(lua.lua_pcall(L, 0, 1, 0)).to.equal(lua.LUA_OK);
    return lua.lua_tojsstring(L, -1).split(',');
  }

  it('080: integral floats become text without toPrecision, and every number reads as before', () => {
    // Stock fengari formats every float through Number.prototype.toPrecision (Bignum work);
    // the patch formats integral floats below 1e14 from their digits.
    const toPrecision = Object.getOwnPropertyDescriptor(Number.prototype, 'toPrecision')!;
    Object.defineProperty(Number.prototype, 'toPrecision', { ...toPrecision, value: () => { throw new Error('toPrecision called'); } });
    let ids: string[];
    try {
      ids = luaTexts('3735928559.0, 1.0, -0.0, -42.0, 99999999999999.0, 4294967295.0');
    } finally {
      Object.defineProperty(Number.prototype, 'toPrecision', toPrecision);
    }
    expect(ids).to.deep.equal(['3735928559.0|3735928559.0', '1.0|1.0', '0.0|0.0', '-42.0|-42.0',
      '99999999999999.0|99999999999999.0', '4294967295.0|4294967295.0']);
    // The other floats as stock fengari prints them (String(Number(n.toPrecision(14))), then
    // ".0" when that looks like an integer), and integers (32-bit in fengari) as they are.
    expect(luaTexts('1e14, 123456789012345.0, 2^53, 0.1, 1/3, -1.5e-7, 1e300, 7, -2147483648')).to.deep.equal([
      '100000000000000.0|100000000000000.0', '123456789012350.0|123456789012350.0',
      '9007199254741000.0|9007199254741000.0', '0.1|0.1', '0.33333333333333|0.33333333333333',
      '-1.5e-7|-1.5e-7', '1e+300|1e+300', '7|7', '-2147483648.0|-2147483648.0']);
  });
});

describe('fengari patch 090', () => {
  it('090: slots a lowered top leaves keep their TValues (nil) for the next growth, and values stay right', () => {
    const L = lauxlib.luaL_newstate();
    lualib.luaL_openlibs(L);
    const stack = (L as unknown as { stack: unknown[] }).stack;
    for (let i = 1; i <= 5; i++) lua.lua_pushinteger(L, i);
    const pushed = stack.slice(1, 6);
    lua.lua_settop(L, 0);
    // Stock fengari stores undefined in the slots; the patch nils their TValues in place.
    const samePushed = (): boolean => stack.slice(1, 6).every((v, i) => v === pushed[i]);
    expect(samePushed()).to.equal(true);
    expect(pushed.every((v) => (v as { type: number }).type === lua.LUA_TNIL)).to.equal(true);
    lua.lua_settop(L, 5);
    expect(samePushed()).to.equal(true);
    for (let i = 1; i <= 5; i++) expect(lua.lua_type(L, i)).to.equal(lua.LUA_TNIL);
    lua.lua_settop(L, 0);
    // A host function that pops what it pushed, called between uses of locals and upvalues.
    lua.lua_pushjsfunction(L, (S: LuaState) => {
      for (let i = 0; i < 8; i++) lua.lua_pushinteger(S, 100 + i);
      lua.lua_settop(S, 0);
      return 0;
    });
    lua.lua_setglobal(L, 'junk');
    const src = `local function f(n) local acc = {} for i = 1, n do local v = i * 3 acc[#acc + 1] = function() return v end junk() end
        local a, b, c, d, e, g, h = 1, 2, 3, 4, 5, 6, 7 junk() return a + b + c + d + e + g + h, acc[1]() + acc[n]() end
      local s1, s2 = f(4) local t1, t2 = f(6) return s1, s2, t1, t2`;
    const code = to_luastring(src);
    expect(lauxlib.luaL_loadbufferx(L, code, code.length, 'test', 't')).to.equal(lua.LUA_OK);
    expect(lua.lua_pcall(L, 0, 4, 0)).to.equal(lua.LUA_OK);
    expect([1, 2, 3, 4].map((i) => lua.lua_tointegerx(L, i))).to.deep.equal([28, 15, 28, 21]);
  });
});

describe('fengari patch 070', () => {
  it('070: pairs walks a list built by a constructor in index order, as C Lua does', () => {
    // 60 items: two OP_SETLIST flushes (50 per flush); each index checked against its visit.
    const items = Array.from({ length: 60 }, (_, i) => `"v${i + 1}"`).join(', ');
    const src = `local t = { ${items} } local n, ordered = 0, 0
      for k, v in pairs(t) do n = n + 1 if k == n and v == "v" .. n then ordered = ordered + 1 end end
      return n, ordered, #t`;
    expect(runLua(src, 3).results).to.deep.equal([60, 60, 60]);
  });
});

describe('fengari patch 040', () => {
  /** The Table object behind the value at the top of L's stack (fengari's internals). */
  function topTable(L: LuaState): { dead_strong: Map<unknown, unknown>; dead_weak?: WeakMap<object, unknown> } {
    const s = L as unknown as { stack: { value: unknown }[]; top: number };
    return s.stack[s.top - 1].value as { dead_strong: Map<unknown, unknown> };
  }

  function run(L: LuaState, src: string, nresults: number): (number | string | boolean | null)[] {
    const code = to_luastring(src);
    expect(lauxlib.luaL_loadbufferx(L, code, code.length, 'test', 't')).to.equal(lua.LUA_OK);
    const status = lua.lua_pcall(L, 0, nresults, 0);
    expect(status, status === lua.LUA_OK ? '' : lua.lua_tojsstring(L, -1)).to.equal(lua.LUA_OK);
    const out: (number | string | boolean | null)[] = [];
    for (let i = 1; i <= nresults; i++) {
      const t = lua.lua_type(L, i);
      out.push(t === lua.LUA_TNUMBER ? Number(lua.lua_tonumberx(L, i)) : t === lua.LUA_TSTRING ? lua.lua_tojsstring(L, i)
        : t === lua.LUA_TBOOLEAN ? lua.lua_toboolean(L, i) : null);
    }
    lua.lua_settop(L, 0);
    return out;
  }

  it('040: a new key empties the dead-key Map only when a key was deleted since', () => {
    const L = lauxlib.luaL_newstate();
    lualib.luaL_openlibs(L);
    class CountingMap extends Map<unknown, unknown> {
      clears = 0;
      override clear(): void { this.clears++; super.clear(); }
    }
    const dead = new CountingMap();
    lua.lua_newtable(L);
    topTable(L).dead_strong = dead;
    lua.lua_setglobal(L, 'T');
    // 200 new keys, nothing deleted: stock fengari clears the (empty) Map 200 times.
    run(L, 'for i = 1, 200 do T["k" .. i] = i end', 0);
    expect(dead.clears).to.equal(0);
    // Two deleted keys wait in it (so that next(T, "k1") still works) until the next new key.
    expect(run(L, 'T.k1 = nil T.k2 = nil return (next(T, "k1"))', 1)).to.deep.equal(['k3']);
    expect(dead.size).to.equal(2);
    run(L, 'T.new = 1', 0);
    expect([dead.clears, dead.size]).to.deep.equal([1, 0]);
    run(L, 'T.new2 = 2 T.k3 = 33', 0);
    expect(dead.clears).to.equal(1);
  });

  it('040: next keeps working while keys are deleted during a traversal, and forgets them after a new key', () => {
    const L = lauxlib.luaL_newstate();
    lualib.luaL_openlibs(L);
    // String, float and table keys (the last are in the weak dead map), all deleted as they
    // are visited, plus deletions ahead of the traversal (never visited then).
    const src = `
      local t, tabkeys = {}, {}
      for i = 1, 100 do t["k" .. i] = i t[i + 0.5] = i local k = {} tabkeys[i] = k t[k] = i end
      local visited, sum = 0, 0
      for k, v in pairs(t) do
        visited = visited + 1 sum = sum + v t[k] = nil
        if k == "k50" then t["k51"] = nil end
        if k == "k51" then return "visited a key deleted ahead" end
      end
      local ok, err = pcall(function()
        local u = { a = 1, b = 2, c = 3 }
        local first = next(u) u[first] = nil
        local second = next(u, first)   -- from a dead key
        assert(second ~= nil and u[second] ~= nil)
        u[second] = 20                  -- an existing key: not a new one
        assert(next(u, first) == second)
        u.d = 4                         -- a new key: dead keys are forgotten
        return next(u, first)
      end)
      return next(t) == nil, visited, sum, ok, tostring(err)`;
    const [empty, visited, sum, ok, err] = run(L, src, 5);
    expect([empty, ok]).to.deep.equal([true, false]);
    // 300 keys less k51, unless k51 was visited before k50 (insertion order: it is not).
    expect(visited).to.equal(299);
    expect(sum).to.equal(3 * 5050 - 51);
    expect(err).to.match(/invalid key to 'next'/);
  });
});
