// Native work done for a Lua script (the built-in modules' functions) is charged to the
// script's instruction budget through its count hook, as many units as VM instructions that
// take about as long, so an enormous input meets the instruction limit and the memory
// watchdog (checked at each hook) instead of blocking the script thread.

import { lua, type LuaState, type LuaHook } from 'fengari';

/** The parts of fengari's C API this module uses beyond workers/lua/fengari.d.ts. */
const api = lua as typeof lua & {
  lua_gethook(L: LuaState): LuaHook | null;
  lua_gethookmask(L: LuaState): number;
  lua_Debug: new () => { event: number };
  LUA_HOOKCOUNT: number;
};

/** Units charged per list item visited, per parsed line (and per 16 bytes of text). */
export const ITEM_UNITS = 3;
export const LINE_UNITS = 6;

/** Units of native work done since the script's count hook last ran on their account. */
let owed = 0;

/**
 * Charges `units` of work to the running script: every hook-count units the count hook runs,
 * as after that many VM instructions (it raises the instruction or memory limit error).
 */
export function charge(L: LuaState, units: number): void {
  owed += units;
  const count = lua.lua_gethookcount(L);
  if (owed < count) return;
  const hook = api.lua_gethook(L);
  if (hook === null || count <= 0 || (api.lua_gethookmask(L) & lua.LUA_MASKCOUNT) === 0) {
    owed = 0;
    return;
  }
  const ar = new api.lua_Debug();
  ar.event = api.LUA_HOOKCOUNT;
  // Settled before the calls: once the hook raises the limit error the rest is moot, and must
  // not be billed to the script's next callback.
  let calls = Math.floor(owed / count);
  owed -= calls * count;
  while (calls-- > 0) hook(L, ar);
}
