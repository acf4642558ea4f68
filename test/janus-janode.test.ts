// janode (a real Janus client) against luasfu over WebSocket: info, create, attach, sync and
// async messages, trickle, hangup, detach, destroy; and janode's Admin API client.

import { expect } from 'chai';
import type { JsonObject } from '../src/plugin/json';
import { TEST_OFFER_SDP } from './support/fake-media-plane';
import { type Janode, type JanodeHandle, loadJanode } from './support/janode';
import { TEST_PLUGIN_PACKAGE, TestPlugin } from './support/test-plugin';
import { TEST_ADMIN_SECRET, type TestServer, startTestServer } from './support/test-server';

interface TestEchoEvent {
  event: string;
  data: JsonObject;
  jsep?: JsonObject;
}

/** A janode handle class for the test plugin: resolves a message with its plugin data. */
function testEchoHandleClass(janode: Janode): unknown {
  const Base = janode.Handle as unknown as new (...args: unknown[]) => JanodeHandle;
  return class TestEchoHandle extends Base {
    handleMessage(message: JsonObject): TestEchoEvent | null {
      const plugindata = message.plugindata as JsonObject | undefined;
      if (!plugindata || plugindata.plugin !== TEST_PLUGIN_PACKAGE) return null;
      const event: TestEchoEvent = { event: 'testecho', data: plugindata.data as JsonObject };
      if (message.jsep) event.jsep = message.jsep as JsonObject;
      const transaction = message.transaction;
      if (typeof transaction === 'string' && this.ownsTransaction(transaction)) this.closeTransactionWithSuccess(transaction, event);
      return event;
    }
  };
}

describe('janode against luasfu', () => {
  let ts: TestServer;
  let plugin: TestPlugin;
  let janode: Janode;

  before(async () => {
    janode = await loadJanode();
    plugin = new TestPlugin();
    ts = await startTestServer({ plugins: [plugin] });
  });

  after(async () => {
    await ts.close();
  });

  it('creates a session, attaches, messages, trickles, hangs up, detaches and destroys', async () => {
    const connection = await janode.janode.connect({ address: { url: ts.urls.ws }, retry_time_secs: 1, max_retries: 1 });
    try {
      const info = await connection.getInfo();
      expect(info.name).to.equal('Janus WebRTC Server');
      expect(info.plugins).to.have.property(TEST_PLUGIN_PACKAGE);

      const session = await connection.create();
      expect(ts.server.core.sessionIds()).to.include(session.id);
      const handle = await session.attach({ id: TEST_PLUGIN_PACKAGE, Handle: testEchoHandleClass(janode) });
      expect(plugin.callsFor(handle.id)).to.deep.equal(['createSession']);

      const sync = (await handle.message({ request: 'sync', x: 1 })) as TestEchoEvent;
      expect(sync).to.deep.equal({ event: 'testecho', data: { testecho: 'sync', echo: { request: 'sync', x: 1 } } });

      const answered = (await handle.message({ request: 'async' }, { type: 'offer', sdp: TEST_OFFER_SDP })) as TestEchoEvent;
      expect(answered.data).to.deep.equal({ testecho: 'event', result: 'ok', echo: { request: 'async' } });
      expect(answered.jsep?.type).to.equal('answer');

      await handle.trickle({ candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 });
      await handle.trickleComplete();

      const rejected = await handle.message({ request: 'error' }).then(() => null, (error: Error) => error.message);
      expect(rejected).to.equal('462 test plugin error');

      await handle.hangup();
      const detached = new Promise<void>((resolve) => handle.once('handle_detached', () => resolve()));
      await handle.detach();
      await detached;
      expect(plugin.callsFor(handle.id)).to.deep.equal([
        'createSession', 'handleMessage', 'handleMessage', 'handleMessage', 'hangupMedia', 'hangupMedia', 'destroySession',
      ]);

      await session.destroy();
      expect(ts.server.core.sessionIds()).to.not.include(session.id);
    } finally {
      await connection.close();
    }
  });

  it('lists sessions and handles with janode’s Admin API client', async () => {
    const api = await janode.janode.connect({ address: { url: ts.urls.ws }, retry_time_secs: 1, max_retries: 1 });
    const admin = await janode.janode.connect({
      address: { url: ts.urls.adminWs, apisecret: TEST_ADMIN_SECRET }, is_admin: true, retry_time_secs: 1, max_retries: 1,
    });
    try {
      const session = await api.create();
      const handle = await session.attach({ id: TEST_PLUGIN_PACKAGE, Handle: testEchoHandleClass(janode) });
      const sessions = await admin.listSessions();
      expect(sessions.sessions).to.deep.equal([session.id]);
      const handles = await admin.listHandles(session.id);
      expect(handles.handles).to.deep.equal([handle.id]);
      const info = await admin.handleInfo(session.id, handle.id);
      expect((info.info as JsonObject).plugin).to.equal(TEST_PLUGIN_PACKAGE);
      expect((info.info as JsonObject).plugin_specific).to.deep.equal({ testecho: true, messages: 0 });
      await session.destroy();
    } finally {
      await admin.close();
      await api.close();
    }
  });
});
