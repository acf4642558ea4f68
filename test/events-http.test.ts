// Event handlers through a real server: the HTTP backend POSTs Janus-format events to a
// collector (a node:http server on 127.0.0.1), for the TestPlugin on the FakeMediaPlane and for
// a Lua script's notifyEvent; type filtering, batching, retry after a 500, a dead collector.

import { expect } from 'chai';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventHandlersConfig, HttpEventsConfig } from '../src/config';
import type { JanusEvent } from '../src/events/event-bus';
import { SERVER_NAME } from '../src/common/identity';
import type { JsonObject } from '../src/plugin/json';
import type { PluginHost } from '../src/plugin/plugin';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { ourLua, scriptConfig, waitFor } from './lua-fixtures';
import { FAKE_MERGE_MARK, type FakeMediaPlane, TEST_OFFER_SDP } from './support/fake-media-plane';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { captureLogger } from './support/log-capture';
import { TEST_PLUGIN_PACKAGE, TestPlugin } from './support/test-plugin';
import { type TestServer, startTestServer } from './support/test-server';

interface Post {
  body: unknown;
  headers: IncomingHttpHeaders;
  method: string;
}

/** A collector: records every POST; `statuses` are answered in turn (then 200). */
class Collector {
  readonly posts: Post[] = [];
  statuses: number[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.posts.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')), headers: req.headers, method: req.method ?? '' });
        res.statusCode = this.statuses.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
    return this;
  }

  /** Every event received (successful POSTs and failed ones alike), in order. */
  events(): JanusEvent[] {
    return this.posts.flatMap((post) => (Array.isArray(post.body) ? post.body : [post.body]) as JanusEvent[]);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function httpEvents(url: string, extra: Partial<HttpEventsConfig> = {}): EventHandlersConfig {
  return {
    enabled: true,
    http: { url, events: ['all'], grouping: true, maxBatch: 100, flushMs: 20, timeoutMs: 2000, retries: 3, headers: {}, ...extra },
  };
}

/** The event without its timestamp (checked separately: µs of the wall clock). */
function shape(event: JanusEvent): Omit<JanusEvent, 'timestamp'> {
  const { timestamp, ...rest } = event;
  expect(timestamp).to.be.a('number');
  expect(Math.abs(timestamp / 1000 - Date.now())).to.be.below(60_000);
  return rest;
}

describe('event handlers: HTTP backend through the server', function () {
  this.timeout(20000);
  let collector: Collector;
  let ts: TestServer | undefined;
  let client: JanusWsClient | undefined;

  beforeEach(async () => {
    collector = await new Collector().start();
  });

  afterEach(async () => {
    await client?.close();
    client = undefined;
    await ts?.close();
    ts = undefined;
    await collector.close();
  });

  it('sends session, handle, jsep, webrtc, media and core events in Janus format', async () => {
    const plugin = new TestPlugin();
    ts = await startTestServer({
      plugins: [plugin],
      config: { eventHandlers: httpEvents(collector.url, { headers: { Authorization: 'Bearer x' } }) },
    });
    expect((plugin.host as PluginHost).eventsIsEnabled()).to.equal(true);
    const plane = ts.mediaPlane as FakeMediaPlane;
    client = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE, { opaque_id: 'evt-1' });
    await client.request({
      janus: 'message', session_id: sessionId, handle_id: handleId, transaction: 'm1',
      body: { request: 'async' }, jsep: { type: 'offer', sdp: TEST_OFFER_SDP },
    });
    await client.next((m) => m.janus === 'event' && m.transaction === 'm1');
    const peer = plane.peer(handleId);
    // ICE connects first: its event goes out then, not with DTLS's.
    peer.events.iceConnected?.();
    await waitFor(() => collector.events().some((e) => e.type === 16 && e.event.ice === 'connected'), 5000, 'ice connected event');
    expect(collector.events().some((e) => e.type === 16 && e.event.dtls === 'connected')).to.equal(false);
    peer.events.connected();
    await client.next((m) => m.janus === 'webrtcup');
    peer.events.media({ mid: '0', type: 'audio', receiving: true });
    await client.next((m) => m.janus === 'media');
    await client.request({ janus: 'hangup', session_id: sessionId, handle_id: handleId });
    await client.next((m) => m.janus === 'hangup');
    await client.request({ janus: 'detach', session_id: sessionId, handle_id: handleId });
    await client.next((m) => m.janus === 'detached');
    await client.request({ janus: 'destroy', session_id: sessionId });
    await waitFor(() => collector.events().some((e) => e.type === 1 && e.event.name === 'destroyed'), 5000, 'destroyed event');

    for (const post of collector.posts) {
      expect(post.method).to.equal('POST');
      expect(post.headers['content-type']).to.equal('application/json');
      expect(post.headers.authorization).to.equal('Bearer x');
      expect(post.body).to.be.an('array');
    }
    const ids = { session_id: sessionId, handle_id: handleId, opaque_id: 'evt-1' };
    const e = { emitter: SERVER_NAME };
    expect(collector.events().map(shape)).to.deep.equal([
      { ...e, type: 256, event: { status: 'started' } },
      { ...e, type: 1, session_id: sessionId, event: { name: 'created', transport: { transport: 'janus.transport.websockets', id: (collector.events()[1].event.transport as JsonObject).id } } },
      { ...e, type: 2, ...ids, event: { name: 'attached', plugin: TEST_PLUGIN_PACKAGE, opaque_id: 'evt-1' } },
      { ...e, type: 8, ...ids, event: { owner: 'remote', jsep: { type: 'offer', sdp: TEST_OFFER_SDP } } },
      { ...e, type: 8, ...ids, event: { owner: 'local', jsep: { type: 'answer', sdp: `v=0\r\ns=plugin-answer\r\n${FAKE_MERGE_MARK}\r\n` } } },
      { ...e, type: 16, ...ids, event: { ice: 'connected' } },
      { ...e, type: 16, ...ids, event: { dtls: 'connected' } },
      { ...e, type: 16, ...ids, event: { connection: 'webrtcup' } },
      { ...e, type: 32, ...ids, event: { mid: '0', media: 'audio', receiving: true } },
      { ...e, type: 16, ...ids, event: { connection: 'hangup', reason: 'Janus API' } },
      { ...e, type: 2, ...ids, event: { name: 'detached', plugin: TEST_PLUGIN_PACKAGE, opaque_id: 'evt-1' } },
      { ...e, type: 1, session_id: sessionId, event: { name: 'destroyed' } },
    ]);
    expect((collector.events()[1].event.transport as JsonObject).id).to.be.a('string');

    // stop(): the shutdown event is flushed before the server is gone.
    await ts.close();
    ts = undefined;
    expect(collector.events().map(shape).at(-1)).to.deep.equal({ ...e, type: 256, event: { status: 'shutdown' } });
  });

  it('forwards a script\'s notifyEvent as plugin events (64), tied to the handle or not', async () => {
    const plugin = createLuaPlugin(scriptConfig(ourLua('notify-events.lua')), captureLogger().logger);
    ts = await startTestServer({
      plugins: [plugin],
      config: { eventHandlers: { ...httpEvents(collector.url, { events: ['plugins'] }), emitter: 'my-janus' } },
    });
    client = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.notifylua', { opaque_id: 'lua-1' });
    const reply = await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'hello' } });
    expect((reply.plugindata as JsonObject).data).to.deep.equal({ notified: true });
    await waitFor(() => collector.events().length >= 3, 5000, 'three plugin events');
    const e = { emitter: 'my-janus', type: 64 };
    expect(collector.events().map(shape)).to.deep.equal([
      // From init: the package is known once init has resolved, then the event goes out.
      { ...e, event: { plugin: 'janus.plugin.notifylua', data: { event: 'loaded', enabled: 1 } } },
      { ...e, session_id: sessionId, handle_id: handleId, opaque_id: 'lua-1', event: { plugin: 'janus.plugin.notifylua', data: { event: 'message', request: 'hello' } } },
      { ...e, event: { plugin: 'janus.plugin.notifylua', data: { event: 'unknown id' } } },
    ]);
  });

  it('sends only the configured types, one object per POST without grouping', async () => {
    ts = await startTestServer({ config: { eventHandlers: httpEvents(collector.url, { events: ['sessions', 'handles'], grouping: false }) } });
    client = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
    await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'sync' } });
    await client.request({ janus: 'destroy', session_id: sessionId });
    await waitFor(() => collector.posts.length >= 4, 5000, 'four POSTs');
    await ts.close();
    ts = undefined;
    for (const post of collector.posts) expect(post.body).to.be.an('object').and.not.be.an('array');
    expect(collector.events().map((event) => [event.type, event.event.name])).to.deep.equal([
      [1, 'created'], [2, 'attached'], [2, 'detached'], [1, 'destroyed'],
    ]);
  });

  it('reports a session timeout as `timeout`, then the handles\' `detached`', async () => {
    ts = await startTestServer({ config: { sessionTimeout: 1, eventHandlers: httpEvents(collector.url, { events: ['sessions', 'handles'] }) } });
    client = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
    await client.next((m) => m.janus === 'timeout', 5000);
    await waitFor(() => collector.events().length >= 4, 5000, 'four events');
    expect(collector.events().map((event) => [event.type, event.session_id, event.event.name])).to.deep.equal([
      [1, sessionId, 'created'], [2, sessionId, 'attached'], [1, sessionId, 'timeout'], [2, sessionId, 'detached'],
    ]);
  });

  it('batches up to maxBatch events per POST and flushes the rest on stop', async () => {
    ts = await startTestServer({ config: { eventHandlers: httpEvents(collector.url, { events: ['sessions'], maxBatch: 2, flushMs: 60_000 }) } });
    client = await JanusWsClient.connect(ts.urls.ws);
    await client.request({ janus: 'create' });
    await client.request({ janus: 'create' });
    await waitFor(() => collector.posts.length === 1, 5000, 'the first batch');
    expect((collector.posts[0].body as JanusEvent[]).map((event) => event.event.name)).to.deep.equal(['created', 'created']);
    await client.request({ janus: 'create' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(collector.posts).to.have.length(1);
    await client.close();
    client = undefined;
    await ts.close();
    ts = undefined;
    for (const post of collector.posts) expect((post.body as JanusEvent[]).length).to.be.within(1, 2);
    const names = collector.events().map((event) => event.event.name);
    expect(names.filter((name) => name === 'created')).to.have.length(3);
    expect(names.filter((name) => name === 'destroyed')).to.have.length(3);
  });

  it('retries a batch the collector refused (500) and delivers it', async () => {
    collector.statuses = [500, 503];
    ts = await startTestServer({ config: { eventHandlers: httpEvents(collector.url, { events: ['sessions'] }) } });
    client = await JanusWsClient.connect(ts.urls.ws);
    const created = await client.request({ janus: 'create' });
    const sessionId = (created.data as JsonObject).id as number;
    await waitFor(() => collector.posts.length >= 3, 5000, 'three attempts');
    expect(collector.posts[0].body).to.deep.equal(collector.posts[1].body);
    expect(collector.posts[1].body).to.deep.equal(collector.posts[2].body);
    expect((collector.posts[2].body as JanusEvent[]).map((event) => [event.session_id, event.event.name])).to.deep.equal([[sessionId, 'created']]);
    expect(ts.log.find('events dropped')).to.have.length(0);
  });

  it('survives a dead collector: events are dropped with a warning, the server still answers', async () => {
    const deadUrl = collector.url;
    await collector.close();
    ts = await startTestServer({ config: { eventHandlers: httpEvents(deadUrl, { retries: 1, timeoutMs: 500 }) } });
    client = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
    await waitFor(() => ts!.log.find('events dropped').length > 0, 5000, 'the drop warning');
    const dropped = ts.log.find('events dropped')[0];
    expect(dropped.level).to.equal('warn');
    const info = await client.request({ janus: 'info' });
    expect(info.janus).to.equal('server_info');
    const keepalive = await client.request({ janus: 'keepalive', session_id: sessionId });
    expect(keepalive.janus).to.equal('ack');
    const started = Date.now();
    await client.close();
    client = undefined;
    await ts.close();
    ts = undefined;
    expect(Date.now() - started).to.be.below(5000);
  });

  it('with `true` (no backend) answers eventsIsEnabled() and only counts events', async () => {
    const plugin = new TestPlugin();
    ts = await startTestServer({ plugins: [plugin], config: { eventHandlers: { enabled: true } } });
    expect((plugin.host as PluginHost).eventsIsEnabled()).to.equal(true);
    client = await JanusWsClient.connect(ts.urls.ws);
    await client.request({ janus: 'create' });
    expect(ts.server.events?.count).to.equal(2);
    const info = await client.request({ janus: 'info' });
    expect(info.event_handlers).to.equal(true);
  });
});
