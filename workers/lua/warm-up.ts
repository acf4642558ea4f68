// Warms the script thread up after a Lua script loads. V8 runs Fengari (the Lua VM, its string
// library) and our `json`/`sdp` modules in its interpreter until they are hot: a freshly loaded
// script negotiates its first offers several times slower than it will (lua/echotest.lua: 15-30
// ms for the first, 5-10 for the next dozens, ~1 warm; bench/README.md, "Eleventh session"),
// and clients reconnecting after a restart all arrive in that phase. So the worker, between
// tasks, negotiates a built-in offer in a throwaway state the way scripts do: through our
// modules (as lua/*.lua do) and with Lua patterns over the SDP text (as Janus's janus-sdp.lua
// does; its own code paths stay partly cold: Janus's echotest.lua gains 1.6x, ours 3.3x). V8's
// optimizations belong to the JavaScript functions, not to a Lua state, so the script's own
// calls find them done. Bounded in negotiations and in time; never touches the script.

import { lua, lauxlib, to_luastring, type LuaState } from 'fengari';
import { WarmUpBudget } from '../../src/common/warm-up-budget';
import { WARM_UP_OFFER } from '../../src/common/warm-up-offer';
import { HOOK_STEP, createEnvironment, pushMessageHandler } from './lua-libs';

/** At most this many negotiations (by ~40 a first offer costs what a warm one does). */
export const WARM_UP_NEGOTIATIONS = 40;
/** ... and at most this much time spent in them, in case the machine is slow or loaded. */
export const WARM_UP_BUDGET_MS = 1500;
/** The throwaway state's allocation cap. */
const WARM_UP_MEMORY_BYTES = 32 * 1024 * 1024;
/** Its instruction count hook, as a script's (same hook step); it only makes the state alike. */
const HOOK = { fn: (): void => {}, count: HOOK_STEP };

/**
 * `negotiate(offer)`: what a script does with an offer, through `json` and `sdp` as
 * lua/echotest.lua and lua/videoroom.lua do, and with Lua patterns as janus-sdp.lua does;
 * raises if any of it went wrong (a warm-up that negotiated nothing would warm nothing).
 */
const NEGOTIATE_CHUNK = `
local json = require('json')
local sdp = require('sdp')
local function scan(text)
  local sections, current = {}, nil
  for line in text:gmatch("[^\\r\\n]+") do
    local kind, value = line:match("^(%a)=(.*)$")
    if kind == "m" then
      local media, port, proto, fmts = value:match("^(%w+) (%d+) ([%w/]+) ?(.*)$")
      current = { media = media, port = tonumber(port), proto = proto, pts = {}, attrs = {} }
      for pt in fmts:gmatch("%S+") do current.pts[#current.pts + 1] = pt end
      sections[#sections + 1] = current
    elseif kind == "a" and current then
      local name, rest = value:match("^([%w%-]+):?(.*)$")
      if name == "rtpmap" then
        local pt, codec, rate = rest:match("^(%d+) ([%w%-]+)/(%d+)")
        current.attrs[#current.attrs + 1] = string.format("%s %s/%d", pt, codec:lower(), tonumber(rate))
      elseif name then
        current.attrs[#current.attrs + 1] = name .. (rest ~= "" and (":" .. rest:gsub("%s+$", "")) or "")
      end
    end
  end
  return sections
end
local sessions = {}
function negotiate(offerText)
  local jsep = json.decode(json.encode({ type = "offer", sdp = offerText }))
  local offer = sdp.parse(jsep.sdp)
  local answer = sdp.generateAnswer(offer, { audio = true, video = true, data = true })
  local audio, video = sdp.negotiatedCodec(answer, "audio"), sdp.negotiatedCodec(answer, "video")
  local pt = sdp.findPayloadType(answer, "video", video)
  local copy = sdp.copy(answer)
  sdp.replaceDirection(copy, "sendrecv", "sendonly", "video")
  sdp.replaceDirection(copy, "recvonly", "sendonly")
  sdp.removeRejected(copy)
  local text = sdp.render(answer)
  -- Sessions come and go: a key set, then removed (ltable's dead keys).
  sessions[#offerText % 7 + 1] = nil
  sessions[text:sub(1, 9)] = answer
  sessions[text:sub(1, 9)] = nil
  if #scan(offerText) ~= #scan(text) or not audio or not video or not pt
      or not sdp.render(copy):find("a=sendonly", 1, true) then
    error("the warm-up negotiation went wrong")
  end
  return json.encode({ type = "answer", sdp = text })
end
`;

/** Negotiates the built-in offer, one step at a time, in its own Lua state. */
export class LuaWarmUp extends WarmUpBudget {
  private L: LuaState | undefined;

  constructor(maxNegotiations = WARM_UP_NEGOTIATIONS, budgetMs = WARM_UP_BUDGET_MS) {
    super(maxNegotiations, budgetMs);
  }

  /** One step (making the state, then one negotiation each); false when the warm-up is over. */
  step(): boolean {
    if (this.over) return this.finish();
    // The state and its chunk are a step of their own: a task waits for one step at most.
    this.run(() => (this.L ? this.negotiate(this.L) : this.open()));
    return this.failure === undefined ? true : this.finish();
  }

  /** One negotiation: a counted step. */
  private negotiate(L: LuaState): true {
    lua.lua_getglobal(L, 'negotiate');
    lua.lua_pushstring(L, WARM_UP_OFFER);
    // As the runtime calls a script's callbacks: with the message handler at index 1.
    if (lua.lua_pcall(L, 1, 1, 1) !== lua.LUA_OK) throw new Error(lua.lua_tojsstring(L, -1));
    lua.lua_settop(L, 1);
    return true;
  }

  /** Making the state: a step, not a negotiation. */
  private open(): false {
    // Made like a script's state (createEnvironment, a count hook): V8 optimizes for the shapes of
    // the objects it sees, and a state shaped otherwise would have the script's first calls
    // throw that code away ("wrong map" deopts) and start over.
    const L = createEnvironment({ packagePath: '', memoryLimitBytes: WARM_UP_MEMORY_BYTES, print: () => {}, hook: HOOK });
    const chunk = to_luastring(NEGOTIATE_CHUNK);
    if (lauxlib.luaL_loadbufferx(L, chunk, chunk.length, '=warm-up', 't') !== lua.LUA_OK || lua.lua_pcall(L, 0, 0, 0) !== lua.LUA_OK) {
      throw new Error(`warm-up chunk: ${lua.lua_tojsstring(L, -1)}`);
    }
    pushMessageHandler(L);
    this.L = L;
    return false;
  }

  private finish(): false {
    this.L = undefined;
    return false;
  }
}
