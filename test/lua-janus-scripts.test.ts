// Janus's own echotest.lua and videoroom.lua (Debian janus 1.1.2, with janus-sdp.lua and
// janus-logger.lua, unmodified, extracted by scripts/test-setup.mjs) through the Plugin
// interface with a recording PluginHost. SDPs are real browser offers, anonymised as the core
// does; the expected answers/offers were produced by the same scripts under Debian's lua5.3.

import { expect } from 'chai';
import { Logger, silentLogger } from '../src/log';
import { clientJsepForScript } from '../src/media/sdp/client-sdp';
import type { JsonObject } from '../src/plugin/json';
import type { PluginHandle, PluginJsep } from '../src/plugin/plugin';
import { createLuaPlugin } from '../src/script/lua-plugin';
import type { ScriptPlugin } from '../src/script/script-plugin';
import { readSdpFixture } from './fixtures/sdp/fixtures';
import { FakeHost, janusScript, scriptAuthor, waitFor } from './lua-fixtures';

const handle = (id: number): PluginHandle => ({ id, sessionId: 4242 });

function offerJsep(fixture: string): PluginJsep {
  return clientJsepForScript({ type: 'offer', sdp: readSdpFixture(fixture) }).jsep;
}

describe('Janus echotest.lua (unmodified) on Fengari', function () {
  let plugin: ScriptPlugin;
  let host: FakeHost;
  const h = handle(1234567890123);

  before(async function () {
    host = new FakeHost(true);
    plugin = createLuaPlugin(janusScript('echotest.lua'), silentLogger());
    await plugin.init(host);
  });

  after(async function () {
    await plugin.destroy();
  });

  it('loads, registers under getPackage() with its getters, and init notified the handlers', function () {
    expect(plugin.info()).to.deep.equal({
      package: 'janus.plugin.echolua',
      name: 'Lua based EchoTest',
      description: 'This is echotest.lua, a Lua based clone of janus.plugin.echotest',
      author: scriptAuthor(janusScript('echotest.lua').path),
      version: 12,
      versionString: '0.0.12',
    });
    expect(host.notifications).to.deep.equal([{ handleId: 0, event: { event: 'loaded', script: 'echotest.lua' } }]);
    expect(plugin.wantsIncomingData(false)).to.equal(true);
    expect(plugin.wantsIncomingData(true)).to.equal(true);
    expect(plugin.wantsIncomingRtp()).to.equal(false);
  });

  it('answers {audio:true, video:true} without a JSEP synchronously and configures the media', async function () {
    await plugin.createSession(h);
    host.media.calls.length = 0;
    const result = await plugin.handleMessage(h, 'sync-1', { audio: true, video: true }, undefined);
    expect(result).to.deep.equal({ kind: 'ok', data: { echotest: 'response', result: 'ok' } });
    expect(host.media.calls).to.deep.equal([
      ['configureMedium', h.id, 'audio', 'in', true],
      ['configureMedium', h.id, 'audio', 'out', true],
      ['configureMedium', h.id, 'video', 'in', true],
      ['configureMedium', h.id, 'video', 'out', true],
      ['sendPli', h.id],
    ]);
    expect(host.events).to.have.length(0);
  });

  it('acks an offer, then pushes the answer janus-sdp.lua generates (same bytes as real Lua 5.3)', async function () {
    const jsep = offerJsep('chrome-offer.sdp');
    const result = await plugin.handleMessage(h, 'async-1', { audio: true, video: true }, jsep);
    expect(result).to.deep.equal({ kind: 'ack' });
    await waitFor(() => host.events.length === 1, 3000, 'the echotest answer');
    const event = host.events[0];
    expect(event.handleId).to.equal(h.id);
    expect(event.transaction).to.equal('async-1');
    expect(event.event).to.deep.equal({ echotest: 'event', result: 'ok' });
    expect(event.jsep?.type).to.equal('answer');
    expect(event.jsep?.sdp).to.equal(readSdpFixture('lua-echotest-answer-chrome.sdp'));
    expect(host.notifications.at(-1)).to.deep.equal({ handleId: h.id, event: { event: 'processed', request: { audio: true, video: true } } });
    // The answer's first video codec is recorded, as the C side does for simulcast.
    expect(plugin.sessionState(h.id)?.videoCodec).to.equal('vp8');
  });

  it('echoes: setupMedia adds the session as its own recipient, hangupMedia removes it', async function () {
    await plugin.setupMedia(h);
    expect(plugin.sessionState(h.id)?.recipients).to.deep.equal([h.id]);
    expect(plugin.sessionState(h.id)?.sender).to.equal(h.id);
    expect(host.media.calls.at(-1)).to.deep.equal(['addRecipient', h.id, h.id]);
    await plugin.hangupMedia(h);
    expect(plugin.sessionState(h.id)?.recipients).to.deep.equal([]);
    expect(plugin.sessionState(h.id)?.sender).to.equal(undefined);
  });

  it('relays data through its hooks, reports substream/temporal changes, records, answers queries', async function () {
    plugin.dataReady(h);
    plugin.incomingData(h, { binary: false, payload: 'hello', label: 'JanusDataChannel', protocol: '' });
    await waitFor(() => host.media.calls.some((c) => c[0] === 'relayData'), 2000, 'relayed text');
    expect(host.media.calls.find((c) => c[0] === 'relayData')).to.deep.equal([
      'relayData', h.id, { binary: false, payload: '[echotest.lua] --> hello', label: 'JanusDataChannel', protocol: '' },
    ]);
    plugin.substreamChanged(h, 1);
    plugin.temporalLayerChanged(h, 0);
    await waitFor(() => host.events.length === 3, 2000, 'substream and temporal events');
    expect(host.events.slice(1).map((e) => [e.transaction, e.event])).to.deep.equal([
      [undefined, { echotest: 'event', videocodec: 'vp8', substream: 1 }],
      [undefined, { echotest: 'event', videocodec: 'vp8', temporal: 0 }],
    ]);
    const rec = await plugin.handleMessage(h, 'rec', { record: true, filename: '/tmp/luasfu-echo' }, undefined);
    expect(rec.kind).to.equal('ok');
    expect(host.media.calls.find((c) => c[0] === 'startRecording')).to.deep.equal(['startRecording', h.id, [
      { type: 'audio', codec: 'opus', folder: '/tmp', filename: '/tmp/luasfu-echo-audio' },
      { type: 'video', codec: 'vp8', folder: '/tmp', filename: '/tmp/luasfu-echo-video' },
      { type: 'data', codec: 'text', folder: '/tmp', filename: '/tmp/luasfu-echo-data' },
    ]]);
    await plugin.handleMessage(h, 'stop', { record: false }, undefined);
    expect(host.media.calls.at(-1)).to.deep.equal(['stopRecording', h.id, ['audio', 'video', 'data']]);
    const scriptId = plugin.sessionState(h.id)!.scriptId;
    expect(await plugin.querySession(h)).to.deep.equal({ script: 'echotest.lua', id: scriptId });
    expect(await plugin.handleAdminMessage({ request: 'anything', n: 1 })).to.deep.equal({ request: 'anything', n: 1 });
  });

  it('detaches: hangupMedia then destroySession; the id is dead afterwards', async function () {
    await plugin.hangupMedia(h);
    await plugin.destroySession(h);
    expect(plugin.sessionState(h.id)).to.equal(undefined);
    expect(await plugin.querySession(h)).to.equal(undefined);
    expect(await plugin.handleMessage(h, 'gone', { audio: true }, undefined)).to.deep.equal({ kind: 'error', reason: 'No such session' });
  });
});

describe('Janus videoroom.lua (unmodified, legacy API) on Fengari', function () {
  let plugin: ScriptPlugin;
  let host: FakeHost;
  const pub = handle(11);
  const sub = handle(22);
  const pub2 = handle(33);
  const ROOM = 1234;
  let publisherId = 0;

  before(async function () {
    host = new FakeHost(false);
    plugin = createLuaPlugin(janusScript("videoroom.lua"), process.env.LUA_DEBUG ? Logger.create({ level: "debug", format: "pretty" }) : silentLogger());
    await plugin.init(host);
    await plugin.createSession(pub);
    await plugin.createSession(sub);
  });

  after(async function () {
    await plugin.destroy();
  });

  function eventsFor(h: PluginHandle): JsonObject[] {
    return host.events.filter((e) => e.handleId === h.id).map((e) => e.event);
  }

  it('registers as janus.plugin.lua (no getters) and creates rooms (random ids past 2^31 work)', async function () {
    expect(plugin.info().package).to.equal('janus.plugin.lua');
    expect(await plugin.handleMessage(pub, 'c1', { request: 'create', room: ROOM }, undefined))
      .to.deep.equal({ kind: 'ok', data: { videoroom: 'created', room: ROOM } });
    expect(await plugin.handleMessage(pub, 'c2', { request: 'create', room: ROOM }, undefined))
      .to.deep.equal({ kind: 'ok', data: { videoroom: 'error', error_code: 427, error: 'Room exists' } });
    const random = await plugin.handleMessage(pub, 'c3', { request: 'create' }, undefined);
    expect(random.kind).to.equal('ok');
    const room = (random as { data: JsonObject }).data.room as number;
    expect(Number.isInteger(room) && room >= 1 && room <= 4294967296).to.equal(true);
    expect(await plugin.handleMessage(pub, 'e', { request: 'exists', room }, undefined))
      .to.deep.equal({ kind: 'ok', data: { videoroom: 'success', room, exists: true } });
    expect(await plugin.handleMessage(pub, 'k', { request: 'keyframe' }, undefined))
      .to.deep.equal({ kind: 'ok', data: { videoroom: 'error', error_code: 423, error: 'Unknown request' } });
    expect(await plugin.handleMessage(pub, 'l', { request: 'listparticipants', room: ROOM }, undefined))
      .to.deep.equal({ kind: 'ok', data: { videoroom: 'participants', room: ROOM, participants: [] } });
  });

  it('publisher join: ack, then joined with an empty publishers array', async function () {
    expect(await plugin.handleMessage(pub, 'j1', { request: 'join', ptype: 'publisher', room: ROOM, display: 'alice' }, undefined))
      .to.deep.equal({ kind: 'ack' });
    await waitFor(() => eventsFor(pub).length === 1, 3000, 'joined');
    const joined = host.events[0];
    expect(joined.transaction).to.equal('j1');
    const { id, private_id: privateId, ...rest } = joined.event;
    expect(rest).to.deep.equal({ videoroom: 'joined', room: ROOM, publishers: [] });
    expect(Number.isInteger(id) && Number.isInteger(privateId)).to.equal(true);
    publisherId = id as number;
    expect(plugin.sessionState(pub.id)?.media).to.deep.equal({
      audio: { in: false, out: true }, video: { in: false, out: true }, data: { in: false, out: true },
    });
  });

  it('publish with a simulcast offer: answered recvonly with the codecs it picked', async function () {
    const jsep = offerJsep('chrome-simulcast-offer.sdp');
    expect(await plugin.handleMessage(pub, 'p1', { request: 'publish', audio: true, video: true }, jsep)).to.deep.equal({ kind: 'ack' });
    await waitFor(() => eventsFor(pub).length === 2, 3000, 'configured');
    const configured = host.events[1];
    expect(configured.transaction).to.equal('p1');
    expect(configured.event).to.deep.equal({ videoroom: 'event', room: ROOM, configured: 'ok', audio_codec: 'opus', video_codec: 'vp8' });
    expect(configured.jsep?.type).to.equal('answer');
    expect(configured.jsep?.sdp).to.equal(readSdpFixture('lua-videoroom-publisher-answer-chrome-simulcast.sdp'));
    expect(plugin.sessionState(pub.id)?.simulcast?.rids).to.deep.equal(['h', 'm', 'l']);
    await plugin.setupMedia(pub);
    expect(plugin.sessionState(pub.id)?.started).to.equal(true);
  });

  it('subscriber join: attached with the offer built from the publisher answer; start; fed on setupMedia', async function () {
    const r = await plugin.handleMessage(sub, 's1', { request: 'join', ptype: 'subscriber', room: ROOM, feed: publisherId }, undefined);
    expect(r).to.deep.equal({ kind: 'ack' });
    await waitFor(() => eventsFor(sub).length === 1, 3000, 'attached');
    const attached = host.events.find((e) => e.handleId === sub.id)!;
    expect(attached.event).to.deep.equal({ videoroom: 'attached', room: ROOM, id: publisherId, display: 'alice' });
    expect(attached.jsep?.type).to.equal('offer');
    expect(attached.jsep?.sdp).to.equal(readSdpFixture('lua-videoroom-subscriber-offer.sdp'));
    const answer: PluginJsep = { type: 'answer', sdp: readSdpFixture('lua-echotest-answer-chrome.sdp') };
    expect(await plugin.handleMessage(sub, 's2', { request: 'start', room: ROOM }, answer)).to.deep.equal({ kind: 'ack' });
    await waitFor(() => eventsFor(sub).length === 2, 3000, 'started');
    expect(eventsFor(sub)[1]).to.deep.equal({ videoroom: 'event', room: ROOM, started: 'ok' });
    await plugin.setupMedia(sub);
    expect(plugin.sessionState(pub.id)?.recipients).to.deep.equal([sub.id]);
    expect(plugin.sessionState(sub.id)?.sender).to.equal(pub.id);
    expect(host.media.calls.slice(-2)).to.deep.equal([['addRecipient', pub.id, sub.id], ['sendPli', pub.id]]);
    const info = await plugin.querySession(sub);
    expect(info).to.include({ script: 'videoroom.lua', room: ROOM, ptype: 'subscriber', feed: publisherId, audio: true, video: true, data: true });
  });

  it('a second publisher sees the first in its joined event', async function () {
    await plugin.createSession(pub2);
    expect(await plugin.handleMessage(pub2, 'b1', { request: 'join', ptype: 'publisher', room: ROOM, display: 'bob' }, undefined))
      .to.deep.equal({ kind: 'ack' });
    await waitFor(() => eventsFor(pub2).length === 1, 3000, 'bob joined');
    const { id, private_id: privateId, ...rest } = eventsFor(pub2)[0];
    expect(rest).to.deep.equal({
      videoroom: 'joined', room: ROOM,
      publishers: [{ id: publisherId, display: 'alice', audio_codec: 'opus', video_codec: 'vp8' }],
    });
    expect(id).to.not.equal(publisherId);
    expect(Number.isInteger(privateId)).to.equal(true);
  });

  it('publisher leave: unpublished to the others, closePc, leaving ok; the PC hangup repeats unpublished', async function () {
    const before = host.events.length;
    expect(await plugin.handleMessage(pub, 'l1', { request: 'leave' }, undefined)).to.deep.equal({ kind: 'ack' });
    await waitFor(() => host.events.length >= before + 2, 3000, 'leave events');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const after = host.events.slice(before).map((e) => [e.handleId, e.transaction, e.event]);
    expect(after).to.deep.equal([
      [pub2.id, undefined, { videoroom: 'event', unpublished: publisherId, room: ROOM }],
      [pub.id, 'l1', { videoroom: 'event', room: ROOM, leaving: 'ok' }],
    ]);
    expect(host.closed).to.deep.equal([pub.id]);
    // The script unlinked its subscriber itself (removeRecipient in its own hangupMedia).
    expect(plugin.sessionState(pub.id)?.recipients).to.deep.equal([]);
    expect(plugin.sessionState(sub.id)?.sender).to.equal(undefined);
    // The core then hangs up the PC: hangupMedia runs again and bob hears it twice, as in Janus.
    await plugin.hangupMedia(pub);
    expect(host.events.slice(before + 2).map((e) => [e.handleId, e.event])).to.deep.equal([
      [pub2.id, { videoroom: 'event', unpublished: publisherId, room: ROOM }],
    ]);
  });
});
