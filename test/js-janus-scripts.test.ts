// Janus's own echotest.js (Debian janus 1.1.2, with janus-sdp.js, unmodified, extracted by
// scripts/test-setup.mjs) in the JavaScript runtime: through the Plugin interface with a
// recording PluginHost (answers byte-identical to real Duktape 2.7.0's), and through the real
// Janus API (WebSocket + Admin HTTP) of the test server with the fake media plane, beside a
// misbehaving script (462 "Duktape error", time limit).

import { expect } from 'chai';
import { silentLogger } from '../src/log';
import { clientJsepForScript } from '../src/media/sdp/client-sdp';
import type { JsonObject } from '../src/plugin/json';
import type { PluginHandle, PluginJsep } from '../src/plugin/plugin';
import { createJsPlugin } from '../src/script/js-plugin';
import type { ScriptPlugin } from '../src/script/script-plugin';
import { duktapeEchotestAnswer, janusEchotestJs, ourJs } from './fixtures/js/fixtures';
import { readSdpFixture } from './fixtures/sdp/fixtures';
import { FakeHost, scriptAuthor, waitFor } from './lua-fixtures';
import { adminPost } from './support/admin-http';
import { echotestThroughJanusApi } from './support/echotest-api';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { TEST_ADMIN_SECRET, type TestServer, startTestServer } from './support/test-server';

const handle = (id: number): PluginHandle => ({ id, sessionId: 4242 });
const offerJsep = (fixture: string): PluginJsep => clientJsepForScript({ type: 'offer', sdp: readSdpFixture(fixture) }).jsep;

describe('Janus echotest.js (unmodified) in the JavaScript runtime', function () {
  let plugin: ScriptPlugin;
  let host: FakeHost;
  const h = handle(987654321);

  before(async function () {
    host = new FakeHost(true);
    plugin = createJsPlugin(janusEchotestJs(), silentLogger());
    await plugin.init(host);
  });

  after(async function () {
    await plugin.destroy();
  });

  it('loads janus-sdp.js through Duktape.modSearch/readFile, registers as janus.plugin.echojs, init notified', function () {
    expect(plugin.info()).to.deep.equal({
      package: 'janus.plugin.echojs',
      name: 'JavaScript based EchoTest',
      description: 'This is echotest.js, a JavaScript/Duktape based clone of janus.plugin.echotest',
      author: scriptAuthor(janusEchotestJs().path),
      version: 12,
      versionString: '0.0.12',
    });
    expect(host.notifications).to.deep.equal([{ handleId: 0, event: { event: 'loaded', script: 'echotest.js' } }]);
    expect(plugin.wantsIncomingData(false)).to.equal(true);
    expect(plugin.wantsIncomingRtp()).to.equal(false);
  });

  it('enables all six media flags in createSession, answers a request without JSEP synchronously', async function () {
    await plugin.createSession(h);
    expect(host.media.calls).to.deep.equal([
      ['configureMedium', h.id, 'audio', 'in', true],
      ['configureMedium', h.id, 'audio', 'out', true],
      ['configureMedium', h.id, 'video', 'in', true],
      ['configureMedium', h.id, 'video', 'out', true],
      ['configureMedium', h.id, 'data', 'in', true],
      ['configureMedium', h.id, 'data', 'out', true],
    ]);
    host.media.calls.length = 0;
    expect(await plugin.handleMessage(h, 'sync-1', { video: false }, undefined)).to.deep.equal({ kind: 'ok', data: { echotest: 'response', result: 'ok' } });
    expect(host.media.calls).to.deep.equal([
      ['configureMedium', h.id, 'video', 'in', false],
      ['configureMedium', h.id, 'video', 'out', false],
    ]);
  });

  for (const browser of ['chrome', 'firefox'] as const) {
    it(`acks a ${browser} offer, then its task queue pushes the answer (same bytes as real Duktape)`, async function () {
      host.events.length = 0;
      const result = await plugin.handleMessage(h, `async-${browser}`, { audio: true, video: true }, offerJsep(`${browser}-offer.sdp`));
      expect(result).to.deep.equal({ kind: 'ack' });
      await waitFor(() => host.events.length === 1, 3000, 'the echotest answer');
      const event = host.events[0];
      expect([event.handleId, event.transaction, event.event]).to.deep.equal([h.id, `async-${browser}`, { echotest: 'event', result: 'ok' }]);
      expect(event.jsep?.type).to.equal('answer');
      expect(event.jsep?.sdp).to.equal(duktapeEchotestAnswer(browser));
      expect(host.notifications.at(-1)).to.deep.equal({ handleId: h.id, event: { event: 'processed', request: { audio: true, video: true } } });
    });
  }

  it('echoes (addRecipient self), relays data with its prefix, records, answers queries and admin messages', async function () {
    await plugin.setupMedia(h);
    expect(plugin.sessionState(h.id)?.recipients).to.deep.equal([h.id]);
    plugin.dataReady(h);
    plugin.incomingData(h, { binary: false, payload: 'hello', label: 'JanusDataChannel', protocol: '' });
    await waitFor(() => host.media.calls.some((c) => c[0] === 'relayData'), 2000, 'relayed text');
    expect(host.media.calls.find((c) => c[0] === 'relayData')).to.deep.equal([
      'relayData', h.id, { binary: false, payload: '[echotest.js] --> hello', label: 'JanusDataChannel', protocol: '' },
    ]);
    expect((await plugin.handleMessage(h, 'rec', { record: true, filename: '/tmp/luasfu-echojs' }, undefined)).kind).to.equal('ok');
    expect(host.media.calls.find((c) => c[0] === 'startRecording')).to.deep.equal(['startRecording', h.id, [
      { type: 'audio', codec: 'opus', folder: '/tmp', filename: '/tmp/luasfu-echojs-audio' },
      { type: 'video', codec: 'vp8', folder: '/tmp', filename: '/tmp/luasfu-echojs-video' },
      { type: 'data', codec: 'text', folder: '/tmp', filename: '/tmp/luasfu-echojs-data' },
    ]]);
    await plugin.handleMessage(h, 'stop', { record: false }, undefined);
    expect(host.media.calls.at(-1)).to.deep.equal(['stopRecording', h.id, ['audio', 'video', 'data']]);
    plugin.substreamChanged(h, 1);
    await waitFor(() => host.events.some((e) => e.event.substream === 1), 2000, 'substream event');
    const scriptId = plugin.sessionState(h.id)!.scriptId;
    expect(await plugin.querySession(h)).to.deep.equal({ script: 'echotest.js', id: scriptId });
    expect(await plugin.handleAdminMessage({ request: 'anything', n: 1 })).to.deep.equal({ request: 'anything', n: 1 });
  });

  it('detaches: hangupMedia then destroySession (which calls its own hangupMedia); the id is dead afterwards', async function () {
    await plugin.hangupMedia(h);
    await plugin.destroySession(h);
    expect(plugin.sessionState(h.id)).to.equal(undefined);
    expect(await plugin.handleMessage(h, 'gone', { audio: true }, undefined)).to.deep.equal({ kind: 'error', reason: 'No such session' });
  });
});

describe('Janus echotest.js (unmodified) without a modules path', function () {
  it('finds janus-sdp.js in its own folder (getModulesFolder() is the script folder) and answers an offer', async function () {
    const host = new FakeHost(true);
    const plugin = createJsPlugin(janusEchotestJs({ modulesPath: undefined }), silentLogger());
    await plugin.init(host);
    try {
      expect(plugin.info().package).to.equal('janus.plugin.echojs');
      const h = handle(424242);
      await plugin.createSession(h);
      const result = await plugin.handleMessage(h, 'offer', { audio: true, video: true }, offerJsep('chrome-offer.sdp'));
      expect(result).to.deep.equal({ kind: 'ack' });
      await waitFor(() => host.events.length === 1, 3000, 'the echotest answer');
      expect(host.events[0].jsep?.sdp).to.equal(duktapeEchotestAnswer('chrome'));
    } finally {
      await plugin.destroy();
    }
  });
});

describe('JavaScript scripts through the Janus API', function () {
  let ts: TestServer;
  let client: JanusWsClient;
  let echo: ScriptPlugin;
  let broken: ScriptPlugin;

  before(async function () {
    echo = createJsPlugin(janusEchotestJs(), silentLogger());
    broken = createJsPlugin({ path: ourJs('broken.js'), instructionLimit: 1, memoryLimitMb: 256 }, silentLogger(), { timeLimitMs: 300 });
    ts = await startTestServer({ plugins: [echo, broken] });
    client = await JanusWsClient.connect(ts.urls.ws);
  });

  after(async function () {
    await client?.close();
    await ts?.close();
  });

  it('lists echotest.js in server_info under janus.plugin.echojs', async function () {
    const info = await client.request({ janus: 'info' });
    expect((info.plugins as JsonObject)['janus.plugin.echojs']).to.deep.equal({
      name: 'JavaScript based EchoTest',
      author: scriptAuthor(janusEchotestJs().path),
      description: 'This is echotest.js, a JavaScript/Duktape based clone of janus.plugin.echotest',
      version_string: '0.0.12',
      version: 12,
    });
  });

  it('echotest.js: sync success, then ack + event with the answer; handle_info shows querySession; admin message', async function () {
    await echotestThroughJanusApi({ ts, client, echo, plugin: 'janus.plugin.echojs', script: 'echotest.js', hello: 'js' });
  });

  it('a throwing handleMessage and an endless loop get 462 "Duktape error"; the script still answers', async function () {
    const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.jsbroken');
    const ask = (request: string) => client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request } });
    for (const request of ['throw', 'loop', 'process', 'negative']) {
      const reply = await ask(request);
      expect(reply, request).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: reply.transaction, error: { code: 462, reason: 'Duktape error' },
      });
    }
    const pong = await ask('ping');
    expect(pong.plugindata).to.deep.equal({ plugin: 'janus.plugin.jsbroken', data: { pong: true } });
    // querySession throws: Admin handle_info shows {"error": ...}.
    const info = await adminPost(`${ts.urls.adminHttp}/${sessionId}/${handleId}`, {
      janus: 'handle_info', plugin_only: true, transaction: 'hi', admin_secret: TEST_ADMIN_SECRET,
    });
    expect((info.info as JsonObject).plugin_specific).to.deep.equal({ error: `Error: no info for ${broken.sessionState(handleId)!.scriptId}` });
    expect(broken.restarts).to.equal(0);
  });
});
