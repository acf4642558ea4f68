// Admin API over its own HTTP and WebSocket listeners: secret checks, list_sessions,
// list_handles, handle_info (plugin_specific from querySession), message_plugin.

import { expect } from 'chai';
import type { JsonObject } from '../src/plugin/json';
import { adminPost } from './support/admin-http';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { TEST_PLUGIN_PACKAGE, TestPlugin } from './support/test-plugin';
import { TEST_ADMIN_SECRET, type TestServer, startTestServer } from './support/test-server';

describe('Admin API', () => {
  let ts: TestServer;
  let plugin: TestPlugin;
  let client: JanusWsClient;
  let sessionId: number;
  let handleId: number;

  before(async () => {
    plugin = new TestPlugin();
    ts = await startTestServer({ plugins: [plugin] });
    client = await JanusWsClient.connect(ts.urls.ws);
    ({ sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE, { opaque_id: 'admin-op' }));
    await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'sync' } });
  });

  after(async () => {
    await client.close();
    await ts.close();
  });

  it('answers info and ping without a secret', async () => {
    expect(await adminPost(ts.urls.adminHttp, { janus: 'ping', transaction: 'p' })).to.deep.equal({ janus: 'pong', transaction: 'p' });
    const info = await adminPost(ts.urls.adminHttp, { janus: 'info', transaction: 'i' });
    expect(info.janus).to.equal('server_info');
  });

  it('refuses requests with a missing or wrong admin_secret (403)', async () => {
    const unauthorized = { code: 403, reason: 'Unauthorized request (wrong or missing secret/token)' };
    expect(await adminPost(ts.urls.adminHttp, { janus: 'list_sessions', transaction: 'l1' })).to.deep.equal({
      janus: 'error', transaction: 'l1', error: unauthorized,
    });
    expect(await adminPost(ts.urls.adminHttp, { janus: 'list_sessions', transaction: 'l2', admin_secret: 'nope' })).to.deep.equal({
      janus: 'error', transaction: 'l2', error: unauthorized,
    });
    expect(await adminPost(`${ts.urls.adminHttp}/${sessionId}`, { janus: 'list_handles', transaction: 'l3' })).to.deep.equal({
      janus: 'error', session_id: sessionId, transaction: 'l3', error: unauthorized,
    });
  });

  it('set_log_level takes Janus levels 0..7 and changes the server log level', async () => {
    const set = (level: unknown, transaction: string): Promise<JsonObject> =>
      adminPost(ts.urls.adminHttp, { janus: 'set_log_level', transaction, admin_secret: TEST_ADMIN_SECRET, level } as JsonObject);
    const before = ts.log.logger.level;
    try {
      expect(await set(7, 's1')).to.deep.equal({ janus: 'success', transaction: 's1', level: 7 });
      expect(ts.log.logger.level).to.equal('trace');
      expect(await set(3, 's2')).to.deep.equal({ janus: 'success', transaction: 's2', level: 3 });
      expect(ts.log.logger.level).to.equal('warn');
      expect(await set(9, 's3')).to.deep.equal({
        janus: 'error', transaction: 's3', error: { code: 467, reason: 'Invalid element type (level should be between 0 and 7)' },
      });
      expect(await set(undefined, 's4')).to.deep.equal({
        janus: 'error', transaction: 's4', error: { code: 456, reason: 'Missing mandatory element (level)' },
      });
    } finally {
      ts.log.logger.level = before;
    }
  });

  it('lists sessions and handles', async () => {
    const sessions = await adminPost(ts.urls.adminHttp, { janus: 'list_sessions', transaction: 'ls', admin_secret: TEST_ADMIN_SECRET });
    expect(sessions).to.deep.equal({ janus: 'success', transaction: 'ls', sessions: [sessionId] });
    const handles = await adminPost(`${ts.urls.adminHttp}/${sessionId}`, { janus: 'list_handles', transaction: 'lh', admin_secret: TEST_ADMIN_SECRET });
    expect(handles).to.deep.equal({ janus: 'success', session_id: sessionId, transaction: 'lh', handles: [handleId] });
  });

  it('gives handle_info with plugin_specific from querySession', async () => {
    const reply = await adminPost(`${ts.urls.adminHttp}/${sessionId}/${handleId}`, {
      janus: 'handle_info', transaction: 'hi', admin_secret: TEST_ADMIN_SECRET,
    });
    expect(Object.keys(reply)).to.deep.equal(['janus', 'session_id', 'transaction', 'handle_id', 'info']);
    expect(reply.janus).to.equal('success');
    expect(reply.handle_id).to.equal(handleId);
    const info = reply.info as JsonObject;
    expect(info.session_id).to.equal(sessionId);
    expect(info.session_transport).to.equal('janus.transport.websockets');
    expect(info.session_timeout).to.equal(60);
    expect(info.handle_id).to.equal(handleId);
    expect(info.opaque_id).to.equal('admin-op');
    expect(info.plugin).to.equal(TEST_PLUGIN_PACKAGE);
    expect(info.plugin_specific).to.deep.equal({ testecho: true, messages: 1 });
    expect(info).to.include.keys('created', 'current_time', 'flags', 'sdps', 'webrtc', 'ice-mode', 'ice-role', 'agent-created');
    expect((info.flags as JsonObject).stopped).to.equal(false);

    const pluginOnly = await adminPost(`${ts.urls.adminHttp}/${sessionId}/${handleId}`, {
      janus: 'handle_info', plugin_only: true, transaction: 'hp', admin_secret: TEST_ADMIN_SECRET,
    });
    expect(Object.keys(pluginOnly.info as JsonObject)).to.deep.equal([
      'session_id', 'session_last_activity', 'session_timeout', 'session_transport', 'handle_id', 'opaque_id',
      'loop-running', 'created', 'current_time', 'plugin', 'plugin_specific',
    ]);
  });

  it('gives 458/459 for unknown sessions and handles', async () => {
    expect(await adminPost(`${ts.urls.adminHttp}/55`, { janus: 'list_handles', transaction: 'x', admin_secret: TEST_ADMIN_SECRET })).to.deep.equal({
      janus: 'error', session_id: 55, transaction: 'x', error: { code: 458, reason: 'No such session 55' },
    });
    expect(await adminPost(`${ts.urls.adminHttp}/${sessionId}/66`, { janus: 'handle_info', transaction: 'y', admin_secret: TEST_ADMIN_SECRET })).to.deep.equal({
      janus: 'error', session_id: sessionId, transaction: 'y', error: { code: 459, reason: `No such handle 66 in session ${sessionId}` },
    });
  });

  it('relays message_plugin to the plugin, and gives 460 for an unknown plugin', async () => {
    const reply = await adminPost(ts.urls.adminHttp, {
      janus: 'message_plugin', plugin: TEST_PLUGIN_PACKAGE, request: { what: 'status' }, transaction: 'mp', admin_secret: TEST_ADMIN_SECRET,
    });
    expect(reply).to.deep.equal({ janus: 'success', transaction: 'mp', response: { testecho: 'admin', request: { what: 'status' } } });
    expect(await adminPost(ts.urls.adminHttp, {
      janus: 'message_plugin', plugin: 'janus.plugin.none', transaction: 'mq', admin_secret: TEST_ADMIN_SECRET,
    })).to.deep.equal({ janus: 'error', transaction: 'mq', error: { code: 460, reason: 'Invalid plugin' } });
  });

  it('speaks janus-admin-protocol over WebSocket, and refuses janus-protocol there', async () => {
    const admin = await JanusWsClient.connect(ts.urls.adminWs, 'janus-admin-protocol');
    try {
      expect(await admin.request({ janus: 'list_sessions', transaction: 'w1', admin_secret: TEST_ADMIN_SECRET })).to.deep.equal({
        janus: 'success', transaction: 'w1', sessions: [sessionId],
      });
      expect(await admin.request({ janus: 'list_sessions', transaction: 'w2' })).to.deep.equal({
        janus: 'error', transaction: 'w2', error: { code: 403, reason: 'Unauthorized request (wrong or missing secret/token)' },
      });
      const handles = await admin.request({ janus: 'list_handles', session_id: sessionId, transaction: 'w3', admin_secret: TEST_ADMIN_SECRET });
      expect(handles.handles).to.deep.equal([handleId]);
    } finally {
      await admin.close();
    }
    const refused = await JanusWsClient.connect(ts.urls.adminWs, 'janus-protocol').then(async (c) => { await c.close(); return false; }, () => true);
    expect(refused).to.equal(true);
  });

  it('detach_handle, set_session_timeout and destroy_session act on the session', async () => {
    const other = await JanusWsClient.connect(ts.urls.ws);
    try {
      const ids = await createAndAttach(other, TEST_PLUGIN_PACKAGE);
      const handlePath = `${ts.urls.adminHttp}/${ids.sessionId}/${ids.handleId}`;
      const sessionPath = `${ts.urls.adminHttp}/${ids.sessionId}`;
      expect(await adminPost(handlePath, { janus: 'detach_handle', transaction: 'dh', admin_secret: TEST_ADMIN_SECRET })).to.deep.equal({
        janus: 'success', session_id: ids.sessionId, transaction: 'dh',
      });
      expect(await other.next((m) => m.janus === 'detached')).to.deep.equal({ janus: 'detached', session_id: ids.sessionId, sender: ids.handleId });
      expect(await adminPost(sessionPath, { janus: 'set_session_timeout', timeout: 5, transaction: 'st', admin_secret: TEST_ADMIN_SECRET })).to.deep.equal({
        janus: 'success', session_id: ids.sessionId, transaction: 'st', timeout: 5,
      });
      expect(ts.server.core.effectiveTimeout(ts.server.core.getSession(ids.sessionId)!)).to.equal(5);
      expect(await adminPost(sessionPath, { janus: 'destroy_session', transaction: 'ds', admin_secret: TEST_ADMIN_SECRET })).to.deep.equal({
        janus: 'success', session_id: ids.sessionId, transaction: 'ds',
      });
      expect(ts.server.core.getSession(ids.sessionId)).to.equal(undefined);
      expect(await adminPost(`${ts.urls.adminHttp}/${sessionId}`, { janus: 'bogus', transaction: 'b', admin_secret: TEST_ADMIN_SECRET })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'b', error: { code: 457, reason: "Unhandled request 'bogus' at this path" },
      });
    } finally {
      await other.close();
    }
  });

  it('does not refresh session activity', async () => {
    const session = ts.server.core.getSession(sessionId);
    const before = session?.lastActivity;
    await adminPost(`${ts.urls.adminHttp}/${sessionId}`, { janus: 'list_handles', transaction: 'a', admin_secret: TEST_ADMIN_SECRET });
    expect(ts.server.core.getSession(sessionId)?.lastActivity).to.equal(before);
  });
});
