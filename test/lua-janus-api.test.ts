// Janus's own Lua scripts behind the real Janus API (WebSocket + Admin HTTP) of the test
// server, with the fake media plane: what a janus.js client sees from echotest.lua and
// videoroom.lua, a broken script's 462, a hung script's restart (detached handles), and Admin
// handle_info showing querySession's output.

import { expect } from 'chai';
import { silentLogger as silent } from '../src/log';
import type { JsonObject } from '../src/plugin/json';
import { createLuaPlugin } from '../src/script/lua-plugin';
import type { ScriptPlugin } from '../src/script/script-plugin';
import { readSdpFixture } from './fixtures/sdp/fixtures';
import { janusScript, ourLua, scriptAuthor } from './lua-fixtures';
import { adminPost } from './support/admin-http';
import { echotestThroughJanusApi } from './support/echotest-api';
import { JanusWsClient, createAndAttach, newTransaction } from './support/janus-ws-client';
import { TEST_ADMIN_SECRET, type TestServer, startTestServer } from './support/test-server';

describe('Lua scripts through the Janus API', function () {
  let ts: TestServer;
  let client: JanusWsClient;
  let echo: ScriptPlugin;
  let room: ScriptPlugin;
  let broken: ScriptPlugin;
  let hang: ScriptPlugin;
  let probe: ScriptPlugin;

  before(async function () {
    echo = createLuaPlugin(janusScript('echotest.lua'), silent());
    room = createLuaPlugin(janusScript('videoroom.lua'), silent());
    // Our test scripts would register as janus.plugin.lua too: these wrappers give them their own package.
    broken = createLuaPlugin({ path: ourLua('error-in-handle-pkg.lua'), instructionLimit: 1_000_000, memoryLimitMb: 256 }, silent());
    // 3 s, not 1: this timeout covers the load too, and five scripts start (and warm up) at once.
    hang = createLuaPlugin({ path: ourLua('hang-pkg.lua'), instructionLimit: 1_000_000, memoryLimitMb: 256 }, silent(), { taskTimeoutMs: 3000 });
    probe = createLuaPlugin({ path: ourLua('host-api-pkg.lua'), instructionLimit: 1_000_000, memoryLimitMb: 256 }, silent());
    ts = await startTestServer({ plugins: [echo, room, broken, hang, probe] });
    client = await JanusWsClient.connect(ts.urls.ws);
  });

  after(async function () {
    await client?.close();
    await ts?.close();
  });

  it('lists the scripts in server_info under their packages with their getters', async function () {
    const info = await client.request({ janus: 'info' });
    const plugins = info.plugins as JsonObject;
    expect(plugins['janus.plugin.echolua']).to.deep.equal({
      name: 'Lua based EchoTest',
      author: scriptAuthor(janusScript('echotest.lua').path),
      description: 'This is echotest.lua, a Lua based clone of janus.plugin.echotest',
      version_string: '0.0.12',
      version: 12,
    });
    expect(plugins['janus.plugin.lua']).to.deep.equal({
      name: 'Janus Lua plugin',
      author: 'luasfu',
      description: 'A custom plugin for the Lua framework.',
      version_string: '0.0.1',
      version: 1,
    });
  });

  it('echotest.lua: sync success, then ack + event with the answer; handle_info shows querySession', async function () {
    await echotestThroughJanusApi({ ts, client, echo, plugin: 'janus.plugin.echolua', script: 'echotest.lua', hello: 'lua' });
  });

  it('videoroom.lua: create, publisher join + publish, subscriber join (offer) + start (answer)', async function () {
    const pub = await createAndAttach(client, 'janus.plugin.lua');
    const created = await client.request({ janus: 'message', session_id: pub.sessionId, handle_id: pub.handleId, body: { request: 'create', room: 4321 } });
    expect((created.plugindata as JsonObject).data).to.deep.equal({ videoroom: 'created', room: 4321 });

    const tJoin = newTransaction();
    await client.request({ janus: 'message', session_id: pub.sessionId, handle_id: pub.handleId, transaction: tJoin, body: { request: 'join', ptype: 'publisher', room: 4321, display: 'alice' } });
    const joined = await client.next((m) => m.janus === 'event' && m.transaction === tJoin, 5000);
    const joinedData = (joined.plugindata as JsonObject).data as JsonObject;
    expect(joinedData.videoroom).to.equal('joined');
    expect(joinedData.publishers).to.deep.equal([]);
    const publisherId = joinedData.id as number;

    const tPub = newTransaction();
    await client.request({
      janus: 'message', session_id: pub.sessionId, handle_id: pub.handleId, transaction: tPub,
      body: { request: 'publish', audio: true, video: true }, jsep: { type: 'offer', sdp: readSdpFixture('chrome-offer.sdp') },
    });
    const configured = await client.next((m) => m.janus === 'event' && m.transaction === tPub, 5000);
    expect((configured.plugindata as JsonObject).data).to.deep.equal({ videoroom: 'event', room: 4321, configured: 'ok', audio_codec: 'opus', video_codec: 'vp8' });
    expect((configured.jsep as JsonObject).type).to.equal('answer');
    expect(String((configured.jsep as JsonObject).sdp)).to.include('a=recvonly');
    // The fake media plane does not fire setupMedia: do what the core does when ICE/DTLS complete.
    await room.setupMedia({ id: pub.handleId, sessionId: pub.sessionId });

    const sub = await createAndAttach(client, 'janus.plugin.lua');
    const tSub = newTransaction();
    await client.request({ janus: 'message', session_id: sub.sessionId, handle_id: sub.handleId, transaction: tSub, body: { request: 'join', ptype: 'subscriber', room: 4321, feed: publisherId } });
    const attached = await client.next((m) => m.janus === 'event' && m.transaction === tSub, 5000);
    expect((attached.plugindata as JsonObject).data).to.deep.equal({ videoroom: 'attached', room: 4321, id: publisherId, display: 'alice' });
    const offer = attached.jsep as JsonObject;
    expect(offer.type).to.equal('offer');
    expect(String(offer.sdp)).to.include('a=sendonly');

    const tStart = newTransaction();
    await client.request({
      janus: 'message', session_id: sub.sessionId, handle_id: sub.handleId, transaction: tStart,
      body: { request: 'start', room: 4321 }, jsep: { type: 'answer', sdp: readSdpFixture('lua-echotest-answer-chrome.sdp') },
    });
    const started = await client.next((m) => m.janus === 'event' && m.transaction === tStart, 5000);
    expect((started.plugindata as JsonObject).data).to.deep.equal({ videoroom: 'event', room: 4321, started: 'ok' });
    await room.setupMedia({ id: sub.handleId, sessionId: sub.sessionId });
    expect(room.sessionState(pub.handleId)?.recipients).to.deep.equal([sub.handleId]);

    const info = await adminPost(`${ts.urls.adminHttp}/${sub.sessionId}/${sub.handleId}`, {
      janus: 'handle_info', plugin_only: true, transaction: 'hi2', admin_secret: TEST_ADMIN_SECRET,
    });
    expect((info.info as JsonObject).plugin_specific).to.include({ script: 'videoroom.lua', room: 4321, ptype: 'subscriber', feed: publisherId });
  });

  it('a script error becomes 462 with the script reason or "Lua error"', async function () {
    const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.brokenlua');
    const raised = await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'raise' } });
    expect(raised).to.deep.equal({ janus: 'error', session_id: sessionId, transaction: raised.transaction, error: { code: 462, reason: 'Lua error' } });
    const reason = await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'reason' } });
    expect(reason.error).to.deep.equal({ code: 462, reason: 'custom reason' });
    const array = await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'array' } });
    expect(array.error).to.deep.equal({ code: 462, reason: 'Plugin returned an invalid JSON response' });
  });

  it('a hung script: 462 for the message, the handle detached, the script restarted', async function () {
    const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.hanglua');
    const hung = await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'hang' } }, 8000);
    expect(hung.error).to.deep.equal({ code: 462, reason: 'Lua error' });
    const detached = await client.next((m) => m.janus === 'detached' && m.sender === handleId, 5000);
    expect(detached.session_id).to.equal(sessionId);
    expect(hang.restarts).to.equal(1);
    const again = await createAndAttach(client, 'janus.plugin.hanglua');
    const pong = await client.request({ janus: 'message', session_id: again.sessionId, handle_id: again.handleId, body: { request: 'ping' } }, 8000);
    expect((pong.plugindata as JsonObject).data).to.deep.equal({ pong: true });
  });

  it('keeps ack before event for every client when many async requests arrive together', async function () {
    const handles = await Promise.all(Array.from({ length: 20 }, () => createAndAttach(client, 'janus.plugin.hostapi')));
    const transactions = handles.map(() => newTransaction());
    // All sent in one go: they reach the worker as batches.
    handles.forEach((h, i) => client.send({ janus: 'message', session_id: h.sessionId, handle_id: h.handleId, transaction: transactions[i], body: { request: 'async' } }));
    for (const [i, h] of handles.entries()) {
      const event = await client.next((m) => m.janus === 'event' && m.transaction === transactions[i], 5000);
      expect((event.plugindata as JsonObject).data).to.deep.equal({ async: 'done' });
      expect(event.sender).to.equal(h.handleId);
      const ackIndex = client.received.findIndex((m) => m.janus === 'ack' && m.transaction === transactions[i]);
      expect(ackIndex).to.be.greaterThan(-1);
      expect(ackIndex).to.be.lessThan(client.received.indexOf(event));
    }
  });
});
