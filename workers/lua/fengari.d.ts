// Minimal typings for the parts of fengari (Lua 5.3 in JavaScript) the worker uses.
// fengari ships no types; these follow its C-API names one to one.

declare module 'fengari' {
  export interface LuaState {
    readonly __luaStateBrand: unique symbol;
  }
  export type LuaString = Uint8Array;
  export type LuaJsFunction = (L: LuaState) => number;
  export type LuaHook = (L: LuaState, ar: unknown) => void;

  export const lua: {
    LUA_OK: number;
    LUA_YIELD: number;
    LUA_ERRRUN: number;
    LUA_ERRMEM: number;
    LUA_ERRERR: number;
    LUA_ERRSYNTAX: number;
    LUA_MULTRET: number;
    LUA_REGISTRYINDEX: number;
    LUA_RIDX_GLOBALS: number;
    LUA_MASKCOUNT: number;
    LUA_TNONE: number;
    LUA_TNIL: number;
    LUA_TBOOLEAN: number;
    LUA_TLIGHTUSERDATA: number;
    LUA_TNUMBER: number;
    LUA_TSTRING: number;
    LUA_TTABLE: number;
    LUA_TFUNCTION: number;
    LUA_TUSERDATA: number;
    LUA_TTHREAD: number;
    lua_atnativeerror(L: LuaState, f: LuaJsFunction | null): LuaJsFunction | null;
    lua_call(L: LuaState, nargs: number, nresults: number): void;
    lua_checkstack(L: LuaState, n: number): boolean;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_getfield(L: LuaState, idx: number, k: LuaString | string): number;
    lua_getglobal(L: LuaState, name: LuaString | string): number;
    lua_gethookcount(L: LuaState): number;
    lua_getmetatable(L: LuaState, idx: number): boolean;
    lua_gettable(L: LuaState, idx: number): number;
    lua_gettop(L: LuaState): number;
    lua_insert(L: LuaState, idx: number): void;
    lua_isinteger(L: LuaState, idx: number): boolean;
    lua_isstring(L: LuaState, idx: number): boolean;
    lua_newtable(L: LuaState): void;
    lua_next(L: LuaState, idx: number): number;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_pop(L: LuaState, n: number): void;
    lua_pushboolean(L: LuaState, b: boolean | number): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushjsfunction(L: LuaState, f: LuaJsFunction): void;
    lua_pushjsclosure(L: LuaState, f: LuaJsFunction, n: number): void;
    lua_pushlightuserdata(L: LuaState, p: unknown): void;
    lua_pushlstring(L: LuaState, s: LuaString, len: number): LuaString;
    lua_pushliteral(L: LuaState, s: string): LuaString;
    lua_pushnil(L: LuaState): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: LuaString | string | null): LuaString;
    lua_pushvalue(L: LuaState, idx: number): void;
    lua_rawequal(L: LuaState, a: number, b: number): boolean;
    lua_rawget(L: LuaState, idx: number): number;
    lua_rawgeti(L: LuaState, idx: number, n: number): number;
    lua_rawlen(L: LuaState, idx: number): number;
    lua_rawset(L: LuaState, idx: number): void;
    lua_rawseti(L: LuaState, idx: number, n: number): void;
    lua_remove(L: LuaState, idx: number): void;
    lua_setfield(L: LuaState, idx: number, k: LuaString | string): void;
    lua_setglobal(L: LuaState, name: LuaString | string): void;
    lua_sethook(L: LuaState, f: LuaHook | null, mask: number, count: number): void;
    lua_setmetatable(L: LuaState, idx: number): void;
    lua_settop(L: LuaState, idx: number): void;
    lua_toboolean(L: LuaState, idx: number): boolean;
    lua_tointegerx(L: LuaState, idx: number): number | false;
    lua_tojsstring(L: LuaState, idx: number): string;
    lua_tolstring(L: LuaState, idx: number): LuaString | null;
    lua_tonumberx(L: LuaState, idx: number): number | false;
    lua_touserdata(L: LuaState, idx: number): unknown;
    lua_type(L: LuaState, idx: number): number;
    lua_typename(L: LuaState, t: number): LuaString;
    lua_upvalueindex(i: number): number;
  };

  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_checkany(L: LuaState, arg: number): void;
    luaL_error(L: LuaState, fmt: LuaString | string, ...args: unknown[]): never;
    luaL_loadbufferx(L: LuaState, buff: LuaString, size: number, name: LuaString | string, mode: LuaString | string | null): number;
    luaL_ref(L: LuaState, t: number): number;
    luaL_loadfilex(L: LuaState, filename: LuaString | string, mode: LuaString | string | null): number;
    luaL_traceback(L: LuaState, L1: LuaState, msg: LuaString | null, level: number): void;
    luaL_tolstring(L: LuaState, idx: number): LuaString;
  };

  export const lualib: {
    luaL_openlibs(L: LuaState): void;
  };

  export function to_luastring(s: string, cache?: boolean): LuaString;
  export function to_jsstring(s: LuaString, from?: number, to?: number, replacementChar?: boolean): string;
}
