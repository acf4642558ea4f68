// The embedding API (createServer) with the fake media plane: typed options and the CLI's
// defaults, echotest.lua and videoroom.lua side by side, the bring-your-own transport on a
// node:http + ws service (the example), typed events, hot reload without media, close().

import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli } from '../src/cli-args';
import { ConfigError, PACKAGE_DIR } from '../src/config';
import type { HandleEvent, MediaEvent, PluginNotification, ScriptErrorEvent, ScriptReloadEvent, ScriptRestartEvent, SessionEvent, WebrtcEvent } from '../src/events/server-events';
import { type Luasfu, ScriptReloadError, ServerStateError, createServer } from '../src/luasfu';
import { resolveOptions } from '../src/options';
import type { JsonObject } from '../src/plugin/json';
import { ScriptLoadError } from '../src/script/script-plugin';
import type { TransportPeer } from '../src/transports/adapter';
import { GREETER_PACKAGE, GreeterPlugin } from '../examples/plugin-object';
import { type Service, startService } from '../examples/http-ws-service';
import { readSdpFixture } from './fixtures/sdp/fixtures';
import { ourLua, ourScript } from './lua-fixtures';
import { FakeMediaPlane } from './support/fake-media-plane';
import { JanusWsClient, createAndAttach, delay } from './support/janus-ws-client';
import { captureLogger } from './support/log-capture';
import { waitUntil } from './support/wrtc-peer';

const ECHO = 'janus.plugin.echolua';

/** Listeners on 127.0.0.1 with free ports, as every test server. */
const LOCAL = {
  listenIp: '127.0.0.1',
  http: { port: 0 },
  websocket: { port: 0 },
  adminHttp: { port: 0 },
  adminWebsocket: { port: 0 },
  adminSecret: 'embedoverlord',
  metrics: { port: 0 },
} as const;

function pluginData(reply: JsonObject): JsonObject {
  expect(reply.janus, JSON.stringify(reply)).to.equal('success');
  return (reply.plugindata as JsonObject).data as JsonObject;
}

async function message(client: JanusWsClient, ids: { sessionId: number; handleId: number }, body: JsonObject): Promise<JsonObject> {
  return client.request({ janus: 'message', session_id: ids.sessionId, handle_id: ids.handleId, body });
}

describe('embedding: createServer options', () => {
  it('defaults to what the luasfu command starts with, the package\'s lua/echotest.lua included', () => {
    const { config, entries } = resolveOptions({});
    const cli = parseCli([], PACKAGE_DIR);
    expect(cli.kind).to.equal('run');
    expect(config).to.deep.equal((cli as { config: unknown }).config);
    expect(config.scripts.map((script) => script.path)).to.deep.equal([join(PACKAGE_DIR, 'lua', 'echotest.lua')]);
    expect(entries).to.have.length(1);
  });

  it('takes listeners as false or partial objects, scripts and plugin objects in order, and validates like a config file', () => {
    const greeter = new GreeterPlugin();
    const { config, entries } = resolveOptions({
      http: false,
      websocket: { port: 9000 },
      media: { workers: 1 },
      scripts: ['lua/echotest.lua', greeter, { path: ourScript('videoroom.lua'), memoryLimitMb: 64, warmUp: false }],
    });
    expect(config.http).to.deep.equal({ enabled: false, port: 8088, path: '/janus' });
    expect(config.websocket).to.deep.equal({ enabled: true, port: 9000 });
    expect(config.media.workers).to.equal(1);
    expect(config.media.rtcMinPort).to.equal(10000);
    expect(entries.map((entry) => (entry.kind === 'plugin' ? entry.plugin : entry.config.path))).to.deep.equal([
      join(process.cwd(), 'lua', 'echotest.lua'), greeter, ourScript('videoroom.lua'),
    ]);
    expect(config.scripts.map((script) => script.memoryLimitMb)).to.deep.equal([256, 64]);
    expect(config.scripts.map((script) => script.warmUp)).to.deep.equal([true, false]);
    expect(() => resolveOptions({ scripts: [{ path: ourScript('echotest.lua'), warmUp: 'yes' }] as never })).to.throw(ConfigError, /warmUp/);
    expect(resolveOptions({ scripts: [] }).entries).to.deep.equal([]);
    expect(() => resolveOptions({ websocket: { port: 70000 } })).to.throw(ConfigError, 'config: websocket.port must be an integer from 0 to 65535');
  });

  it('refuses a missing script or one that is neither .lua nor .js before starting anything', async () => {
    const media = new FakeMediaPlane();
    const missing = await createServer({ ...LOCAL, scripts: ['lua/nope.lua'], mediaPlane: media }).listen().then(() => undefined, (error: Error) => error);
    expect(missing).to.be.instanceOf(ConfigError);
    expect(missing?.message).to.equal(`config: scripts[0].path: no such file: ${join(process.cwd(), 'lua', 'nope.lua')}`);
    const python = join(tmpdir(), `luasfu-room-${process.pid}.py`);
    writeFileSync(python, '');
    try {
      const failed = await createServer({ ...LOCAL, scripts: [python], mediaPlane: media }).listen().then(() => undefined, (error: Error) => error);
      expect(failed).to.be.instanceOf(ConfigError);
      expect(failed?.message).to.equal(`config: scripts.path must name a .lua or .js script (got ${python})`);
    } finally {
      rmSync(python, { force: true });
    }
    expect(media.closed).to.equal(false);
  });

  it('refuses transport() and reloadScript() before listen(), and a second listen()', async () => {
    const sfu = createServer({ ...LOCAL, scripts: [], mediaPlane: new FakeMediaPlane(), logger: captureLogger().logger });
    expect(() => sfu.transport()).to.throw(ServerStateError);
    await sfu.reloadScript(ECHO).then(() => expect.fail('reloaded'), (error: Error) => expect(error).to.be.instanceOf(ServerStateError));
    await sfu.listen();
    await sfu.listen().then(() => expect.fail('listened twice'), (error: Error) => expect(error).to.be.instanceOf(ServerStateError));
    await sfu.close();
    expect(sfu.ports).to.deep.equal({});
  });
});

describe('embedding: echotest.lua, videoroom.lua and a TypeScript plugin side by side', function () {
  this.timeout(30000);
  let sfu: Luasfu;
  let client: JanusWsClient;

  before(async () => {
    sfu = createServer({
      ...LOCAL,
      scripts: [ourScript('echotest.lua'), ourScript('videoroom.lua'), new GreeterPlugin()],
      logger: captureLogger().logger,
      mediaPlane: new FakeMediaPlane(),
    });
    const ports = await sfu.listen();
    client = await JanusWsClient.connect(`ws://127.0.0.1:${ports.websocket}`);
  });

  after(async () => {
    await client?.close();
    await sfu?.close();
  });

  it('registers each under its package name, in order', async () => {
    const names = sfu.plugins().map((plugin) => plugin.name);
    expect(names[0]).to.equal(ECHO);
    expect(names[2]).to.equal(GREETER_PACKAGE);
    expect(sfu.plugins()[1]!.script).to.equal(ourScript('videoroom.lua'));
    const info = await client.request({ janus: 'info' });
    expect(Object.keys(info.plugins as JsonObject)).to.deep.equal(names);
  });

  it('reaches each through the Janus API by its package name', async () => {
    const echo = await createAndAttach(client, ECHO);
    expect(pluginData(await message(client, echo, { audio: true }))).to.deep.equal({ echotest: 'response', result: 'ok' });
    const room = await createAndAttach(client, sfu.plugins()[1]!.name);
    const created = pluginData(await message(client, room, { request: 'create', room: 777 }));
    expect(created).to.include({ videoroom: 'created', room: 777 });
    const list = pluginData(await message(client, room, { request: 'list' }));
    expect((list.list as JsonObject[]).map((entry) => entry.room)).to.include(777);
    const greeter = await createAndAttach(client, GREETER_PACKAGE);
    expect(pluginData(await message(client, greeter, { request: 'hello', name: 'Ada' }))).to.deep.equal({ greeter: 'hello', text: 'Hello, Ada!' });
  });

  it('runs the TypeScript plugin example: synchronous replies, then asynchronous events on the transaction', async () => {
    const greeter = await createAndAttach(client, GREETER_PACKAGE);
    const ack = await client.request({ janus: 'message', session_id: greeter.sessionId, handle_id: greeter.handleId, transaction: 'count', body: { request: 'count' } });
    expect(ack.janus).to.equal('ack');
    const ticks: unknown[] = [];
    for (let n = 1; n <= 3; n++) {
      const event = await client.next((m) => m.janus === 'event' && m.transaction === 'count' && !ticks.includes(m), 3000);
      ticks.push(event);
      expect((event.plugindata as JsonObject).data).to.deep.equal({ greeter: 'tick', n });
    }
    const refused = await message(client, greeter, { request: 'dance' });
    expect(refused.error).to.deep.equal({ code: 462, reason: 'Unknown request "dance"' });
    await sfu.reloadScript(GREETER_PACKAGE).then(() => expect.fail('reloaded'), (error: Error) => expect(error).to.be.instanceOf(ScriptReloadError));
  });
});

describe('embedding: the Janus API on the application\'s own node:http + ws server (examples/http-ws-service)', function () {
  this.timeout(30000);
  let service: Service;
  let media: FakeMediaPlane;

  before(async () => {
    media = new FakeMediaPlane();
    service = await startService({ sfu: { scripts: [ourScript('echotest.lua')], adminSecret: 'embedoverlord', mediaPlane: media, logger: captureLogger().logger } });
  });

  after(async () => {
    await service?.close();
  });

  const wsUrl = (path: string): string => `${service.url.replace('http', 'ws')}${path}`;

  it('serves its own routes, opens no luasfu listener, and answers the Janus API on its path', async () => {
    expect(service.sfu.ports).to.deep.equal({});
    const health = (await (await fetch(`${service.url}/health`)).json()) as JsonObject;
    expect(health).to.deep.equal({ ok: true, plugins: [ECHO] });
    const client = await JanusWsClient.connect(wsUrl('/sfu/janus'));
    try {
      const info = await client.request({ janus: 'info' });
      expect(info.janus).to.equal('server_info');
      expect(Object.keys(info.transports as JsonObject)).to.include('janus.transport.websockets');
      const ids = await createAndAttach(client, ECHO);
      expect(pluginData(await message(client, ids, { video: false }))).to.deep.equal({ echotest: 'response', result: 'ok' });
      expect(media.routerCalls).to.include(`configureMedium(${ids.handleId},video,in,false)`);
      // The Admin API on its own path sees the session, with this transport.
      const admin = await JanusWsClient.connect(wsUrl('/sfu/admin'), 'janus-admin-protocol');
      try {
        const sessions = await admin.request({ janus: 'list_sessions', admin_secret: 'embedoverlord' });
        expect(sessions.sessions).to.deep.equal([ids.sessionId]);
        const handle = await admin.request({ janus: 'handle_info', session_id: ids.sessionId, handle_id: ids.handleId, admin_secret: 'embedoverlord' });
        expect((handle.info as JsonObject).session_transport).to.equal('janus.transport.websockets');
      } finally {
        await admin.close();
      }
    } finally {
      await client.close();
    }
  });

  it('serves the Janus API over HTTP (REST + long poll) on the same path', async () => {
    const post = async (path: string, body: JsonObject): Promise<JsonObject> => {
      const response = await fetch(`${service.url}${path}`, { method: 'POST', body: JSON.stringify({ transaction: 'h', ...body }) });
      return (await response.json()) as JsonObject;
    };
    const created = await post('/sfu/janus', { janus: 'create' });
    const sessionId = (created.data as JsonObject).id as number;
    const attached = await post(`/sfu/janus/${sessionId}`, { janus: 'attach', plugin: ECHO });
    const handleId = (attached.data as JsonObject).id as number;
    expect(pluginData(await post(`/sfu/janus/${sessionId}/${handleId}`, { janus: 'message', body: { audio: true } }))).to.deep.equal({ echotest: 'response', result: 'ok' });
    expect((await post(`/sfu/janus/${sessionId}/${handleId}`, { janus: 'detach' })).janus).to.equal('success');
    const polled = (await (await fetch(`${service.url}/sfu/janus/${sessionId}?maxev=5`)).json()) as JsonObject[];
    expect(polled.map((event) => event.janus)).to.include('detached');
    const info = (await (await fetch(`${service.url}/sfu/janus/info`)).json()) as JsonObject;
    expect(Object.keys(info.transports as JsonObject).sort()).to.deep.equal(['janus.transport.http', 'janus.transport.websockets']);
    expect((await fetch(`${service.url}/elsewhere`)).status).to.equal(404);
    expect((await post(`/sfu/janus/${sessionId}`, { janus: 'destroy' })).janus).to.equal('success');
  });

  it('ends a connection\'s sessions when its WebSocket closes', async () => {
    const client = await JanusWsClient.connect(wsUrl('/sfu/janus'));
    const ids = await createAndAttach(client, ECHO);
    const destroyed = new Promise<SessionEvent>((resolve) => {
      service.sfu.on('session', (event) => {
        if (event.sessionId === ids.sessionId && event.name === 'destroyed') resolve(event);
      });
    });
    await client.close();
    await destroyed;
    expect(service.sfu.server.core.getSession(ids.sessionId)).to.equal(undefined);
  });

  it('refuses a WebSocket without the subprotocol, other paths, and the Admin API without a secret of its own', async () => {
    const none = await JanusWsClient.connect(wsUrl('/sfu/janus'), null).then(() => 'open', (error: Error) => error.message);
    expect(none).to.equal('unexpected response 403');
    const elsewhere = await JanusWsClient.connect(wsUrl('/other')).then(() => 'open', (error: Error) => error.message);
    expect(elsewhere).to.equal('unexpected response 404');
    const other = await startService({ sfu: { scripts: [], mediaPlane: new FakeMediaPlane(), logger: captureLogger().logger } });
    try {
      const admin = await JanusWsClient.connect(`${other.url.replace('http', 'ws')}/sfu/admin`, 'janus-admin-protocol').then(() => 'open', (error: Error) => error.message);
      expect(admin).to.equal('unexpected response 404');
    } finally {
      await other.close();
    }
  });

  it('survives a client that breaks the WebSocket protocol (an unmasked frame)', async () => {
    const port = Number(new URL(service.url).port);
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let closed = false;
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    socket.write([
      'GET /sfu/janus HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: janus-protocol', '', '',
    ].join('\r\n'));
    await waitUntil(() => received.startsWith('HTTP/1.1 101'), 3000, 'the upgrade');
    socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    await waitUntil(() => closed, 5000, 'the server to drop the connection');
    const health = (await (await fetch(`${service.url}/health`)).json()) as JsonObject;
    expect(health.ok).to.equal(true);
  });

  it('closes the adapter\'s WebSockets (1001) and ends their sessions on close()', async () => {
    const other = await startService({ sfu: { scripts: [ourScript('echotest.lua')], mediaPlane: new FakeMediaPlane(), logger: captureLogger().logger } });
    const client = await JanusWsClient.connect(`${other.url.replace('http', 'ws')}/sfu/janus`);
    const ids = await createAndAttach(client, ECHO);
    const detached: HandleEvent[] = [];
    other.sfu.on('handle', (event) => detached.push(event));
    await other.close();
    expect((await client.closed).code).to.equal(1001);
    expect(detached).to.deep.include({ sessionId: ids.sessionId, handleId: ids.handleId, name: 'detached', plugin: ECHO });
  });
});

describe('embedding: the transport adapter over any message channel', function () {
  this.timeout(30000);
  let sfu: Luasfu;

  before(async () => {
    sfu = createServer({
      ...LOCAL, http: false, websocket: false, adminHttp: false, adminWebsocket: false,
      maxRequestsPerSecond: 5, maxRequestBytes: 1024,
      scripts: [ourScript('echotest.lua')], logger: captureLogger().logger, mediaPlane: new FakeMediaPlane(),
    });
    await sfu.listen();
  });

  after(async () => {
    await sfu?.close();
  });

  /** A channel of our own: what the adapter sent, and how it asked us to close. */
  function channel(): { sent: JsonObject[]; closed: Array<[number, string]>; peer: TransportPeer } {
    const sent: JsonObject[] = [];
    const closed: Array<[number, string]> = [];
    return { sent, closed, peer: { send: (text) => sent.push(JSON.parse(text) as JsonObject), close: (code, reason) => closed.push([code, reason]), remote: 'test' } };
  }

  it('takes messages (text or bytes) and sends one JSON document per reply or event', async () => {
    const janus = sfu.transport();
    const { sent, peer } = channel();
    const connection = janus.open(peer);
    const replies = await connection.message('{"janus":"create","transaction":"c"}{"janus":"info","transaction":"i"}');
    expect(replies.map((reply) => reply.janus)).to.deep.equal(['success', 'server_info']);
    expect(sent.map((reply) => reply.transaction)).to.deep.equal(['c', 'i']);
    const sessionId = (replies[0]!.data as JsonObject).id as number;
    const attached = await connection.message(Buffer.from(JSON.stringify({ janus: 'attach', session_id: sessionId, plugin: ECHO, transaction: 'a' })));
    expect(attached[0]!.janus).to.equal('success');
    const broken = await connection.message(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    expect(broken[0]!.janus).to.equal('error');
    // The channel closed: the session ends (no reclaim timeout).
    connection.close();
    expect(connection.isOpen).to.equal(false);
    expect(janus.size).to.equal(0);
    await waitUntil(() => sfu.server.core.getSession(sessionId) === undefined, 3000, 'the session to end');
    expect(await connection.message('{"janus":"ping","transaction":"p"}')).to.deep.equal([]);
  });

  it('asks the application to close a connection that floods (1008) or sends too much (1009)', async () => {
    const janus = sfu.transport();
    const flood = channel();
    const flooding = janus.open(flood.peer);
    for (let i = 0; i < 6; i++) await flooding.message('{"janus":"ping","transaction":"p"}');
    expect(flood.closed).to.deep.equal([[1008, 'too many requests']]);
    expect(flood.sent).to.have.length(5);
    expect(flooding.isOpen).to.equal(false);
    const big = channel();
    const bigOne = janus.open(big.peer);
    await bigOne.message(JSON.stringify({ janus: 'ping', transaction: 'x'.repeat(1100) }));
    expect(big.closed).to.deep.equal([[1009, 'message too large']]);
    expect(big.sent).to.deep.equal([]);
  });
});

describe('embedding: typed events', function () {
  this.timeout(30000);
  let sfu: Luasfu;
  let media: FakeMediaPlane;
  let client: JanusWsClient;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'luasfu-events-'));
    media = new FakeMediaPlane();
    sfu = createServer({
      ...LOCAL,
      scripts: [ourScript('echotest.lua'), ourLua('error-in-handle-pkg.lua'), { path: ourLua('memory-hog.lua'), memoryLimitMb: 16 }],
      logger: captureLogger().logger,
      mediaPlane: media,
    });
    await sfu.listen();
    client = await JanusWsClient.connect(`ws://127.0.0.1:${sfu.ports.websocket}`);
  });

  after(async () => {
    await client?.close();
    await sfu?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports sessions, handles, WebRTC state and media, without event handlers enabled', async () => {
    const sessions: SessionEvent[] = [];
    const handles: HandleEvent[] = [];
    const webrtc: WebrtcEvent[] = [];
    const mediaEvents: MediaEvent[] = [];
    sfu.on('session', (event) => sessions.push(event));
    sfu.on('handle', (event) => handles.push(event));
    sfu.on('webrtc', (event) => webrtc.push(event));
    sfu.on('media', (event) => mediaEvents.push(event));
    const info = await client.request({ janus: 'info' });
    expect(info.event_handlers).to.equal(false);

    const ids = await createAndAttach(client, ECHO, { opaque_id: 'app-1' });
    const handleIds = { sessionId: ids.sessionId, handleId: ids.handleId, opaqueId: 'app-1' };
    await client.request({
      janus: 'message', session_id: ids.sessionId, handle_id: ids.handleId, transaction: 'offer',
      body: { audio: true }, jsep: { type: 'offer', sdp: readSdpFixture('chrome-offer.sdp') },
    });
    await client.next((m) => m.janus === 'event' && m.transaction === 'offer', 5000);
    media.peer(ids.handleId).events.connected();
    await client.next((m) => m.janus === 'webrtcup', 3000);
    media.peer(ids.handleId).events.media({ mid: '0', type: 'audio', receiving: true });
    await client.request({ janus: 'hangup', session_id: ids.sessionId, handle_id: ids.handleId });
    await client.next((m) => m.janus === 'hangup', 3000);
    await client.request({ janus: 'destroy', session_id: ids.sessionId });
    await waitUntil(() => sessions.length >= 2, 3000, 'the session destroyed event');

    expect(sessions).to.deep.equal([
      { sessionId: ids.sessionId, name: 'created', transport: { transport: 'janus.transport.websockets', id: sessions[0]!.transport!.id } },
      { sessionId: ids.sessionId, name: 'destroyed' },
    ]);
    expect(handles).to.deep.equal([
      { ...handleIds, name: 'attached', plugin: ECHO },
      { ...handleIds, name: 'detached', plugin: ECHO },
    ]);
    expect(webrtc).to.deep.equal([
      { ...handleIds, ice: 'connected' },
      { ...handleIds, dtls: 'connected' },
      { ...handleIds, connection: 'webrtcup' },
      { ...handleIds, connection: 'hangup', reason: 'Janus API' },
    ]);
    expect(mediaEvents).to.deep.equal([{ ...handleIds, mid: '0', media: 'audio', receiving: true }]);
    sfu.removeAllListeners();
  });

  it('reports plugin notifications when event handlers are enabled, from init on', async () => {
    const other = createServer({ ...LOCAL, eventHandlers: true, scripts: [ourScript('echotest.lua')], logger: captureLogger().logger, mediaPlane: new FakeMediaPlane() });
    const notifications: PluginNotification[] = [];
    other.on('plugin', (event) => notifications.push(event));
    await other.listen();
    try {
      await waitUntil(() => notifications.length > 0, 3000, 'the init notification');
      expect(notifications[0]).to.deep.equal({ plugin: ECHO, data: { event: 'loaded', script: 'echotest.lua (luasfu)' } });
    } finally {
      await other.close();
    }
  });

  it('reports script errors and restarts', async () => {
    const errors: ScriptErrorEvent[] = [];
    const restarts: ScriptRestartEvent[] = [];
    sfu.on('scriptError', (event) => errors.push(event));
    sfu.on('scriptRestart', (event) => restarts.push(event));
    const broken = await createAndAttach(client, 'janus.plugin.brokenlua');
    const raised = await message(client, broken, { request: 'raise' });
    expect(raised.error).to.deep.equal({ code: 462, reason: 'Lua error' });
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include({ plugin: 'janus.plugin.brokenlua', script: ourLua('error-in-handle-pkg.lua'), callback: 'handleMessage', limitExceeded: false });
    expect(errors[0]!.error).to.be.a('string').and.not.equal('');

    const hog = await createAndAttach(client, 'janus.plugin.lua');
    await message(client, hog, { request: 'hoard' });
    await waitUntil(() => restarts.length > 0, 10000, 'the restart event');
    expect(restarts[0]).to.include({ plugin: 'janus.plugin.lua', script: ourLua('memory-hog.lua'), restarts: 1, gaveUp: false });
    expect(restarts[0]!.reason).to.be.a('string').and.not.equal('');
    sfu.removeAllListeners();
  });
});

describe('embedding: hot reload (scripts in a folder of their own)', function () {
  this.timeout(30000);
  let sfu: Luasfu;
  let client: JanusWsClient;
  let dir: string;
  let log: ReturnType<typeof captureLogger>;
  const original = readFileSync(ourScript('echotest.lua'), 'utf8');

  /** echotest.lua with another version string and sync reply. */
  const version2 = original
    .replace('function getVersionString() return "0.1.0" end', 'function getVersionString() return "0.2.0" end')
    .replace(`return 0, '{"echotest":"response","result":"ok"}'`, `return 0, '{"echotest":"response","result":"ok","reloaded":true}'`);

  before(async () => {
    expect(version2).to.not.equal(original);
    dir = mkdtempSync(join(tmpdir(), 'luasfu-reload-'));
    writeFileSync(join(dir, 'echotest.lua'), original);
    log = captureLogger();
    sfu = createServer({ ...LOCAL, scripts: [join(dir, 'echotest.lua')], logger: log.logger, mediaPlane: new FakeMediaPlane() });
    await sfu.listen();
    client = await JanusWsClient.connect(`ws://127.0.0.1:${sfu.ports.websocket}`);
  });

  after(async () => {
    await client?.close();
    await sfu?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends new attaches to the new version, keeps old handles on the old one until they detach', async () => {
    const old = await createAndAttach(client, ECHO);
    expect(pluginData(await message(client, old, {}))).to.deep.equal({ echotest: 'response', result: 'ok' });
    const reloads: ScriptReloadEvent[] = [];
    sfu.on('scriptReload', (event) => reloads.push(event));
    writeFileSync(join(dir, 'echotest.lua'), version2);
    const info = await sfu.reloadScript(ECHO);
    expect(info.versionString).to.equal('0.2.0');
    expect(reloads).to.have.length(1);
    expect(reloads[0]).to.deep.include({ plugin: ECHO, script: join(dir, 'echotest.lua'), previousScript: join(dir, 'echotest.lua') });
    const serverInfo = await client.request({ janus: 'info' });
    expect(((serverInfo.plugins as JsonObject)[ECHO] as JsonObject).version_string).to.equal('0.2.0');

    const fresh = await createAndAttach(client, ECHO);
    expect(pluginData(await message(client, fresh, {}))).to.deep.equal({ echotest: 'response', result: 'ok', reloaded: true });
    // The old handle still talks to the old script.
    expect(pluginData(await message(client, old, {}))).to.deep.equal({ echotest: 'response', result: 'ok' });
    const destroyedBefore = log.find('] destroyed').length;
    await client.request({ janus: 'detach', session_id: old.sessionId, handle_id: old.handleId });
    await waitUntil(() => log.find('] destroyed').length > destroyedBefore, 5000, 'the old version destroyed after its last handle');
    expect(pluginData(await message(client, fresh, {}))).to.deep.equal({ echotest: 'response', result: 'ok', reloaded: true });
    sfu.removeAllListeners();
  });

  it('keeps the running version when the new script fails to load, and reports why', async () => {
    const errors: ScriptErrorEvent[] = [];
    sfu.on('scriptError', (event) => errors.push(event));
    const failed = await sfu.reloadScript(ECHO, ourLua('syntax-error.lua')).then(() => undefined, (error: Error) => error);
    expect(failed).to.be.instanceOf(ScriptLoadError);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include({ plugin: ECHO, script: ourLua('syntax-error.lua'), callback: 'load' });
    // A script under another package name is refused too.
    const other = await sfu.reloadScript(ECHO, ourLua('error-in-handle-pkg.lua')).then(() => undefined, (error: Error) => error);
    expect(other?.message).to.equal(`the new plugin registers as janus.plugin.brokenlua, not ${ECHO}`);
    expect(errors).to.have.length(2);
    expect(sfu.plugins()[0]!.script).to.equal(join(dir, 'echotest.lua'));
    const ids = await createAndAttach(client, ECHO);
    expect(pluginData(await message(client, ids, {}))).to.deep.equal({ echotest: 'response', result: 'ok', reloaded: true });
    await sfu.reloadScript('janus.plugin.nothing').then(() => expect.fail('reloaded'), (error: Error) => expect(error).to.be.instanceOf(ScriptReloadError));
    sfu.removeAllListeners();
  });

  it('reloads every script from its file (what SIGHUP does), serialising reloads of one script', async () => {
    writeFileSync(join(dir, 'echotest.lua'), original);
    const [a, b] = await Promise.all([sfu.reloadScripts(), sfu.reloadScript(ECHO)]);
    expect(a).to.deep.equal([{ name: ECHO, script: join(dir, 'echotest.lua') }]);
    expect(b.versionString).to.equal('0.1.0');
    const ids = await createAndAttach(client, ECHO);
    expect(pluginData(await message(client, ids, {}))).to.deep.equal({ echotest: 'response', result: 'ok' });
    await delay(10);
  });
});
