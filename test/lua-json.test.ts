// Pure pieces of the Lua worker: lua-json number formatting (Lua 5.3 tostring), the JSON codec
// on a Fengari state, and the SDP/JSON checks pushEvent makes.

import { expect } from 'chai';
import { lua, lauxlib, lualib, to_luastring } from 'fengari';
import { decodeToLua, encodeLuaValue, jsonNumber, luaFloatToString, pushJsonModule } from '../workers/lua/lua-json';
import { jsepValid, jsonDocumentKind, sdpParses } from '../workers/validate';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('lua-json', function () {
  it('formats floats like Lua 5.3 tostring ("%.14g", ".0" for integral values)', function () {
    expect([1.5, 1234, 0.1, 1e15, 1e-5, -0, 123456789012345678, 2 ** 53, -2.5e-7, 100].map(luaFloatToString)).to.deep.equal([
      '1.5', '1234.0', '0.1', '1e+15', '1e-05', '-0.0', '1.2345678901235e+17', '9.007199254741e+15', '-2.5e-07', '100.0',
    ]);
  });

  it('writes integral floats past 32 bits as integers (Lua 5.3 would hold them as integers)', function () {
    expect(jsonNumber(3000000000, false)).to.equal('3000000000');
    expect(jsonNumber(4294967296, false)).to.equal('4294967296');
    expect(jsonNumber(2147483647, false)).to.equal('2147483647.0');
    expect(jsonNumber(7, true)).to.equal('7');
    expect(jsonNumber(2 ** 64, false)).to.equal('1.844674407371e+19');
  });

  it('decodes and re-encodes through a Lua state: integers, floats, null, unicode, empty arrays', function () {
    const L = lauxlib.luaL_newstate();
    lualib.luaL_openlibs(L);
    pushJsonModule(L);
    lua.lua_setglobal(L, 'json');
    const error = decodeToLua(L, bytes('{"i":5,"f":5.0,"big":3000000000,"n":null,"s":"\\u00e9\\ud83d\\ude00\\n","a":[],"o":{},"l":[1,"x",true,null]}'));
    expect(error).to.equal(undefined);
    lua.lua_setglobal(L, 'doc');
    const code = to_luastring(`
      local d = doc
      return table.concat({ math.type(d.i), math.type(d.f), math.type(d.big), tostring(d.n == json.util.null),
        type(d.n), tostring(#d.l), tostring(d.l[4] == json.util.null) }, ",")`);
    expect(lauxlib.luaL_loadbufferx(L, code, code.length, 'test', 't')).to.equal(lua.LUA_OK);
    lua.lua_call(L, 0, 1);
    expect(lua.lua_tojsstring(L, -1)).to.equal('integer,float,float,true,function,4,true');
    lua.lua_pop(L, 1);
    lua.lua_getglobal(L, 'doc');
    const encoded = new TextDecoder().decode(encodeLuaValue(L, -1));
    expect(JSON.parse(encoded)).to.deep.equal({ i: 5, f: 5, big: 3000000000, n: null, s: 'é😀\n', a: [], o: {}, l: [1, 'x', true, null] });
    expect(encoded).to.include('"f":5.0');
    expect(encoded).to.include('"a":[]');
    expect(encoded).to.include('"o":{}');
    expect(encoded).to.include('"s":"é😀\\n"');
  });

  it('reports malformed JSON as an error text (json.decode raises it in Lua)', function () {
    const L = lauxlib.luaL_newstate();
    pushJsonModule(L);
    lua.lua_pop(L, 1);
    expect(decodeToLua(L, bytes('{"a":'))).to.equal('json.decode: unexpected end of input at position 6');
    expect(decodeToLua(L, bytes('[1,2] x'))).to.equal('json.decode: trailing characters at position 7');
    expect(lua.lua_gettop(L)).to.equal(0);
  });
});

describe('pushEvent checks', function () {
  it('accepts only a JSON object or array, as jansson does', function () {
    expect(jsonDocumentKind(bytes('{"a":1}')).kind).to.equal('object');
    expect(jsonDocumentKind(bytes('[1]')).kind).to.equal('array');
    expect(jsonDocumentKind(bytes('"s"')).kind).to.equal('invalid');
    expect(jsonDocumentKind(bytes('{')).kind).to.equal('invalid');
  });

  it('checks a JSEP SDP like Janus\'s parser', function () {
    const sdp = 'v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n';
    expect(sdpParses(sdp)).to.equal(true);
    expect(sdpParses(sdp.replace('IN IP4 1.1.1.1', 'IN'))).to.equal(false);
    expect(sdpParses('garbage')).to.equal(false);
    expect(sdpParses(`${sdp}x\r\n`)).to.equal(false);
    expect(jsepValid(bytes(JSON.stringify({ type: 'answer', sdp })))).to.equal(true);
    expect(jsepValid(bytes(JSON.stringify({ type: 'answer' })))).to.equal(false);
  });
});
