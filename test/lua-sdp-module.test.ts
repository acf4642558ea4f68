// The built-in `sdp` module (workers/lua/lua-sdp.ts) on real Lua states made like a script's
// (createEnvironment: require goes through the luasfu built-ins searcher): every function on
// the recorded offers, answers byte-identical to the ones recorded from the former lua/sdp.lua
// (test/fixtures/sdp), script edits visible in render, hand-built tables, nil inputs, the
// instruction budget on enormous input, and a script folder's own sdp.lua winning.

import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lua, lauxlib, to_luastring, type LuaState } from 'fengari';
import type { ScriptConfig } from '../src/config';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { createEnvironment } from '../workers/lua/lua-libs';
import { anonymisedOffer, readSdpFixture } from './fixtures/sdp/fixtures';
import { ourLua } from './lua-fixtures';
import { usePluginStarter } from './support/plugin-starter';
import { runLuaChunk } from './support/lua-chunk';

const OFFERS = ['chrome-offer', 'firefox-offer', 'wrtc-offer', 'chrome-simulcast-offer', 'firefox-simulcast-offer', 'wrtc-ssrc-simulcast-offer'];

/** A script-like state with every anonymised offer as a global (chrome_offer, ...). */
function newState(packagePath = '/nonexistent/?.lua'): LuaState {
  const L = createEnvironment({ packagePath, memoryLimitBytes: 256 * 1024 * 1024, print: () => undefined });
  for (const name of OFFERS) {
    lua.lua_pushstring(L, anonymisedOffer(`${name}.sdp`));
    lua.lua_setglobal(L, name.replace(/-/g, '_'));
  }
  return L;
}

/** Runs a Lua chunk (with `sdp` required) and returns its results as JS strings ('nil' for nil). */
const run = (L: LuaState, code: string): string[] => runLuaChunk(L, `local sdp = require('sdp')\n${code}`);

describe('built-in sdp module', function () {
  it('answers the recorded offers byte for byte as lua/sdp.lua did (echotest and videoroom)', function () {
    const L = newState();
    const answer = (offer: string): string[] => run(L, `return sdp.render(sdp.generateAnswer(sdp.parse(${offer}), { audio = true, video = true, data = true }))`);
    expect(answer('chrome_offer')).to.deep.equal([readSdpFixture('lua-echotest-answer-chrome.sdp')]);
    expect(answer('wrtc_offer')).to.deep.equal([readSdpFixture('lua-echotest-answer-wrtc.sdp')]);
    // The Firefox one was recorded from janus-sdp.lua, which repeats the session a=sendrecv;
    // lua/sdp.lua never did.
    expect(answer('firefox_offer')).to.deep.equal([readSdpFixture('lua-echotest-answer-firefox.sdp').replace('a=sendrecv\r\na=sendrecv\r\nm=', 'a=sendrecv\r\nm=')]);
    const [publisher, subscriber] = run(L, `
      local offer = sdp.parse(chrome_simulcast_offer)
      sdp.replaceDirection(offer, "sendrecv", "sendonly")
      local answer = sdp.generateAnswer(offer, {})
      local template = sdp.copy(answer)
      sdp.removeRejected(template)
      sdp.replaceDirection(template, "recvonly", "sendonly")
      return sdp.render(answer), sdp.render(template)`);
    expect(publisher).to.equal(readSdpFixture('lua-videoroom-publisher-answer-chrome-simulcast.sdp'));
    expect(subscriber).to.equal(readSdpFixture('lua-videoroom-subscriber-offer.sdp'));
  });

  it('finds payload types and negotiated codecs like lua/sdp.lua (recorded outputs)', function () {
    const L = newState();
    const lines = run(L, `
      local out = {}
      local function q(v) return type(v) == "string" and string.format("%q", v) or tostring(v) end
      for _, name in ipairs({"chrome_offer", "firefox_offer", "wrtc_offer", "chrome_simulcast_offer", "firefox_simulcast_offer", "wrtc_ssrc_simulcast_offer"}) do
        local o = sdp.parse(_G[name])
        local r = {}
        for _, kind in ipairs({"audio", "video", "application"}) do
          r[#r+1] = kind .. "=" .. q(sdp.findPayloadType(o, kind, "opus")) .. "/" .. q(sdp.findPayloadType(o, kind, "vp8")) .. "/" .. q(sdp.findPayloadType(o, kind, "vp9", "2")) .. "/" .. q(sdp.findPayloadType(o, kind, "h264", "42e01f")) .. "/" .. q(sdp.findPayloadType(o, kind, "H264", "42001F"))
        end
        local a = sdp.generateAnswer(o, { videoCodec = "h264", h264Profile = "42e01f", audioCodec = "PCMU", disableTwcc = true })
        r[#r+1] = "neg=" .. q(sdp.negotiatedCodec(a, "audio")) .. "," .. q(sdp.negotiatedCodec(a, "video"))
        r[#r+1] = "sections=" .. #o.media .. " session=" .. #o.session
        out[#out+1] = name .. ": " .. table.concat(r, " ")
      end
      return table.concat(out, "\\n")`)[0]!.split('\n');
    expect(lines).to.deep.equal([
      'chrome_offer: audio="111"/nil/nil/nil/nil video=nil/"96"/"100"/"108"/"102" application=nil/nil/nil/nil/nil neg="pcmu","h264" sections=3 session=4',
      'firefox_offer: audio="109"/nil/nil/nil/nil video=nil/"120"/nil/nil/nil application=nil/nil/nil/nil/nil neg="pcmu",nil sections=3 session=5',
      'wrtc_offer: audio="111"/nil/nil/nil/nil video=nil/"96"/"100"/nil/nil application=nil/nil/nil/nil/nil neg="pcmu",nil sections=3 session=4',
      'chrome_simulcast_offer: audio="111"/nil/nil/nil/nil video=nil/"96"/"100"/"108"/"102" application=nil/nil/nil/nil/nil neg="pcmu","h264" sections=3 session=4',
      'firefox_simulcast_offer: audio="109"/nil/nil/nil/nil video=nil/"120"/nil/nil/nil application=nil/nil/nil/nil/nil neg="pcmu",nil sections=3 session=5',
      'wrtc_ssrc_simulcast_offer: audio="111"/nil/nil/nil/nil video=nil/"96"/"100"/nil/nil application=nil/nil/nil/nil/nil neg="pcmu",nil sections=3 session=4',
    ]);
    expect(run(L, `
      local o = sdp.parse(chrome_offer)
      local v = sdp.firstSection(o, "video")
      return v == o.media[2], sdp.sectionPayloadType(v, "VP9", 0), sdp.sectionPayloadType(v, "vp9", "2"), sdp.firstSection(o, "text")`))
      .to.deep.equal(['true', '98', '100', 'nil']);
  });

  it('parses into plain tables a script reads and edits, and render round-trips them', function () {
    const L = newState();
    const offer = anonymisedOffer('chrome-offer.sdp');
    expect(run(L, 'return sdp.render(sdp.parse(chrome_offer))')).to.deep.equal([offer.replace(/\r?\n/g, '\r\n')]);
    expect(run(L, `
      local o = sdp.parse("v=0\\nx\\r\\n\\r\\na=group:BUNDLE 0 1\\na=ice-lite\\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\\na=rtpmap:111 opus/48000/2\\nm=video 0x10 RTP/AVP\\nm=\\n")
      local a = o.media[1]
      return o.session[1].type, o.session[1].text, o.session[2].name, o.session[2].value, o.session[3].value,
        a.kind, math.type(a.port), a.port, a.proto, table.concat(a.fmts, ","), a.lines[1].name, a.lines[1].value,
        o.media[2].port, #o.media[2].fmts, o.media[3].kind, o.media[3].port, #o.media`))
      .to.deep.equal(['v', '0', 'group', 'BUNDLE 0 1', 'nil', 'audio', 'integer', '9', 'UDP/TLS/RTP/SAVPF', '111,0', 'rtpmap', '111 opus/48000/2', '16', '0', '', '0', '3']);
    // Edits by the script: plain assignments, replaceDirection, removeMedia, copy then edit.
    const [edited, original] = run(L, `
      local o = sdp.parse("v=0\\r\\na=sendrecv\\r\\nm=audio 9 P 0\\r\\na=sendrecv\\r\\nm=video 9 P 96\\r\\na=sendrecv\\r\\nm=application 9 D x\\r\\n")
      local c = sdp.copy(o)
      sdp.replaceDirection(c, "sendrecv", "recvonly", "video")
      sdp.replaceDirection(c, "sendrecv", "inactive")
      sdp.removeMedia(c, "application")
      c.media[1].port = 1234
      c.media[1].fmts[2] = 8
      table.insert(c.media[1].lines, { type = "a", name = "ptime", value = 20 })
      c.session[#c.session + 1] = { type = "b", text = "AS:30" }
      return sdp.render(c), sdp.render(o)`);
    expect(edited).to.equal('v=0\r\na=inactive\r\nb=AS:30\r\nm=audio 1234 P 0 8\r\na=inactive\r\na=ptime:20\r\nm=video 9 P 96\r\na=recvonly\r\n');
    expect(original).to.equal('v=0\r\na=sendrecv\r\nm=audio 9 P 0\r\na=sendrecv\r\nm=video 9 P 96\r\na=sendrecv\r\nm=application 9 D x\r\n');
  });

  it('answers hand-built tables (numbers, floats, odd extmaps, rejected sections) as lua/sdp.lua did', function () {
    const L = newState();
    expect(run(L, `
      local hand = {
        session = { { type = "v", text = "0" }, { type = "s" }, { type = "a", name = "group", value = "BUNDLE 0" }, { type = "a", name = "ice-lite" } },
        media = {
          { kind = "audio", port = 9.0, proto = "RTP/AVP", fmts = { "0", "8", 111 }, lines = {
            { type = "a", name = "sendonly" }, { type = "a", name = "rtpmap", value = "111 OPUS/48000/2" },
            { type = "a", name = "extmap", value = "4/sendonly urn:ietf:params:rtp-hdrext:sdes:mid  x" },
            { type = "a", name = "extmap", value = "5 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01" },
            { type = "a", name = "extmap", value = "6/ urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" },
            { type = "a", name = "extmap", value = "x urn:ietf:params:rtp-hdrext:sdes:mid" },
            { type = "a", name = "rtcp-fb", value = "* nack" }, { type = "a", name = "rtcp-fb", value = "0 nack" } } },
          { kind = "video", port = 7, proto = "X", fmts = { "96", "97" }, lines = {
            { type = "a", name = "rtpmap", value = "96 H264/90000" }, { type = "a", name = "fmtp", value = "96 profile-level-id=42E01F" },
            { type = "a", name = "rtpmap", value = "97 VP9/90000" }, { type = "a", name = "fmtp", value = "97    Profile-Id=2" } } },
          { kind = "video", port = 9, proto = "X", fmts = {}, lines = {} },
          { kind = "application", port = 0, proto = "UDP/DTLS/SCTP", fmts = { "webrtc-datachannel" }, lines = {} },
        },
      }
      return sdp.render(hand), sdp.render(sdp.generateAnswer(hand, {})),
        sdp.render(sdp.generateAnswer(hand, { videoCodec = "H264", h264Profile = "42e01f", audio = false })), sdp.findPayloadType(hand, "audio", "opus")`))
      .to.deep.equal([
        'v=0\r\ns=\r\na=group:BUNDLE 0\r\na=ice-lite\r\nm=audio 9.0 RTP/AVP 0 8 111\r\na=sendonly\r\na=rtpmap:111 OPUS/48000/2\r\n' +
        'a=extmap:4/sendonly urn:ietf:params:rtp-hdrext:sdes:mid  x\r\na=extmap:5 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n' +
        'a=extmap:6/ urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\na=extmap:x urn:ietf:params:rtp-hdrext:sdes:mid\r\na=rtcp-fb:* nack\r\na=rtcp-fb:0 nack\r\n' +
        'm=video 7 X 96 97\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 profile-level-id=42E01F\r\na=rtpmap:97 VP9/90000\r\na=fmtp:97    Profile-Id=2\r\n' +
        'm=video 9 X\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n',
        // 111 is a number in fmts: no rtpmap matches it, so pcmu (static 0) is the first preference
        // present; no vp8, so vp9 (any profile) for video; the second video section is rejected.
        'v=0\r\ns=\r\na=ice-lite\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=recvonly\r\n' +
        'a=extmap:4/recvonly urn:ietf:params:rtp-hdrext:sdes:mid  x\r\na=extmap:5 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n' +
        'a=extmap:6 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\na=rtcp-fb:* nack\r\na=rtcp-fb:0 nack\r\n' +
        'm=video 9 UDP/TLS/RTP/SAVPF 97\r\na=rtpmap:97 VP9/90000\r\na=fmtp:97    Profile-Id=2\r\nm=video 0 UDP/TLS/RTP/SAVPF 0\r\na=inactive\r\n' +
        'm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\na=inactive\r\n',
        'v=0\r\ns=\r\na=ice-lite\r\nm=audio 0 UDP/TLS/RTP/SAVPF 0\r\na=inactive\r\n' +
        'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 profile-level-id=42E01F\r\nm=video 0 UDP/TLS/RTP/SAVPF 0\r\na=inactive\r\n' +
        'm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\na=inactive\r\n',
        'nil',
      ]);
    // The preference lists are the module's, read at each answer.
    expect(run(L, `
      local o = sdp.parse(chrome_offer)
      local saved = sdp.AUDIO_CODECS
      sdp.AUDIO_CODECS = { "PCMA", "opus" }
      local a = sdp.negotiatedCodec(sdp.generateAnswer(o, {}), "audio")
      sdp.AUDIO_CODECS = saved
      return a, sdp.negotiatedCodec(sdp.generateAnswer(o, {}), "audio"), table.concat(sdp.VIDEO_CODECS, ",")`))
      .to.deep.equal(['pcma', 'opus', 'vp8,vp9,h264']);
  });

  it('tolerates nil inputs and raises Lua errors for malformed tables', function () {
    const L = newState();
    expect(run(L, `
      local r = {}
      for _, name in ipairs({ "parse", "render", "sectionPayloadType", "firstSection", "findPayloadType", "negotiatedCodec", "generateAnswer", "replaceDirection", "removeMedia", "removeRejected", "copy" }) do
        local n = select("#", sdp[name]())
        r[#r+1] = name .. ":" .. n .. ":" .. tostring((sdp[name]()))
      end
      return table.concat(r, " "), sdp.parse(5), sdp.sectionPayloadType({ fmts = { "1" }, lines = {} }, nil), sdp.findPayloadType(sdp.parse(chrome_offer), "audio", nil)`))
      .to.deep.equal([
        'parse:1:nil render:1:nil sectionPayloadType:1:nil firstSection:1:nil findPayloadType:1:nil negotiatedCodec:1:nil ' +
        'generateAnswer:1:nil replaceDirection:0:nil removeMedia:0:nil removeRejected:0:nil copy:1:nil',
        'nil', 'nil', 'nil',
      ]);
    expect(run(L, `
      local function fails(f, ...) return (pcall(f, ...)) == false end
      return fails(sdp.render, { session = { { type = "a" } }, media = {} }),
        fails(sdp.render, { session = {}, media = { { kind = "audio", port = 9, proto = "P", lines = {} } } }),
        fails(sdp.render, {}),
        fails(sdp.generateAnswer, sdp.parse(chrome_offer), { videoCodec = 5 }),
        fails(sdp.sectionPayloadType, { fmts = { "1" }, lines = { { type = "a", name = "rtpmap", value = 5 } } }, "opus"),
        fails(sdp.render, { session = {}, media = {} })`))
      .to.deep.equal(['true', 'true', 'true', 'true', 'true', 'false']);
  });

  it("lets a script folder's own sdp.lua win over the built-in", function () {
    const dir = mkdtempSync(join(tmpdir(), 'luasfu-sdp-'));
    try {
      writeFileSync(join(dir, 'sdp.lua'), 'return { own = true }');
      expect(run(newState(join(dir, '?.lua')), 'return sdp.own, sdp.parse')).to.deep.equal(['true', 'nil']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('charges its work to the count hook, so a budget stops an enormous SDP', function () {
    const L = newState();
    let used = 0;
    lua.lua_sethook(L, (L1) => {
      used += lua.lua_gethookcount(L1);
      if (used > 1_000_000) lauxlib.luaL_error(L1, to_luastring('instruction limit exceeded'));
    }, lua.LUA_MASKCOUNT, 10_000);
    expect(() => run(L, 'local d = sdp.parse(string.rep("a=rtpmap:111 opus/48000/2\\r\\n", 2000000)) return #d.session'))
      .to.throw('instruction limit exceeded');
    used = 0;
    expect(run(L, 'return #sdp.parse(chrome_offer).media')).to.deep.equal(['3']);
    expect(used).to.be.below(1_000_000);
  });
});

describe('built-in sdp module in a running script', function () {
  const config = (name: string, extra: Partial<ScriptConfig>): ScriptConfig => ({ path: ourLua(name), instructionLimit: 200_000, memoryLimitMb: 256, ...extra });
  const starter = usePluginStarter(createLuaPlugin, config);

  it('stops an enormous SDP with the instruction limit (462, logged) and the script keeps working', async function () {
    const { plugin } = await starter.start('sdp-flood.lua');
    const h = { id: 1, sessionId: 1 };
    await plugin.createSession(h);
    expect(await plugin.handleMessage(h, 't1', { request: 'flood' }, undefined)).to.deep.equal({ kind: 'error', reason: 'Lua error' });
    const failures = starter.log.find('script callback failed');
    expect(failures).to.have.length(1);
    expect(failures[0]).to.include({ callback: 'handleMessage', limit: true });
    expect(String(failures[0].error)).to.include('instruction limit exceeded (200000)');
    expect(await plugin.handleMessage(h, 't2', { request: 'ping' }, undefined)).to.deep.equal({ kind: 'ok', data: { pong: true } });
    expect(plugin.restarts).to.equal(0);
  });
});
