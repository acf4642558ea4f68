// Runs Lua code on a test's own Lua state (fengari's C API), results as text.

import { lua, lauxlib, to_luastring, type LuaState } from 'fengari';

/** Runs a Lua chunk and returns its results as JS strings (latin1; 'nil' for nil); throws its error. */
export function runLuaChunk(L: LuaState, code: string): string[] {
  const source = to_luastring(code);
  const base = lua.lua_gettop(L);
  if (lauxlib.luaL_loadbufferx(L, source, source.length, '=test', 't') !== lua.LUA_OK || lua.lua_pcall(L, 0, lua.LUA_MULTRET, 0) !== lua.LUA_OK) {
    const error = lua.lua_tojsstring(L, -1);
    lua.lua_settop(L, base);
    throw new Error(error);
  }
  const out: string[] = [];
  for (let i = base + 1, top = lua.lua_gettop(L); i <= top; i++) {
    lua.lua_checkstack(L, 10);
    out.push(Buffer.from(lauxlib.luaL_tolstring(L, i)).toString('latin1'));
    lua.lua_pop(L, 1);
  }
  lua.lua_settop(L, base);
  return out;
}
