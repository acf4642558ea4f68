// Janus API over the HTTP transport: REST paths with ids injected from the path, long polls
// (maxev, ordering, keepalive after the hold), CORS, and errors as HTTP 200 bodies.

import { expect } from 'chai';
import type { JsonObject, JsonValue } from '../src/plugin/json';
import { JanusWsClient } from './support/janus-ws-client';
import { TEST_PLUGIN_PACKAGE, TestPlugin } from './support/test-plugin';
import { type TestServer, startTestServer } from './support/test-server';

interface HttpReply {
  status: number;
  headers: Headers;
  body: JsonValue | undefined;
}

async function call(url: string, init: RequestInit = {}): Promise<HttpReply> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(8000) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as JsonValue) : undefined };
}

function post(url: string, body: JsonValue | string): Promise<HttpReply> {
  return call(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
}

describe('Janus API over HTTP', () => {
  let ts: TestServer;
  let base: string;

  before(async () => {
    ts = await startTestServer({ plugins: [new TestPlugin()], longPollHoldMs: 300 });
    base = ts.urls.http;
  });

  after(async () => {
    await ts.close();
  });

  async function createSession(): Promise<number> {
    const reply = await post(base, { janus: 'create', transaction: 'c' });
    return ((reply.body as JsonObject).data as JsonObject).id as number;
  }

  async function attach(sessionId: number): Promise<number> {
    const reply = await post(`${base}/${sessionId}`, { janus: 'attach', plugin: TEST_PLUGIN_PACKAGE, transaction: 'a' });
    return ((reply.body as JsonObject).data as JsonObject).id as number;
  }

  it('creates a session with POST /janus (JSON, CORS, 200)', async () => {
    const reply = await post(base, { janus: 'create', transaction: 'cr1' });
    expect(reply.status).to.equal(200);
    expect(reply.headers.get('content-type')).to.equal('application/json');
    expect(reply.headers.get('access-control-allow-origin')).to.equal('*');
    const body = reply.body as JsonObject;
    expect(Object.keys(body)).to.deep.equal(['janus', 'transaction', 'data']);
    expect(body.janus).to.equal('success');
  });

  it('serves GET /janus/info and refuses POST on it with 400', async () => {
    const info = await call(`${base}/info`);
    expect(info.status).to.equal(200);
    expect((info.body as JsonObject).janus).to.equal('server_info');
    expect((info.body as JsonObject).version_string).to.equal('1.1.2');
    expect(typeof (info.body as JsonObject).transaction).to.equal('string');
    const refused = await post(`${base}/info`, { janus: 'info', transaction: 'x' });
    expect(refused.status).to.equal(400);
  });

  it('injects ids from the path: attach, message, keepalive', async () => {
    const sessionId = await createSession();
    const attached = await post(`${base}/${sessionId}`, { janus: 'attach', plugin: TEST_PLUGIN_PACKAGE, transaction: 'a1' });
    const handleId = ((attached.body as JsonObject).data as JsonObject).id as number;
    expect(attached.body).to.deep.equal({ janus: 'success', session_id: sessionId, transaction: 'a1', data: { id: handleId } });
    const message = await post(`${base}/${sessionId}/${handleId}`, { janus: 'message', body: { request: 'sync' }, transaction: 'm1' });
    expect(message.body).to.deep.equal({
      janus: 'success', session_id: sessionId, transaction: 'm1', sender: handleId,
      plugindata: { plugin: TEST_PLUGIN_PACKAGE, data: { testecho: 'sync', echo: { request: 'sync' } } },
    });
    expect((await post(`${base}/${sessionId}`, { janus: 'keepalive', transaction: 'k' })).body).to.deep.equal({
      janus: 'ack', session_id: sessionId, transaction: 'k',
    });
  });

  it('gives 457 when path and body ids conflict', async () => {
    const sessionId = await createSession();
    const reply = await post(`${base}/${sessionId}`, { janus: 'keepalive', session_id: sessionId + 1, transaction: 'k' });
    expect(reply.status).to.equal(200);
    expect(((reply.body as JsonObject).error as JsonObject).code).to.equal(457);
  });

  it('returns Janus errors with HTTP 200: 454 malformed, 455 not an object, 458 unknown session', async () => {
    const malformed = await post(base, '{"janus":');
    expect(malformed.status).to.equal(200);
    expect(Object.keys(malformed.body as JsonObject)).to.deep.equal(['janus', 'error']);
    expect(((malformed.body as JsonObject).error as JsonObject).code).to.equal(454);
    expect((await post(base, '[1]')).body).to.deep.equal({ janus: 'error', error: { code: 455, reason: 'JSON error: not an object' } });
    expect((await post(`${base}/777`, { janus: 'keepalive', transaction: 'k' })).body).to.deep.equal({
      janus: 'error', session_id: 777, transaction: 'k', error: { code: 458, reason: 'No such session 777' },
    });
  });

  it('answers other methods with error 450, and bad paths with 404', async () => {
    const put = await call(base, { method: 'PUT', body: '{}' });
    expect(put.status).to.equal(200);
    expect(put.body).to.deep.equal({ janus: 'error', error: { code: 450, reason: 'Unsupported method PUT' } });
    expect((await post(`${base}/abc`, { janus: 'keepalive', transaction: 'k' })).status).to.equal(404);
    expect((await post(`${base}/1/2/3`, { janus: 'keepalive', transaction: 'k' })).status).to.equal(404);
    expect((await call(`${base}/abc`)).status).to.equal(404);
    expect((await call(`http://127.0.0.1:${ts.ports.http}/elsewhere`)).status).to.equal(404);
  });

  it('answers CORS preflight like Janus', async () => {
    const reply = await call(`${base}/123`, {
      method: 'OPTIONS',
      headers: { 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type', Origin: 'http://example.org' },
    });
    expect(reply.status).to.equal(200);
    expect(reply.headers.get('access-control-allow-origin')).to.equal('*');
    expect(reply.headers.get('access-control-allow-methods')).to.equal('POST');
    expect(reply.headers.get('access-control-allow-headers')).to.equal('content-type');
    expect(reply.headers.get('access-control-max-age')).to.equal('86400');
  });

  it('long-polls events in order, up to maxev per response', async () => {
    const sessionId = await createSession();
    const handleId = await attach(sessionId);
    const ack = await post(`${base}/${sessionId}/${handleId}`, { janus: 'message', body: { request: 'events', count: 5 }, transaction: 'ev' });
    expect(ack.body).to.deep.equal({ janus: 'ack', session_id: sessionId, transaction: 'ev' });
    const seqs: number[] = [];
    for (let i = 0; i < 10 && seqs.length < 5; i++) {
      const poll = await call(`${base}/${sessionId}?maxev=3&rid=${Date.now()}`);
      expect(Array.isArray(poll.body)).to.equal(true);
      const batch = poll.body as JsonObject[];
      expect(batch.length).to.be.at.most(3);
      for (const event of batch) {
        if (event.janus === 'keepalive') continue;
        expect(event.janus).to.equal('event');
        expect(event.session_id).to.equal(sessionId);
        expect(event.sender).to.equal(handleId);
        expect(event).to.not.have.property('transaction');
        seqs.push(((event.plugindata as JsonObject).data as JsonObject).seq as number);
      }
    }
    expect(seqs).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('delivers a single event object without maxev, and holds the poll until it arrives', async () => {
    const sessionId = await createSession();
    const handleId = await attach(sessionId);
    const pending = call(`${base}/${sessionId}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await post(`${base}/${sessionId}/${handleId}`, { janus: 'message', body: { request: 'async' }, transaction: 'as' });
    const poll = await pending;
    expect(poll.body).to.deep.equal({
      janus: 'event', session_id: sessionId, sender: handleId, transaction: 'as',
      plugindata: { plugin: TEST_PLUGIN_PACKAGE, data: { testecho: 'event', result: 'ok', echo: { request: 'async' } } },
    });
  });

  it('answers an idle poll with a keepalive after the hold time', async () => {
    const sessionId = await createSession();
    expect((await call(`${base}/${sessionId}`)).body).to.deep.equal({ janus: 'keepalive' });
    expect((await call(`${base}/${sessionId}?maxev=5`)).body).to.deep.equal([{ janus: 'keepalive' }]);
  });

  it('redirects a GET on a handle path to the session path (302)', async () => {
    const sessionId = await createSession();
    const response = await fetch(`${base}/${sessionId}/42`, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
    expect(response.status).to.equal(302);
    expect(response.headers.get('location')).to.equal(`/janus/${sessionId}`);
  });

  it('gives 404 to a poll for an unknown session or one created over WebSocket', async () => {
    expect((await call(`${base}/98765`)).status).to.equal(404);
    const client = await JanusWsClient.connect(ts.urls.ws);
    try {
      const created = await client.request({ janus: 'create' });
      const wsSession = (created.data as JsonObject).id as number;
      expect((await call(`${base}/${wsSession}`)).status).to.equal(404);
    } finally {
      await client.close();
    }
  });

  it('sends detached to the poller after a detach, and ends the queue on destroy', async () => {
    const sessionId = await createSession();
    const handleId = await attach(sessionId);
    expect((await post(`${base}/${sessionId}/${handleId}`, { janus: 'detach', transaction: 'd' })).body).to.deep.equal({
      janus: 'success', session_id: sessionId, transaction: 'd',
    });
    expect((await call(`${base}/${sessionId}?maxev=10`)).body).to.deep.equal([{ janus: 'detached', session_id: sessionId, sender: handleId }]);
    expect((await post(`${base}/${sessionId}`, { janus: 'destroy', transaction: 'x' })).body).to.deep.equal({
      janus: 'success', session_id: sessionId, transaction: 'x',
    });
    expect((await call(`${base}/${sessionId}`)).status).to.equal(404);
  });

  it('refuses a body larger than maxRequestBytes', async () => {
    const big = JSON.stringify({ janus: 'ping', transaction: 'x', pad: 'a'.repeat(1024 * 1024 + 10) });
    let status = 0;
    try {
      status = (await call(base, { method: 'POST', body: big })).status;
    } catch {
      status = -1; // connection closed: also a refusal
    }
    expect([413, -1]).to.include(status);
    expect(ts.log.find('too large').length).to.be.greaterThan(0);
    expect((await post(base, { janus: 'ping', transaction: 'after' })).body).to.deep.equal({ janus: 'pong', transaction: 'after' });
  });
});

describe('HTTP session timeout', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer({ config: { sessionTimeout: 1 }, longPollHoldMs: 5000, watchdogIntervalMs: 100 });
  });

  after(async () => {
    await ts.close();
  });

  it('delivers the timeout event to the pending long poll and forgets the session', async () => {
    const created = await post(ts.urls.http, { janus: 'create', transaction: 'c' });
    const sessionId = ((created.body as JsonObject).data as JsonObject).id as number;
    // The poll itself counts as a keepalive, so only one is made: it must end with `timeout`.
    const poll = await call(`${ts.urls.http}/${sessionId}?maxev=10`);
    expect(poll.body).to.deep.equal([{ janus: 'timeout', session_id: sessionId }]);
    expect((await post(`${ts.urls.http}/${sessionId}`, { janus: 'keepalive', transaction: 'k' })).body).to.deep.equal({
      janus: 'error', session_id: sessionId, transaction: 'k', error: { code: 458, reason: `No such session ${sessionId}` },
    });
  });
});

describe('HTTP long-poll limits', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer({ config: { maxLongPolls: 2 }, longPollHoldMs: 10_000 });
  });

  after(async () => {
    await ts.close();
  });

  it('holds at most maxLongPolls polls per session: the oldest is answered early with a keepalive', async () => {
    const created = await post(ts.urls.http, { janus: 'create', transaction: 'c' });
    const sessionId = ((created.body as JsonObject).data as JsonObject).id as number;
    const attached = await post(`${ts.urls.http}/${sessionId}`, { janus: 'attach', plugin: TEST_PLUGIN_PACKAGE, transaction: 'a' });
    const handleId = ((attached.body as JsonObject).data as JsonObject).id as number;
    const settled: string[] = [];
    const first = call(`${ts.urls.http}/${sessionId}?maxev=5`).then((r) => { settled.push('first'); return r; });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = call(`${ts.urls.http}/${sessionId}?maxev=5`).then((r) => { settled.push('second'); return r; });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const third = call(`${ts.urls.http}/${sessionId}?maxev=5`).then((r) => { settled.push('third'); return r; });
    expect((await first).body).to.deep.equal([{ janus: 'keepalive' }]);
    expect(settled).to.deep.equal(['first']);
    await post(`${ts.urls.http}/${sessionId}/${handleId}`, { janus: 'message', body: { request: 'async' }, transaction: 'm' });
    const delivered = await second;
    expect((delivered.body as JsonObject[]).map((e) => e.janus)).to.deep.equal(['event']);
    await post(`${ts.urls.http}/${sessionId}`, { janus: 'destroy', transaction: 'd' });
    expect((await third).body).to.deep.equal([{ janus: 'keepalive' }]);
  });
});
