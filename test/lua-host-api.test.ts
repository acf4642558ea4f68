// The host functions and libraries as a script sees them (docs/contract.md §1, §4), through the
// Plugin interface with a recording PluginHost: exact return values, recorded session state,
// ordering of replies and scheduler work, timers.

import { expect } from 'chai';
import type { ScriptConfig } from '../src/config';
import { LUA_PLUGIN_INFO } from '../src/common/identity';
import { silentLogger } from '../src/log';
import type { PluginHandle } from '../src/plugin/plugin';
import { createLuaPlugin } from '../src/script/lua-plugin';
import type { ScriptPlugin } from '../src/script/script-plugin';
import { FakeHost, ourLua, waitFor } from './lua-fixtures';
import { captureLogger } from './support/log-capture';

function scriptConfig(name: string, extra: Partial<ScriptConfig> = {}): ScriptConfig {
  return { path: ourLua(name), instructionLimit: 5_000_000, memoryLimitMb: 256, ...extra };
}

const handle = (id: number): PluginHandle => ({ id, sessionId: 1 });

describe('Lua host API (host-api.lua through the Plugin interface)', function () {
  let plugin: ScriptPlugin;
  let host: FakeHost;

  beforeEach(async function () {
    host = new FakeHost(true);
    plugin = createLuaPlugin(scriptConfig('host-api.lua', { config: 'cfg-string' }), silentLogger());
    await plugin.init(host);
  });

  afterEach(async function () {
    await plugin.destroy();
  });

  it('registers with the default info when the script defines no getters, and ran init(config)', function () {
    // The values themselves are asserted as Janus shows them in test/lua-janus-api.
    expect(plugin.info()).to.deep.equal(LUA_PLUGIN_INFO);
    expect(host.notifications).to.deep.equal([{ handleId: 0, event: { event: 'init', config: 'cfg-string', inits: 1 } }]);
    expect([...plugin.hooks()].sort()).to.deep.equal(['dataReady', 'handleAdminMessage', 'incomingTextData', 'slowLink']);
    expect(plugin.wantsIncomingData(false)).to.equal(true);
    expect(plugin.wantsIncomingData(true)).to.equal(false);
    expect(plugin.wantsIncomingRtp()).to.equal(false);
  });

  it('answers every host function with the contract return values', async function () {
    const h = handle(9007199254740991);
    await plugin.createSession(h);
    const result = await plugin.handleMessage(h, 'tr-1', { request: 'probe' }, undefined);
    expect(result.kind).to.equal('ok');
    const data = (result as { data: Record<string, unknown> }).data;
    const scriptId = plugin.sessionState(h.id)!.scriptId;
    expect(data).to.deep.equal({
      pushArity: -1, pushInvalid: -1, pushArray: 455, pushString: -1, pushUnknown: -1, pushBadSdp: -1, pushBadJsep: -1, pushOk: 0,
      events: 1, eventsArity: -1, notifyBad: -1, notifyOk: 0, closePcUnknown: -1, endSessionUnknown: -1,
      cmZeroIsTrue: 0, cmOut: 0, cmNilIsFalse: 0, cmOtherMedium: -1, cmArity: -1, cmUnknown: -1,
      addSelf: 0, addUnknown: -1, removeUnknown: -1, bitrate: 0, pliFreq: 0, substream: 0, temporal: 0, pli: 0, pliUnknown: -1,
      rtpZeroLen: -1, rtpNil: -1, rtpClamped: 0, textNotReady: -1, textArity: -1,
      recAudio: 0, recAgain: -1, recBadCodec: -1, recArity: -1, recFmtp: 0, stopNil: 0, stopArity: -1,
      timerArity: -1, timerNil: -1, extra: 1234, logResults: 0, poke: 0,
      randomInRange: true, randomSmall: 'integer',
      jsonEmpty: '{}', jsonArray: '[1,2,3]', jsonFloat: '{"a":1.5}', jsonFloatInt: '1234.0', jsonBigFloat: '3000000000',
      jsonSparse: 'b', jsonIntType: 'integer', jsonFloatType: 'float', jsonNull: true, jsonEmptyArray: '[]',
      jsonNested: '{"list":[{"k":"v"}]}', jsonEscapes: '"a\\"b\\\\c\\n\\u0001"',
      osExit: false, osExecute: false, ioOpen: false, loadlib: false, debugSethook: true,
      osTime: 'number', osClock: 'number', osDate: 'string', gettime: 'number',
      colors: '\u001b[0m\u001b[31mx\u001b[0m\u001b[0m',
      idType: scriptId <= 2147483647 ? 'integer' : 'float',
      configSeen: 'cfg-string',
    });
    // The one successful pushEvent reached the host with its transaction; notifyEvent too.
    expect(host.events).to.deep.equal([{ handleId: h.id, transaction: 'tr-1', event: { probe: 'event' } }]);
    expect(host.notifications[1]).to.deep.equal({ handleId: h.id, event: { x: 1 } });
    // The media calls went to the router keyed by the Janus handle id, in order.
    expect(host.media.calls).to.deep.equal([
      ['configureMedium', h.id, 'audio', 'in', true],
      ['configureMedium', h.id, 'video', 'out', true],
      ['configureMedium', h.id, 'data', 'in', false],
      ['addRecipient', h.id, h.id],
      ['setBitrate', h.id, 128000],
      ['setPliFreq', h.id, 10],
      ['setSubstream', h.id, 1],
      ['setTemporalLayer', h.id, 0],
      ['sendPli', h.id],
      ['relayRtp', h.id, true, 'abcdef'],
      ['startRecording', h.id, [{ type: 'audio', codec: 'opus', folder: '/tmp', filename: 'x' }]],
      ['startRecording', h.id, [{ type: 'video', codec: 'vp9', fmtp: 'profile-id=2', filename: 'v' }]],
    ]);
    // ... and the janus_lua_session-equivalent state recorded them.
    const state = plugin.sessionInfo(h.id);
    expect(state).to.deep.equal({
      script_id: scriptId,
      media: { audio: { in: true, out: false }, video: { in: false, out: true }, data: { in: false, out: false } },
      sender: h.id,
      recipients: [h.id],
      bitrate: 128000,
      pli_freq: 10,
      substream: 1,
      temporal_layer: 0,
      recorders: { audio: { codec: 'opus', folder: '/tmp', filename: 'x' }, video: { codec: 'vp9', fmtp: 'profile-id=2', filename: 'v' } },
      started: false,
      data_ready: false,
      e2ee: false,
    });
  });

  it('resets the media state on hangup (recorders survive) and unlinks on destroy', async function () {
    const h = handle(77);
    await plugin.createSession(h);
    await plugin.handleMessage(h, 't', { request: 'probe' }, undefined);
    await plugin.setupMedia(h);
    expect(plugin.sessionState(h.id)!.started).to.equal(true);
    await plugin.hangupMedia(h);
    const info = plugin.sessionInfo(h.id)!;
    expect(info.media).to.deep.equal({ audio: { in: false, out: false }, video: { in: false, out: false }, data: { in: false, out: false } });
    expect(info.recipients).to.deep.equal([]);
    expect(info.bitrate).to.equal(0);
    expect(info.temporal_layer).to.equal(2);
    expect(info.started).to.equal(false);
    expect(Object.keys(info.recorders as object)).to.deep.equal(['audio', 'video']);
    host.sequence.length = 0;
    await plugin.destroySession(h);
    expect(plugin.sessionState(h.id)).to.equal(undefined);
    // destroySession ran while the id was still alive (its pushEvent returned 0), then recorders closed.
    expect(host.sequence).to.deep.equal([
      ['pushEvent', h.id, {}],
      ['pushEvent', h.id, { destroying: true, alive: 0 }],
      ['stopRecording', h.id, ['audio', 'video']],
    ]);
  });

  it('sends the ack before the work queued by pokeScheduler, one resumeScheduler per poke', async function () {
    const h = handle(5);
    await plugin.createSession(h);
    const order: string[] = [];
    const done = plugin.handleMessage(h, 'tr-async', { request: 'async' }, undefined).then((r) => {
      order.push(`reply:${r.kind}`);
      order.push(`events-at-reply:${host.events.length}`);
    });
    await done;
    await waitFor(() => host.events.length === 1, 2000, 'async event');
    expect(order).to.deep.equal(['reply:ack', 'events-at-reply:0']);
    expect(host.events[0]).to.deep.equal({ handleId: h.id, transaction: 'tr-async', event: { async: 'done' } });
    // Two pokes, one queued task: the second resume finds the queue empty.
    const r2 = await plugin.handleMessage(h, 'tr-2', { request: 'double-poke' }, undefined);
    expect(r2).to.deep.equal({ kind: 'ack' });
    await waitFor(() => host.events.length === 2, 2000, 'double-poke event');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(host.events.map((e) => e.event)).to.deep.equal([{ async: 'done' }, { step: 1 }]);
  });

  it('fires timeCallback targets with their argument (or none), never inside the call', async function () {
    const h = handle(6);
    await plugin.createSession(h);
    const r = await plugin.handleMessage(h, 't', { request: 'timer' }, undefined);
    expect(r).to.deep.equal({ kind: 'ok', data: { a: 0, b: 0, c: 0 } });
    expect(host.events).to.have.length(0);
    await waitFor(() => host.events.length === 3, 3000, 'three timer events');
    expect(host.events.map((e) => e.event)).to.deep.equal([
      { timer: 'none', type: 'nil' },
      { timer: 'none', type: 'nil' },
      { timer: 'hello', type: 'string' },
    ]);
    expect(host.events.every((e) => e.transaction === undefined)).to.equal(true);
  });

  it('defers closePc/endSession to the host and validates a pushed JSEP', async function () {
    const h = handle(8);
    await plugin.createSession(h);
    expect(await plugin.handleMessage(h, 't', { request: 'close' }, undefined)).to.deep.equal({ kind: 'ok', data: { closePc: 0, endSession: 0 } });
    expect(host.closed).to.deep.equal([h.id]);
    expect(host.ended).to.deep.equal([h.id]);
    expect(await plugin.handleMessage(h, 't2', { request: 'offer' }, undefined)).to.deep.equal({ kind: 'ok', data: { pushed: 0 } });
    expect(host.events).to.have.length(1);
    expect(host.events[0].jsep?.type).to.equal('offer');
    expect(host.events[0].jsep?.sdp).to.match(/^v=0\r\no=- 1 1 IN IP4 1\.1\.1\.1\r\n/);
  });

  it('passes data, dataReady, slowLink (uplink, video order) and admin messages to the script', async function () {
    const h = handle(10);
    await plugin.createSession(h);
    plugin.dataReady(h);
    await waitFor(() => host.events.length === 1, 2000, 'dataReady event');
    expect(host.events[0].event).to.deep.equal({ dataReady: true, relay: 0 });
    expect(host.media.calls.at(-1)).to.deep.equal(['relayData', h.id, { binary: false, payload: 'hi', label: 'chat', protocol: '' }]);
    plugin.incomingData(h, { binary: false, payload: 'héllo', label: 'JanusDataChannel', protocol: 'p' });
    await waitFor(() => host.events.length === 2, 2000, 'text event');
    expect(host.events[1].event).to.deep.equal({ text: 'héllo', len: 6, label: 'JanusDataChannel', protocol: 'p' });
    plugin.slowLink(h, true, false);
    await waitFor(() => host.events.length === 3, 2000, 'slowLink event');
    expect(host.events[2].event).to.deep.equal({ slowLink: true, uplink: true, video: false });
    expect(await plugin.handleAdminMessage({ hello: [1, 2] })).to.deep.equal({ echoed: { hello: [1, 2] }, admin: true });
    expect(await plugin.handleAdminMessage(undefined)).to.deep.equal({});
    expect(await plugin.querySession(h)).to.deep.equal({
      id: plugin.sessionState(h.id)!.scriptId,
      known: true,
      idType: plugin.sessionState(h.id)!.scriptId <= 2147483647 ? 'integer' : 'float',
    });
  });
});

/** [case in host-api.lua's invalidCalls, function, argument position, argument name]: one per rule and function. */
const INVALID_CALLS: Array<[string, string, number, string]> = [
  ['janusLog', 'janusLog', 1, 'level'],
  ['timeCallback', 'timeCallback', 1, 'function'],
  ['timeCallbackDelay', 'timeCallback', 3, 'ms'],
  ['pushEvent', 'pushEvent', 1, 'id'],
  ['pushEventEvent', 'pushEvent', 3, 'event'],
  ['notifyEvent', 'notifyEvent', 1, 'id'],
  ['closePc', 'closePc', 1, 'id'],
  ['endSession', 'endSession', 1, 'id'],
  ['configureMedium', 'configureMedium', 2, 'medium'],
  ['configureMediumDirection', 'configureMedium', 3, 'direction'],
  ['addRecipient', 'addRecipient', 2, 'recipient'],
  ['removeRecipient', 'removeRecipient', 1, 'sender'],
  ['setBitrate', 'setBitrate', 2, 'bitrate'],
  ['setPliFreq', 'setPliFreq', 2, 'seconds'],
  ['setSubstream', 'setSubstream', 2, 'substream'],
  ['setTemporalLayer', 'setTemporalLayer', 2, 'temporal'],
  ['sendPli', 'sendPli', 1, 'id'],
  ['relayRtp', 'relayRtp', 4, 'length'],
  ['relayRtcp', 'relayRtcp', 3, 'packet'],
  ['relayTextData', 'relayTextData', 3, 'length'],
  ['relayBinaryData', 'relayBinaryData', 2, 'buffer'],
  ['relayData', 'relayData', 3, 'length'],
  ['startRecording', 'startRecording', 2, 'type'],
  ['startRecordingCodec', 'startRecording', 3, 'codec'],
  ['stopRecording', 'stopRecording', 2, 'type'],
];

describe('Lua host API: argument validation (validate.ts rules)', function () {
  it('refuses a bad argument of every host function: -1, one warning naming the function and the argument, nothing done', async function () {
    const log = captureLogger();
    const host = new FakeHost(true);
    const plugin = createLuaPlugin(scriptConfig('host-api.lua'), log.logger);
    await plugin.init(host);
    try {
      const h = handle(31);
      await plugin.createSession(h);
      const all: string[] = [];
      for (const [name, fn, position, argument] of INVALID_CALLS) {
        log.records.length = 0;
        const result = await plugin.handleMessage(h, 't', { request: 'invalid', case: name }, undefined);
        expect(result, name).to.deep.equal({ kind: 'ok', data: { result: -1 } });
        const warnings = log.records.filter((r) => r.source === 'janusLog' && String(r.msg).includes('invalid argument'));
        expect(warnings.map((r) => [r.level, String(r.msg).split(':').slice(0, 2).join(':')]), name).to.deep.equal([
          ['warn', `${fn}: invalid argument ${position} (${argument})`],
        ]);
        all.push(...warnings.map((r) => String(r.msg)));
      }
      // Not invalid (janus_lua.c): an unknown type counts as a recording (0, nothing recorded)
      // and an unknown stopRecording type is skipped.
      log.records.length = 0;
      for (const name of ['startRecordingUnknownType', 'stopRecordingUnknownType']) {
        const result = await plugin.handleMessage(h, 't', { request: 'invalid', case: name }, undefined);
        expect(result, name).to.deep.equal({ kind: 'ok', data: { result: 0 } });
      }
      expect(log.records.filter((r) => r.source === 'janusLog').map((r) => [r.level, String(r.msg)])).to.deep.equal([
        ['warn', "startRecording: Unknown recording type 'smell', ignored"],
      ]);
      expect(host.media.calls, 'no refused call reached the media plane').to.deep.equal([]);
      expect(host.events).to.deep.equal([]);
      expect(all).to.include.members([
        'setBitrate: invalid argument 2 (bitrate): expected a number >= 0, got "fast"',
        'configureMedium: invalid argument 2 (medium): expected "audio", "video" or "data", got "smell"',
        'configureMedium: invalid argument 3 (direction): expected "in" or "out", got "sideways"',
        'timeCallback: invalid argument 1 (function): the script defines no function "noSuchFunction"',
        'removeRecipient: invalid argument 1 (sender): expected a session id (an integer >= 0), got a table',
      ]);
    } finally {
      await plugin.destroy();
    }
  });
});
