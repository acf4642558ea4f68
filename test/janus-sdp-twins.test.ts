// Janus's janus-sdp.lua (Debian's copy, from the test setup) with parse, render,
// findPayloadType and generateAnswer run by their native twins (workers/lua/janus-sdp.ts):
// every result compared with the Lua functions' own, loaded from the same file without
// require, on the recorded offers, option sets, edited offers and edge cases (the same
// strings, the same tables in the same pairs order, the offer's own line tables in answers,
// the same options afterwards, the same errors); the twins adopted only for Janus's text; the
// Lua function run whenever it could behave otherwise; the work charged to the budget.

import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lua, lauxlib, to_luastring, type LuaState } from 'fengari';
import { createEnvironment } from '../workers/lua/lua-libs';
import { anonymisedOffer, readSdpFixture } from './fixtures/sdp/fixtures';
import { janusLua } from './lua-fixtures';
import { runLuaChunk } from './support/lua-chunk';

const JANUS_SDP = janusLua('janus-sdp.lua');
const OFFERS = ['chrome-offer', 'firefox-offer', 'wrtc-offer', 'chrome-simulcast-offer', 'firefox-simulcast-offer', 'wrtc-ssrc-simulcast-offer'];

/**
 * A script-like state: `twin` = require("janus-sdp") from `dir`, `plain` = the same file's
 * module loaded without require (Lua functions only), the offers as globals (raw and anonymised).
 */
function newState(dir = join(JANUS_SDP, '..')): LuaState {
  const L = createEnvironment({ packagePath: join(dir, '?.lua'), memoryLimitBytes: 256 * 1024 * 1024, print: () => undefined });
  if (lauxlib.luaL_loadfilex(L, join(dir, 'janus-sdp.lua'), 't') !== lua.LUA_OK || lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) {
    throw new Error(lua.lua_tojsstring(L, -1));
  }
  lua.lua_setglobal(L, 'plain');
  const offers: string[] = [];
  for (const name of OFFERS) offers.push(readSdpFixture(`${name}.sdp`), anonymisedOffer(`${name}.sdp`));
  lua.lua_createtable(L, offers.length, 0);
  offers.forEach((offer, i) => {
    lua.lua_pushstring(L, offer);
    lua.lua_rawseti(L, -2, i + 1);
  });
  lua.lua_setglobal(L, 'offers');
  run(L, 'twin = require("janus-sdp")');
  return L;
}

const run = runLuaChunk;

/** Is module[field] a native (JS) function? */
function isNative(L: LuaState, module: string, field: string): boolean {
  lua.lua_getglobal(L, module);
  lua.lua_getfield(L, -1, field);
  const native = (lua as typeof lua & { lua_iscfunction(L: LuaState, i: number): boolean }).lua_iscfunction(L, -1);
  lua.lua_pop(L, 2);
  return native;
}

// dump(v): a value as text, tables with their pairs in traversal order (so the order is compared
// too); call(f, ...): "ok " .. dump of every result, or "error " .. the message.
const HELPERS = `
function dump(v)
  if type(v) ~= "table" then return type(v) .. ":" .. tostring(v) end
  local out = {}
  for k, x in next, v do out[#out + 1] = dump(k) .. "=" .. dump(x) end
  return "{" .. table.concat(out, ",") .. "}"
end
function call(f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then return "error " .. tostring(r[2]) end
  local out = {}
  for i = 2, r.n do out[#out + 1] = dump(r[i]) end
  return "ok " .. table.concat(out, ";")
end
function same(name, ...)
  local a, b = call(twin[name], ...), call(plain[name], ...)
  if a ~= b then error(name .. " differs:\\ntwin:  " .. a .. "\\nplain: " .. b) end
  return a
end
-- An answer's lines as text, a line that is one of the offer's own tables as "offer#k".
function shape(offer, answer)
  if type(answer) ~= "table" then return dump(answer) end
  local out = {}
  for k, line in next, answer do
    local found
    for j, o in next, offer do if rawequal(o, line) then found = "offer#" .. dump(j) end end
    out[#out + 1] = dump(k) .. "=" .. (found or dump(line))
  end
  return table.concat(out, ",")
end
-- generateAnswer by both on copies of the same offer and options: the answers' shapes, the
-- options after the call, or the error.
function sameAnswer(offerText, edit, options)
  local results = {}
  for _, m in ipairs({ twin, plain }) do
    local offer = plain.parse(offerText)
    if edit then edit(offer) end
    local opts = options and options() or nil
    local ok, answer = pcall(m.generateAnswer, offer, opts)
    results[#results + 1] = ok and (shape(offer, answer) .. " | " .. dump(opts)) or ("error " .. tostring(answer))
  end
  if results[1] ~= results[2] then error("generateAnswer differs:\\ntwin:  " .. results[1] .. "\\nplain: " .. results[2]) end
  return results[1]
end
`;

describe("Janus's janus-sdp.lua with native twins", function () {
  const tempDirs: string[] = [];
  const tempDir = (): string => {
    tempDirs.push(mkdtempSync(join(tmpdir(), 'luasfu-janus-sdp-')));
    return tempDirs[tempDirs.length - 1]!;
  };
  after(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('adopts a twin for the text of each of Janus’s four functions only', function () {
    const L = newState();
    const TWINNED = ['parse', 'render', 'findPayloadType', 'generateAnswer'];
    expect(TWINNED.map((f) => isNative(L, 'twin', f))).to.deep.equal([true, true, true, true]);
    expect(['generateOffer', 'removeMLine', 'removePayloadType', 'findCodec'].map((f) => isNative(L, 'twin', f))).to.deep.equal([false, false, false, false]);
    expect(TWINNED.map((f) => isNative(L, 'plain', f))).to.deep.equal([false, false, false, false]);

    // A copy whose parse has one byte more keeps its Lua parse; render is still Janus's.
    const dir = tempDir();
    const text = readFileSync(JANUS_SDP, 'latin1');
    expect(text).to.include('\tlocal lines = {}\n');
    writeFileSync(join(dir, 'janus-sdp.lua'), text.replace('\tlocal lines = {}\n', '\tlocal lines = { }\n'), 'latin1');
    const edited = newState(dir);
    expect([isNative(edited, 'twin', 'parse'), isNative(edited, 'twin', 'render')]).to.deep.equal([false, true]);

    // The file under another module name is the same code: its twins too.
    const renamed = tempDir();
    copyFileSync(JANUS_SDP, join(renamed, 'janus-sdp.lua'));
    copyFileSync(JANUS_SDP, join(renamed, 'mysdp.lua'));
    const other = newState(renamed);
    run(other, 'mine = require("mysdp")');
    expect([isNative(other, 'mine', 'parse'), isNative(other, 'mine', 'render')]).to.deep.equal([true, true]);
  });

  it('parses and renders the recorded offers exactly as the Lua functions do', function () {
    const L = newState();
    run(L, HELPERS);
    const results = run(L, `
      local out = {}
      for i, offer in ipairs(offers) do
        local parsed = same("parse", offer)
        same("render", twin.parse(offer))
        assert(twin.render(twin.parse(offer)) == plain.render(plain.parse(offer)))
        out[#out + 1] = #twin.parse(offer) .. ":" .. #parsed
      end
      return table.concat(out, " ")`);
    expect(results[0].split(' ')).to.have.length(OFFERS.length * 2);
    // Every offer gives one table per line (the raw Chrome offer has over 100).
    expect(Number(results[0].split(':')[0])).to.be.above(100);
  });

  it('parses edge cases exactly as the Lua function does', function () {
    const L = newState();
    run(L, HELPERS);
    const cases = ['', '\r\n', '\n\n\r\r', 'a', 'a=', 'ab', 'a=b', 'a=b:', 'a=b:c:d', ':::', 'x=:y', 'xy:z', '\n\na=1\r\r\nb=2\n', 'a=b\0c:d', 'é=ü:\xff', 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=sendrecv'];
    lua.lua_createtable(L, cases.length, 0);
    cases.forEach((c, i) => {
      lua.lua_pushstring(L, Buffer.from(c, 'latin1'));
      lua.lua_rawseti(L, -2, i + 1);
    });
    lua.lua_setglobal(L, 'cases');
    const lines = run(L, `
      local out = {}
      for _, c in ipairs(cases) do out[#out + 1] = same("parse", c) end
      out[#out + 1] = same("parse", nil)
      out[#out + 1] = same("parse")
      return table.unpack(out)`);
    expect(lines).to.have.length(cases.length + 2);
    expect(lines[8]).to.equal('ok {number:1={string:type=string:a,string:name=string:b,string:value=string:c:d}}');
    expect(lines[4]).to.equal('ok {number:1={string:type=string:a,string:name=string:}}');
    expect(lines.slice(-2)).to.deep.equal(['ok nil:nil', 'ok nil:nil']);
    // Not a string: the Lua function runs, with its own error.
    expect(run(L, 'return same("parse", 5), same("parse", {}), same("parse", true)').map((r) => r.split(':').slice(-1)[0].trim()))
      .to.deep.equal(["attempt to index a number value (local 'text')", "attempt to call a nil value (method 'gmatch')", "attempt to index a boolean value (local 'text')"]);
  });

  it('renders any table exactly as the Lua function does, errors included', function () {
    const L = newState();
    run(L, HELPERS);
    const lines = run(L, `
      local out = {}
      local cases = {
        {},
        { { type = "a", name = "x", value = "" }, { type = "a", name = "y" } },
        { [1] = { type = "v", name = "0" }, [3] = { type = "s", name = "-" }, extra = { type = "t", name = "0 0" } },
        { { type = "", name = "" } },
        { { type = 1, name = 2, value = 3.5 } },
        { { type = "a", name = "x", value = {} } },
        { { type = "a" } },
        { "a=b" },
        { 5 },
        setmetatable({}, { __pairs = function(t) return function(_, k) if not k then return 1, { type = "m", name = "audio" } end end, t, nil end }),
        { setmetatable({}, { __index = function(_, k) return k == "type" and "a" or k == "name" and "meta" or nil end }) },
        "not a table",
        5,
      }
      for i = 1, 13 do out[#out + 1] = same("render", cases[i]) end
      out[#out + 1] = same("render", nil)
      return table.unpack(out)`);
    expect(lines.slice(0, 5)).to.deep.equal([
      'ok string:',
      'ok string:a=x:\r\na=y\r\n',
      'ok string:v=0\r\ns=-\r\nt=0 0\r\n',
      'ok string:=\r\n',
      'ok string:1=2:3.5\r\n',
    ]);
    expect(lines[5]).to.match(/^error .*attempt to concatenate a table value/);
    expect(lines[6]).to.match(/^error .*attempt to concatenate a nil value/);
    expect(lines[9]).to.equal('ok string:m=audio\r\n');
    expect(lines[10]).to.equal('ok string:a=meta\r\n');
    expect(lines[11]).to.match(/^error .*table expected, got string/);
    expect(lines[13]).to.equal('ok nil:nil');
  });

  it('finds payload types exactly as the Lua function does', function () {
    const L = newState();
    run(L, HELPERS);
    expect(isNative(L, 'twin', 'findPayloadType')).to.equal(true);
    const results = run(L, `
      local out = {}
      local queries = {
        { "opus" }, { "OPUS" }, { "vp8" }, { "VP8" }, { "vp9" }, { "vp9", "0" }, { "vp9", "2" }, { "h264" },
        { "h264", "42e01f" }, { "h264", "42E01F" }, { "h264", "640c1f" }, { "pcmu" }, { "g722" }, { "red" },
        { "rtx" }, { "av1" }, { "" }, { "isac16" }, { "telephone-event" }, { "op.s" }, { "(" }, { "vp9", 2 }, { 5 },
      }
      for _, offer in ipairs(offers) do
        local parsed = plain.parse(offer)
        for _, q in ipairs(queries) do out[#out + 1] = same("findPayloadType", parsed, q[1], q[2]) end
      end
      out[#out + 1] = same("findPayloadType", nil, "opus")
      out[#out + 1] = same("findPayloadType", plain.parse(offers[1]), nil)
      out[#out + 1] = same("findPayloadType", {}, "opus")
      out[#out + 1] = same("findPayloadType", { { type = "a", name = "rtpmap", value = "abc opus/48000/2" } }, "opus")
      out[#out + 1] = same("findPayloadType", { { type = "a", name = "rtpmap", value = "0x6F opus/48000/2" } }, "opus")
      out[#out + 1] = same("findPayloadType", { { type = "a", name = "rtpmap", value = "   " } }, "opus")
      return table.unpack(out)`);
    // The raw Chrome offer: opus is 111, VP8 96, VP9 profile 2 is 100 (profile 0: 98).
    expect(results.slice(0, 7)).to.deep.equal(['ok number:111', 'ok number:111', 'ok number:96', 'ok number:96', 'ok number:98', 'ok number:98', 'ok number:100']);
    // No sdp or codec: -1; a non-numeric first word: nil; hex: its value; no "opus": -1.
    expect(results.slice(-6)).to.deep.equal(['ok number:-1', 'ok number:-1', 'ok number:-1', 'ok nil:nil', 'ok number:111', 'ok number:-1']);
    // Magic characters in the codec: Lua's patterns decide (here: "op.s" finds opus, "(" fails).
    expect(results[19]).to.equal('ok number:111');
    expect(results[20]).to.match(/^error .*(unfinished capture|malformed pattern)/);
  });

  it('answers offers exactly as the Lua function does: lines, shared line tables and options', function () {
    const L = newState();
    run(L, HELPERS);
    expect(isNative(L, 'twin', 'generateAnswer')).to.equal(true);
    const results = run(L, `
      local out = {}
      local optionSets = {
        false,
        function() return {} end,
        function() return { audio = true, video = true, data = true } end,
        function() return { audioCodec = "pcmu" } end,
        function() return { audioCodec = "g722", videoCodec = "h264" } end,
        function() return { videoCodec = "vp9", vp9Profile = "2" } end,
        function() return { videoCodec = "h264", h264Profile = "42e01f" } end,
        function() return { videoCodec = "h264", h264Profile = "42E01F" } end,
        function() return { vp9Profile = "2", h264Profile = "42e01f", disableTwcc = true } end,
        function() return { audioCodec = "opus", videoCodec = "av1", disableTwcc = "yes" } end,
        function() return { audioCodec = "op.s" } end,
        function() return { audioCodec = 5 } end,
        function() return { videoCodec = "vp9", vp9Profile = 2 } end,
        function() return setmetatable({}, { __newindex = function(t, k, v) rawset(t, k, v) end }) end,
      }
      for _, offer in ipairs(offers) do
        for _, options in ipairs(optionSets) do out[#out + 1] = sameAnswer(offer, nil, options or nil) end
      end
      -- Edited offers: directions, a second audio section, an unknown m-line, odd payload types.
      local edits = {
        function(o) for _, l in ipairs(o) do if l.name == "sendrecv" then l.name = "sendonly" end end end,
        function(o) for _, l in ipairs(o) do if l.name == "sendrecv" then l.name = "recvonly" end end end,
        function(o) for _, l in ipairs(o) do if l.type == "m" and l.name:find("video") then l.name = "audio 9 UDP/TLS/RTP/SAVPF 96" end end end,
        function(o) for _, l in ipairs(o) do if l.type == "m" and l.name:find("video") then l.name = "text 9 RTP/AVP 0" end end end,
        function(o) for _, l in ipairs(o) do if l.name == "extmap" then l.value = l.value .. "/sendonly" end end end,
        function(o) for _, l in ipairs(o) do if l.name == "rtpmap" and l.value:find("opus") then l.value = "0x6F opus/48000/2" end end end,
        function(o) for _, l in ipairs(o) do if l.name == "rtpmap" and l.value:find("VP8") then l.value = "abc VP8/90000" end end end,
        function(o) o[#o + 1] = "a=sendrecv" end,
        function(o) o.extra = { type = "a", name = "sendrecv" } end,
        function(o) setmetatable(o, {}) end,
        function(o) o[3].type = 3 end,
      }
      for _, offer in ipairs({ offers[2], offers[5] }) do
        for _, edit in ipairs(edits) do out[#out + 1] = sameAnswer(offer, edit, function() return {} end) end
      end
      out[#out + 1] = same("generateAnswer", nil)
      out[#out + 1] = same("generateAnswer", {}, {})
      out[#out + 1] = same("generateAnswer", "v=0", {})
      out[#out + 1] = same("generateAnswer", plain.parse(offers[2]), "options")
      return table.unpack(out)`);
    expect(results).to.have.length(OFFERS.length * 2 * 14 + 2 * 11 + 4);
    // What the echotest asks for, on the anonymised Chrome offer: audio, video, data sections.
    expect(results[14 + 2]).to.match(/string:name=string:audio 9 UDP\/TLS\/RTP\/SAVPF 111.*string:name=string:video 9 UDP\/TLS\/RTP\/SAVPF 96.*string:application/);
    expect(results[14 + 2]).to.include('offer#number:');
    expect(results[14 + 3]).to.include('string:audioCodec=string:pcmu');
    expect(results[14 + 11]).to.match(/^error .*bad argument|^error .*attempt to index a number/);
  });

  it('runs the Lua function when pairs, tonumber, table.insert, a string method or a module function is replaced', function () {
    const L = newState();
    run(L, HELPERS);
    expect(run(L, `
      local calls = 0
      local insert = table.insert
      table.insert = function(t, v) calls = calls + 1; return insert(t, v) end
      local a = dump(twin.parse("v=0\\r\\na=x:y"))
      table.insert = insert
      local gsub, seen = string.sub, 0
      string.sub = function(...) seen = seen + 1; return gsub(...) end
      local b = dump(twin.parse("v=0"))
      string.sub = gsub
      local p, iterated = pairs, 0
      pairs = function(t) iterated = iterated + 1; return p(t) end
      local c = twin.render({ { type = "v", name = "0" } })
      pairs = p
      return calls, seen, iterated, a == dump(plain.parse("v=0\\r\\na=x:y")), b == dump(plain.parse("v=0")), c`))
      .to.deep.equal(['4', '2', '1', 'true', 'true', 'v=0\r\n']);
    // generateAnswer calls the module's findPayloadType as it stands; findPayloadType the
    // environment's tonumber.
    expect(run(L, `
      local offer = plain.parse(offers[2])
      local find, asked = twin.findPayloadType, {}
      twin.findPayloadType = function(sdp, codec, profile) asked[#asked + 1] = codec; return find(sdp, codec, profile) end
      local answer = twin.generateAnswer(offer, {})
      twin.findPayloadType = find
      local tn, converted = tonumber, 0
      tonumber = function(...) converted = converted + 1; return tn(...) end
      local pt = twin.findPayloadType(offer, "opus")
      tonumber = tn
      return table.concat(asked, ","), converted, pt, #answer`))
      .to.deep.equal(['opus,vp8,opus,vp8', '1', '111', run(L, 'return #plain.generateAnswer(plain.parse(offers[2]), {})')[0]]);
  });

  it('charges its work to the count hook, so a budget stops an enormous SDP', function () {
    const L = newState();
    run(L, 'big = {} for i = 1, 400000 do big[i] = { type = "a", name = "x" } end');
    let used = 0;
    lua.lua_sethook(L, (L1) => {
      used += lua.lua_gethookcount(L1);
      if (used > 1_000_000) lauxlib.luaL_error(L1, to_luastring('instruction limit exceeded'));
    }, lua.LUA_MASKCOUNT, 10_000);
    expect(() => run(L, 'return #twin.parse(string.rep("a=rtpmap:111 opus/48000/2\\r\\n", 2000000))')).to.throw('instruction limit exceeded');
    used = 0;
    expect(() => run(L, 'return #twin.render(big)')).to.throw('instruction limit exceeded');
    used = 0;
    expect(run(L, 'return #twin.parse(offers[1])')).to.have.length(1);
    expect(used).to.be.below(1_000_000);
  });
});
