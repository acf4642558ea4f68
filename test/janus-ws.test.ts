// Janus API over the WebSocket transport: raw exchanges asserting exact reply shapes and
// error codes, the handle lifecycle with the fake media plane, and connection teardown.

import { expect } from 'chai';
import type { JsonObject } from '../src/plugin/json';
import { FAKE_MERGE_MARK, type FakeMediaPlane, TEST_OFFER_SDP, fakeAnonymise } from './support/fake-media-plane';
import { JanusWsClient, createAndAttach, delay, newTransaction } from './support/janus-ws-client';
import { TEST_PLUGIN_PACKAGE, TestPlugin } from './support/test-plugin';
import { type TestServer, startTestServer } from './support/test-server';

describe('Janus API over WebSocket', () => {
  let ts: TestServer;
  let plugin: TestPlugin;
  let plane: FakeMediaPlane;
  const clients: JanusWsClient[] = [];

  async function connect(): Promise<JanusWsClient> {
    const client = await JanusWsClient.connect(ts.urls.ws);
    clients.push(client);
    return client;
  }

  before(async () => {
    plugin = new TestPlugin();
    ts = await startTestServer({ plugins: [plugin] });
    plane = ts.mediaPlane as FakeMediaPlane;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  after(async () => {
    await ts.close();
    expect(plugin.destroyed).to.equal(true);
  });

  describe('session-less requests', () => {
    it('answers info with server_info as Janus 1.1.2 does', async () => {
      const client = await connect();
      const reply = await client.request({ janus: 'info', transaction: 'info-1' });
      expect(reply.janus).to.equal('server_info');
      expect(reply.transaction).to.equal('info-1');
      expect(reply.name).to.equal('Janus WebRTC Server');
      expect(reply.version).to.equal(1102);
      expect(reply.version_string).to.equal('1.1.2');
      expect(reply.plugins).to.deep.equal({
        [TEST_PLUGIN_PACKAGE]: {
          name: 'Test echo plugin', author: 'luasfu', description: 'A plugin for luasfu tests',
          version_string: '0.0.7', version: 7,
        },
      });
      expect(Object.keys(reply.transports as JsonObject).sort()).to.deep.equal(['janus.transport.http', 'janus.transport.websockets']);
      expect(reply).to.not.have.property('session_id');
    });

    it('answers ping with pong', async () => {
      const client = await connect();
      expect(await client.request({ janus: 'ping', transaction: 'p1' })).to.deep.equal({ janus: 'pong', transaction: 'p1' });
    });

    it('creates sessions with unique 53-bit ids and no session_id in the reply', async () => {
      const client = await connect();
      const ids = new Set<number>();
      for (let i = 0; i < 5; i++) {
        const reply = await client.request({ janus: 'create', transaction: `c${i}` });
        expect(Object.keys(reply)).to.deep.equal(['janus', 'transaction', 'data']);
        expect(reply.janus).to.equal('success');
        const id = (reply.data as JsonObject).id as number;
        expect(Number.isSafeInteger(id) && id > 0).to.equal(true);
        ids.add(id);
      }
      expect(ids.size).to.equal(5);
    });

    it('creates a session with a client-chosen id, and refuses it twice (468)', async () => {
      const client = await connect();
      const wanted = 4242424242;
      expect(await client.request({ janus: 'create', id: wanted, transaction: 'c1' })).to.deep.equal({
        janus: 'success', transaction: 'c1', data: { id: wanted },
      });
      expect(await client.request({ janus: 'create', id: wanted, transaction: 'c2' })).to.deep.equal({
        janus: 'error', session_id: wanted, transaction: 'c2', error: { code: 468, reason: 'Session ID already in use' },
      });
      client.send({ janus: 'create', id: -3, transaction: 'c3' });
      expect(await client.next(() => true)).to.deep.equal({
        janus: 'error', error: { code: 467, reason: 'Invalid element type (id should be a positive integer)' },
      });
    });

    it('gives 457 for another verb without a session', async () => {
      const client = await connect();
      expect(await client.request({ janus: 'keepalive', transaction: 'k' })).to.deep.equal({
        janus: 'error', transaction: 'k', error: { code: 457, reason: "Unhandled request 'keepalive' at this path" },
      });
      expect(await client.request({ janus: 'bogus', transaction: 'b' })).to.deep.equal({
        janus: 'error', transaction: 'b', error: { code: 457, reason: "Unhandled request 'bogus' at this path" },
      });
    });

    it('validates janus and transaction (456/467, no transaction echoed)', async () => {
      const client = await connect();
      client.send({ janus: 'ping' });
      expect(await client.next(() => true)).to.deep.equal({
        janus: 'error', error: { code: 456, reason: 'Missing mandatory element (transaction)' },
      });
      client.send({ transaction: 'x' });
      expect(await client.next(() => true)).to.deep.equal({
        janus: 'error', error: { code: 456, reason: 'Missing mandatory element (janus)' },
      });
      client.send({ janus: 'ping', transaction: 5 });
      expect(await client.next(() => true)).to.deep.equal({
        janus: 'error', error: { code: 467, reason: 'Invalid element type (transaction should be a string)' },
      });
      client.send({ janus: 7, transaction: 'x' });
      expect(await client.next(() => true)).to.deep.equal({
        janus: 'error', error: { code: 467, reason: 'Invalid element type (janus should be a string)' },
      });
    });

    it('gives 454 for malformed JSON and 455 for a non-object, and keeps the connection', async () => {
      const client = await connect();
      client.sendRaw('{"janus": "ping", ');
      const malformed = await client.next(() => true);
      expect(malformed.janus).to.equal('error');
      expect(Object.keys(malformed)).to.deep.equal(['janus', 'error']);
      expect((malformed.error as JsonObject).code).to.equal(454);
      client.sendRaw('[1,2]');
      expect(await client.next(() => true)).to.deep.equal({
        janus: 'error', error: { code: 455, reason: 'JSON error: not an object' },
      });
      expect(await client.request({ janus: 'ping', transaction: 'still' })).to.deep.equal({ janus: 'pong', transaction: 'still' });
    });

    it('processes several JSON documents in one frame, in order', async () => {
      const client = await connect();
      client.sendRaw('{"janus":"ping","transaction":"a"}\n{"janus":"ping","transaction":"b"}{"janus":"ping","transaction":"c"}');
      expect(await client.next(() => true)).to.deep.equal({ janus: 'pong', transaction: 'a' });
      expect(await client.next(() => true)).to.deep.equal({ janus: 'pong', transaction: 'b' });
      expect(await client.next(() => true)).to.deep.equal({ janus: 'pong', transaction: 'c' });
    });
  });

  describe('sessions and handles', () => {
    it('acks keepalive with session_id', async () => {
      const client = await connect();
      const { sessionId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      expect(await client.request({ janus: 'keepalive', session_id: sessionId, transaction: 'ka' })).to.deep.equal({
        janus: 'ack', session_id: sessionId, transaction: 'ka',
      });
    });

    it('gives 458 for an unknown session and 459 for an unknown handle', async () => {
      const client = await connect();
      expect(await client.request({ janus: 'keepalive', session_id: 123, transaction: 'k' })).to.deep.equal({
        janus: 'error', session_id: 123, transaction: 'k', error: { code: 458, reason: 'No such session 123' },
      });
      const { sessionId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      expect(await client.request({ janus: 'message', session_id: sessionId, handle_id: 99, body: {}, transaction: 'm' })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'm',
        error: { code: 459, reason: `No such handle 99 in session ${sessionId}` },
      });
      expect(await client.request({ janus: 'message', handle_id: 99, body: {}, transaction: 'n' })).to.deep.equal({
        janus: 'error', transaction: 'n', error: { code: 458, reason: 'Session not found' },
      });
    });

    it('attaches by package name and reports attach errors (456/467/460/461)', async () => {
      const client = await connect();
      const created = await client.request({ janus: 'create' });
      const sessionId = (created.data as JsonObject).id as number;
      const attached = await client.request({
        janus: 'attach', session_id: sessionId, plugin: TEST_PLUGIN_PACKAGE, opaque_id: 'op-1', transaction: 'a1',
      });
      expect(Object.keys(attached)).to.deep.equal(['janus', 'session_id', 'transaction', 'data']);
      expect(attached.janus).to.equal('success');
      const handleId = (attached.data as JsonObject).id as number;
      expect(Number.isSafeInteger(handleId) && handleId > 0).to.equal(true);
      expect(plugin.calls.find((call) => call.callback === 'createSession' && call.handle === handleId)?.detail).to.equal('op-1');

      expect(await client.request({ janus: 'attach', session_id: sessionId, transaction: 'a2' })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'a2', error: { code: 456, reason: 'Missing mandatory element (plugin)' },
      });
      expect(await client.request({ janus: 'attach', session_id: sessionId, plugin: 5, transaction: 'a3' })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'a3',
        error: { code: 467, reason: 'Invalid element type (plugin should be a string)' },
      });
      expect(await client.request({ janus: 'attach', session_id: sessionId, plugin: 'janus.plugin.nope', transaction: 'a4' })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'a4', error: { code: 460, reason: "No such plugin 'janus.plugin.nope'" },
      });
      const failed = await client.request({
        janus: 'attach', session_id: sessionId, plugin: TEST_PLUGIN_PACKAGE, opaque_id: 'fail-create', transaction: 'a5',
      });
      expect((failed.error as JsonObject).code).to.equal(461);
      const handles = await ts.server.admin.handleRequest(
        { id: 't', transport: 't', send: () => undefined },
        { janus: 'list_handles', session_id: sessionId, transaction: 'l', admin_secret: 'testoverlord' },
      );
      expect(handles.handles).to.deep.equal([handleId]);
    });

    it('routes verbs to the right level (453 unknown, 457 wrong path)', async () => {
      const client = await connect();
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      expect(await client.request({ janus: 'frobnicate', session_id: sessionId, transaction: 'f' })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'f', error: { code: 453, reason: "Unknown request 'frobnicate'" },
      });
      expect(await client.request({ janus: 'message', session_id: sessionId, body: {}, transaction: 'm' })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'm', error: { code: 457, reason: "Unhandled request 'message' at this path" },
      });
      expect(await client.request({ janus: 'attach', session_id: sessionId, handle_id: handleId, plugin: TEST_PLUGIN_PACKAGE, transaction: 'a' })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'a', error: { code: 457, reason: "Unhandled request 'attach' at this path" },
      });
      expect(await client.request({ janus: 'destroy', session_id: sessionId, handle_id: handleId, transaction: 'd' })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'd', error: { code: 457, reason: "Unhandled request 'destroy' at this path" },
      });
    });
  });

  describe('message', () => {
    it('returns a synchronous plugin reply as success with plugindata', async () => {
      const client = await connect();
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      const reply = await client.request({
        janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'sync', n: 1 }, transaction: 's1',
      });
      expect(reply).to.deep.equal({
        janus: 'success', session_id: sessionId, transaction: 's1', sender: handleId,
        plugindata: { plugin: TEST_PLUGIN_PACKAGE, data: { testecho: 'sync', echo: { request: 'sync', n: 1 } } },
      });
    });

    it('acks an asynchronous request, then sends the event with the transaction', async () => {
      const client = await connect();
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      const ack = await client.request({
        janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'async' }, transaction: 'as1',
      });
      expect(ack).to.deep.equal({ janus: 'ack', session_id: sessionId, transaction: 'as1' });
      const event = await client.next((m) => m.janus === 'event');
      expect(event).to.deep.equal({
        janus: 'event', session_id: sessionId, sender: handleId, transaction: 'as1',
        plugindata: { plugin: TEST_PLUGIN_PACKAGE, data: { testecho: 'event', result: 'ok', echo: { request: 'async' } } },
      });
      // ack strictly before the event
      expect(client.received.indexOf(ack)).to.be.lessThan(client.received.indexOf(event));
    });

    it('passes an ack hint and plugin offers with the merged JSEP', async () => {
      const client = await connect();
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      const ack = await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'offer' }, transaction: 'o1' });
      expect(ack).to.deep.equal({ janus: 'ack', session_id: sessionId, transaction: 'o1', hint: 'offer follows' });
      const event = await client.next((m) => m.janus === 'event');
      expect(event.jsep).to.deep.equal({ type: 'offer', sdp: `v=0\r\ns=plugin-offer\r\n${FAKE_MERGE_MARK}\r\n` });
      // Now the client may answer; without the plugin offer this would be 469.
      const answered = await client.request({
        janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'sync' },
        jsep: { type: 'answer', sdp: TEST_OFFER_SDP }, transaction: 'o2',
      });
      expect(answered.janus).to.equal('success');
    });

    it('reports plugin errors as 462', async () => {
      const client = await connect();
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      const base = { janus: 'message', session_id: sessionId, handle_id: handleId };
      expect(await client.request({ ...base, body: { request: 'error' }, transaction: 'e1' })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'e1', error: { code: 462, reason: 'test plugin error' },
      });
      expect(await client.request({ ...base, body: { request: 'throw' }, transaction: 'e2' })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'e2',
        error: { code: 462, reason: 'Plugin returned a severe (unknown) error' },
      });
      expect(await client.request({ ...base, body: { request: 'array' }, transaction: 'e3' })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'e3',
        error: { code: 462, reason: 'Plugin returned an invalid JSON response' },
      });
    });

    it('validates body (456/467)', async () => {
      const client = await connect();
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      expect(await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, transaction: 'b1' })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'b1', error: { code: 456, reason: 'Missing mandatory element (body)' },
      });
      expect(await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: [], transaction: 'b2' })).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'b2', error: { code: 467, reason: 'Invalid element type (body should be an object)' },
      });
    });

    it('validates the JSEP (455/456/467/464/465/469)', async () => {
      const client = await connect();
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      const send = (jsep: unknown, transaction: string): Promise<JsonObject> => client.request({
        janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'sync' }, jsep: jsep as JsonObject, transaction,
      });
      const error = (transaction: string, code: number, reason: string): JsonObject => ({
        janus: 'error', session_id: sessionId, transaction, error: { code, reason },
      });
      expect(await send('nope', 'j1')).to.deep.equal(error('j1', 455, 'Invalid jsep object'));
      expect(await send({ type: 'offer' }, 'j2')).to.deep.equal(error('j2', 456, 'JSEP error: missing mandatory element (sdp)'));
      expect(await send({ sdp: TEST_OFFER_SDP }, 'j3')).to.deep.equal(error('j3', 456, 'JSEP error: missing mandatory element (type)'));
      expect(await send({ type: 1, sdp: TEST_OFFER_SDP }, 'j4')).to.deep.equal(error('j4', 467, 'JSEP error: invalid element type (type should be a string)'));
      expect(await send({ type: 'pranswer', sdp: TEST_OFFER_SDP }, 'j5')).to.deep.equal(error('j5', 464, "JSEP error: unknown message type 'pranswer'"));
      expect(await send({ type: 'offer', sdp: 'garbage' }, 'j6')).to.deep.equal(error('j6', 465, 'JSEP error: invalid SDP (no v= line)'));
      expect(await send({ type: 'answer', sdp: TEST_OFFER_SDP }, 'j7')).to.deep.equal(error('j7', 469, 'Unexpected ANSWER (did we offer?)'));
      expect(plugin.calls.filter((call) => call.handle === handleId && call.callback === 'handleMessage')).to.have.length(0);
    });

    it('hands the plugin an anonymised offer and the client a merged answer', async () => {
      const client = await connect();
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      const ack = await client.request({
        janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'async' },
        jsep: { type: 'offer', sdp: TEST_OFFER_SDP, trickle: true }, transaction: 'offer1',
      });
      expect(ack.janus).to.equal('ack');
      const event = await client.next((m) => m.janus === 'event');
      expect(event.jsep).to.deep.equal({ type: 'answer', sdp: `v=0\r\ns=plugin-answer\r\n${FAKE_MERGE_MARK}\r\n` });
      const call = plugin.calls.find((c) => c.handle === handleId && c.callback === 'handleMessage');
      expect((call?.detail as JsonObject).jsep).to.deep.equal({ type: 'offer', sdp: fakeAnonymise(TEST_OFFER_SDP) });
      expect(plane.peer(handleId).remote).to.deep.equal({ type: 'offer', sdp: TEST_OFFER_SDP, trickle: true });
    });

    it('gives pushEvent its contract codes (455, -2, -1)', async () => {
      const client = await connect();
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      const reply = await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'pushcodes' } });
      expect((reply.plugindata as JsonObject).data).to.deep.equal({ codes: [455, -2, -1] });
    });
  });

  describe('trickle', () => {
    it('acks candidates, queues them before the SDP and flushes them after', async () => {
      const client = await connect();
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      const base = { janus: 'trickle', session_id: sessionId, handle_id: handleId };
      const candidate = { candidate: 'candidate:1 1 udp 2122260223 192.168.1.20 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
      expect(await client.request({ ...base, candidate, transaction: 'tr1' })).to.deep.equal({
        janus: 'ack', session_id: sessionId, transaction: 'tr1',
      });
      expect(await client.request({ ...base, candidates: [candidate, { sdpMid: 5 }, { candidate: 'c2', sdpMid: '0' }], transaction: 'tr2' })).to.deep.equal({
        janus: 'ack', session_id: sessionId, transaction: 'tr2',
      });
      const peer = plane.peer(handleId);
      expect(peer.candidates).to.have.length(0);
      await client.request({
        janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'sync' }, jsep: { type: 'offer', sdp: TEST_OFFER_SDP },
      });
      expect(peer.candidates).to.deep.equal([candidate, candidate, { candidate: 'c2', sdpMid: '0' }]);
      await client.request({ ...base, candidate: { completed: true } });
      await client.request({ ...base, candidate: null });
      expect(peer.candidates.slice(3)).to.deep.equal([null, null]);
    });

    it('reports trickle errors (454/456/467)', async () => {
      const client = await connect();
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      const base = { janus: 'trickle', session_id: sessionId, handle_id: handleId };
      const error = (transaction: string, code: number, reason: string): JsonObject => ({
        janus: 'error', session_id: sessionId, transaction, error: { code, reason },
      });
      expect(await client.request({ ...base, transaction: 'x1' })).to.deep.equal(error('x1', 456, 'Missing mandatory element (candidate|candidates)'));
      expect(await client.request({ ...base, candidate: {}, candidates: [], transaction: 'x2' })).to.deep.equal(error('x2', 454, "Can't have both candidate and candidates"));
      expect(await client.request({ ...base, candidates: {}, transaction: 'x3' })).to.deep.equal(error('x3', 467, 'candidates is not an array'));
      expect(await client.request({ ...base, candidate: { candidate: 'c' }, transaction: 'x4' })).to.deep.equal(
        error('x4', 456, 'Trickle error: missing mandatory element (sdpMid or sdpMLineIndex)'));
      expect(await client.request({ ...base, candidate: { sdpMid: '0' }, transaction: 'x5' })).to.deep.equal(
        error('x5', 456, 'Trickle error: missing mandatory element (candidate)'));
      expect(await client.request({ ...base, candidate: { sdpMid: '0', candidate: 3 }, transaction: 'x6' })).to.deep.equal(
        error('x6', 467, 'Trickle error: invalid element type (candidate should be a string)'));
    });
  });

  describe('media lifecycle', () => {
    async function negotiated(client: JanusWsClient): Promise<{ sessionId: number; handleId: number }> {
      const ids = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      await client.request({
        janus: 'message', session_id: ids.sessionId, handle_id: ids.handleId, body: { request: 'async' },
        jsep: { type: 'offer', sdp: TEST_OFFER_SDP },
      });
      await client.next((m) => m.janus === 'event' && m.jsep !== undefined);
      return ids;
    }

    it('calls setupMedia before sending webrtcup', async () => {
      const client = await connect();
      const { sessionId, handleId } = await negotiated(client);
      plane.peer(handleId).events.connected();
      expect(await client.next((m) => m.janus === 'webrtcup')).to.deep.equal({ janus: 'webrtcup', session_id: sessionId, sender: handleId });
      expect(plugin.callsFor(handleId)).to.deep.equal(['createSession', 'handleMessage', 'setupMedia']);
    });

    it('turns media and slowlink peer events into client events', async () => {
      const client = await connect();
      const { sessionId, handleId } = await negotiated(client);
      const events = plane.peer(handleId).events;
      events.media({ mid: '0', type: 'audio', receiving: true });
      events.slowLink({ mid: '1', media: 'video', uplink: true, lost: 12 });
      expect(await client.next((m) => m.janus === 'media')).to.deep.equal({
        janus: 'media', session_id: sessionId, sender: handleId, mid: '0', type: 'audio', receiving: true,
      });
      expect(await client.next((m) => m.janus === 'slowlink')).to.deep.equal({
        janus: 'slowlink', session_id: sessionId, sender: handleId, mid: '1', media: 'video', uplink: true, lost: 12,
      });
      expect(plugin.calls.find((c) => c.handle === handleId && c.callback === 'slowLink')?.detail).to.deep.equal({ uplink: true, video: true });
      events.data({ binary: false, payload: 'hello', label: 'JanusDataChannel', protocol: '' });
      expect(plugin.calls.find((c) => c.handle === handleId && c.callback === 'incomingData')?.detail).to.equal('hello');
      // The test plugin takes text only: binary data goes back to the media plane for relaying.
      const bytes = new Uint8Array([1, 2, 3]);
      events.data({ binary: true, payload: bytes, label: 'JanusDataChannel', protocol: '' });
      expect(plane.relayedData).to.deep.equal([
        { handleId, message: { binary: true, payload: bytes, label: 'JanusDataChannel', protocol: '' } },
      ]);
    });

    it('hangup without a PeerConnection succeeds silently; with one it tears it down', async () => {
      const client = await connect();
      const plain = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      expect(await client.request({ janus: 'hangup', session_id: plain.sessionId, handle_id: plain.handleId, transaction: 'h0' })).to.deep.equal({
        janus: 'success', session_id: plain.sessionId, transaction: 'h0',
      });
      const { sessionId, handleId } = await negotiated(client);
      expect(await client.request({ janus: 'hangup', session_id: sessionId, handle_id: handleId, transaction: 'h1' })).to.deep.equal({
        janus: 'success', session_id: sessionId, transaction: 'h1',
      });
      const hangup = await client.next((m) => m.janus === 'hangup');
      expect(hangup).to.deep.equal({ janus: 'hangup', session_id: sessionId, sender: handleId, reason: 'Janus API' });
      expect(client.received.findIndex((m) => m.transaction === 'h1')).to.be.lessThan(client.received.indexOf(hangup));
      expect(plane.peer(handleId).hangups).to.equal(1);
      expect(plugin.callsFor(handleId)).to.deep.equal(['createSession', 'handleMessage', 'hangupMedia']);
      await delay(50);
      expect(client.untaken().filter((m) => m.janus === 'hangup')).to.have.length(0);
      expect(plugin.callsFor(plain.handleId)).to.deep.equal(['createSession']);
    });

    it('survives a media plane that throws: the hangup still reaches plugin and client', async () => {
      const client = await connect();
      const { sessionId, handleId } = await negotiated(client);
      plane.peer(handleId).hangup = (): Promise<void> => { throw new Error('media plane bug'); };
      await client.request({ janus: 'hangup', session_id: sessionId, handle_id: handleId });
      expect(await client.next((m) => m.janus === 'hangup')).to.deep.equal({
        janus: 'hangup', session_id: sessionId, sender: handleId, reason: 'Janus API',
      });
      expect(ts.log.find('peer hangup failed').length).to.be.greaterThan(0);
      expect(plugin.callsFor(handleId)).to.include('hangupMedia');
    });

    it('a hangup followed at once by a new offer reaches the plugin in that order', async () => {
      const client = await connect();
      const { sessionId, handleId } = await negotiated(client);
      client.sendRaw(JSON.stringify({ janus: 'hangup', session_id: sessionId, handle_id: handleId, transaction: 'hh' })
        + JSON.stringify({
          janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'sync' },
          jsep: { type: 'offer', sdp: TEST_OFFER_SDP }, transaction: 'oo',
        }));
      expect((await client.next((m) => m.transaction === 'oo')).janus).to.equal('success');
      await client.next((m) => m.janus === 'hangup');
      expect(plugin.callsFor(handleId)).to.deep.equal(['createSession', 'handleMessage', 'hangupMedia', 'handleMessage']);
    });

    it('a new offer waits for the previous PeerConnection to finish cleaning', async () => {
      const client = await connect();
      const { sessionId, handleId } = await negotiated(client);
      plane.peer(handleId).hangupDelayMs = 200;
      await client.request({ janus: 'hangup', session_id: sessionId, handle_id: handleId });
      const reply = await client.request({
        janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'sync' }, jsep: { type: 'offer', sdp: TEST_OFFER_SDP },
      });
      expect(reply.janus).to.equal('success');
      expect(plane.peer(handleId).remote?.type).to.equal('offer');
    });

    it('hangs up on peer failure and on closePc with their reasons', async () => {
      const client = await connect();
      const { sessionId, handleId } = await negotiated(client);
      plane.peer(handleId).events.failed('ICE failed');
      expect(await client.next((m) => m.janus === 'hangup')).to.deep.equal({
        janus: 'hangup', session_id: sessionId, sender: handleId, reason: 'ICE failed',
      });
      await client.request({
        janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'async' }, jsep: { type: 'offer', sdp: TEST_OFFER_SDP },
      });
      await client.next((m) => m.janus === 'event' && m.jsep !== undefined);
      await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'closepc' } });
      expect(await client.next((m) => m.janus === 'hangup')).to.deep.equal({
        janus: 'hangup', session_id: sessionId, sender: handleId, reason: 'Close PC',
      });
    });

    it('detach: success, hangupMedia then destroySession, detached event, peer closed', async () => {
      const client = await connect();
      const { sessionId, handleId } = await negotiated(client);
      expect(await client.request({ janus: 'detach', session_id: sessionId, handle_id: handleId, transaction: 'd1' })).to.deep.equal({
        janus: 'success', session_id: sessionId, transaction: 'd1',
      });
      const detached = await client.next((m) => m.janus === 'detached');
      expect(detached).to.deep.equal({ janus: 'detached', session_id: sessionId, sender: handleId });
      expect(client.received.findIndex((m) => m.transaction === 'd1')).to.be.lessThan(client.received.indexOf(detached));
      expect(plugin.callsFor(handleId)).to.deep.equal(['createSession', 'handleMessage', 'hangupMedia', 'destroySession']);
      for (let i = 0; i < 20 && !plane.peer(handleId).closed; i++) await delay(10);
      expect(plane.peer(handleId).closed).to.equal(true);
      expect(client.untaken().some((m) => m.janus === 'hangup')).to.equal(false);
      expect((await client.request({ janus: 'detach', session_id: sessionId, handle_id: handleId })).error).to.deep.equal({
        code: 459, reason: `No such handle ${handleId} in session ${sessionId}`,
      });
    });

    it('endSession from the plugin detaches the handle (hangupMedia even without a PC)', async () => {
      const client = await connect();
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'end' } });
      expect(await client.next((m) => m.janus === 'detached')).to.deep.equal({ janus: 'detached', session_id: sessionId, sender: handleId });
      expect(plugin.callsFor(handleId)).to.deep.equal(['createSession', 'handleMessage', 'hangupMedia', 'destroySession']);
    });
  });

  describe('session teardown', () => {
    it('destroy replies with session_id and detaches every handle', async () => {
      const client = await connect();
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      expect(await client.request({ janus: 'destroy', session_id: sessionId, transaction: 'x' })).to.deep.equal({
        janus: 'success', session_id: sessionId, transaction: 'x',
      });
      await delay(20);
      expect(plugin.callsFor(handleId)).to.deep.equal(['createSession', 'hangupMedia', 'destroySession']);
      expect((await client.request({ janus: 'keepalive', session_id: sessionId })).error).to.deep.equal({
        code: 458, reason: `No such session ${sessionId}`,
      });
      expect(client.untaken().some((m) => m.janus === 'detached')).to.equal(false);
    });

    it('a closed connection tears its sessions down; other connections are unaffected', async () => {
      const doomed = await connect();
      const other = await connect();
      const gone = await createAndAttach(doomed, TEST_PLUGIN_PACKAGE);
      const kept = await createAndAttach(other, TEST_PLUGIN_PACKAGE);
      await doomed.close();
      for (let i = 0; i < 50 && !plugin.callsFor(gone.handleId).includes('destroySession'); i++) await delay(20);
      expect(plugin.callsFor(gone.handleId)).to.deep.equal(['createSession', 'hangupMedia', 'destroySession']);
      expect(ts.server.core.getSession(gone.sessionId)).to.equal(undefined);
      expect((await other.request({ janus: 'keepalive', session_id: kept.sessionId })).janus).to.equal('ack');
    });

    it('lets only the owning connection drive the session; its events go only there', async () => {
      const owner = await connect();
      const stranger = await connect();
      const { sessionId, handleId } = await createAndAttach(owner, TEST_PLUGIN_PACKAGE);
      // Another connection gets exactly what an unknown id gets.
      const refused = await stranger.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'async' }, transaction: 'st' });
      expect(refused).to.deep.equal({
        janus: 'error', session_id: sessionId, transaction: 'st',
        error: { code: 458, reason: `No such session ${sessionId}` },
      });
      const ack = await owner.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'async' }, transaction: 'ow' });
      expect(ack).to.deep.equal({ janus: 'ack', session_id: sessionId, transaction: 'ow' });
      const event = await owner.next((m) => m.janus === 'event');
      expect(event.transaction).to.equal('ow');
      await delay(30);
      expect(stranger.untaken()).to.deep.equal([]);
    });
  });

  describe('transport rules', () => {
    it('answers plain HTTP on the WebSocket port with 403', async () => {
      const response = await fetch(`http://127.0.0.1:${ts.ports.websocket}/`);
      expect(response.status).to.equal(403);
    });

    it('refuses an upgrade without the janus-protocol subprotocol', async () => {
      let refused = false;
      try {
        const client = await JanusWsClient.connect(ts.urls.ws, null);
        clients.push(client);
      } catch {
        refused = true;
      }
      expect(refused).to.equal(true);
      const adminProto = await JanusWsClient.connect(ts.urls.ws, 'janus-admin-protocol').then(() => false, () => true);
      expect(adminProto).to.equal(true);
    });

    it('picks janus-protocol among several offered subprotocols', async () => {
      const client = await JanusWsClient.connect(ts.urls.ws, ['chat', 'janus-protocol']);
      clients.push(client);
      expect(client.socket.protocol).to.equal('janus-protocol');
      expect(await client.request({ janus: 'ping', transaction: newTransaction() })).to.have.property('janus', 'pong');
    });
  });
});
