// Session timeout, reclaim/claim, and bad input on the WebSocket transport: huge frames and
// request floods close only the offending connection (with a log line); other sessions
// keep working.

import { expect } from 'chai';
import { request as httpRequest } from 'node:http';
import type { JsonObject } from '../src/plugin/json';
import { JanusWsClient, createAndAttach, delay } from './support/janus-ws-client';
import { TEST_PLUGIN_PACKAGE, TestPlugin } from './support/test-plugin';
import { type TestServer, startTestServer } from './support/test-server';

describe('session timeout over WebSocket', () => {
  let ts: TestServer;
  let plugin: TestPlugin;

  before(async () => {
    plugin = new TestPlugin();
    ts = await startTestServer({ plugins: [plugin], config: { sessionTimeout: 1 }, watchdogIntervalMs: 100 });
  });

  after(async () => {
    await ts.close();
  });

  it('sends timeout, detaches every handle, and forgets the session', async () => {
    const client = await JanusWsClient.connect(ts.urls.ws);
    try {
      const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
      expect(await client.next((m) => m.janus === 'timeout', 5000)).to.deep.equal({ janus: 'timeout', session_id: sessionId });
      for (let i = 0; i < 50 && !plugin.callsFor(handleId).includes('destroySession'); i++) await delay(20);
      expect(plugin.callsFor(handleId)).to.deep.equal(['createSession', 'hangupMedia', 'destroySession']);
      expect(ts.server.core.getSession(sessionId)).to.equal(undefined);
      expect(client.untaken().some((m) => m.janus === 'detached')).to.equal(false);
      expect((await client.request({ janus: 'keepalive', session_id: sessionId })).error).to.deep.equal({
        code: 458, reason: `No such session ${sessionId}`,
      });
      expect(ts.log.find('session timed out').length).to.be.greaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('keeps a session alive while keepalives arrive', async () => {
    const client = await JanusWsClient.connect(ts.urls.ws);
    try {
      const created = await client.request({ janus: 'create' });
      const sessionId = (created.data as JsonObject).id as number;
      // Keepalives every ~150 ms (generous slack on a loaded machine) for well over the 1 s timeout.
      for (let i = 0; i < 12; i++) {
        await delay(150);
        expect((await client.request({ janus: 'keepalive', session_id: sessionId })).janus).to.equal('ack');
      }
      expect(client.untaken().some((m) => m.janus === 'timeout')).to.equal(false);
    } finally {
      await client.close();
    }
  });
});

describe('reclaiming a session after its connection closed', () => {
  let ts: TestServer;
  let plugin: TestPlugin;

  before(async () => {
    plugin = new TestPlugin();
    ts = await startTestServer({ plugins: [plugin], config: { reclaimSessionTimeout: 1 }, watchdogIntervalMs: 100 });
  });

  after(async () => {
    await ts.close();
  });

  it('lets another connection claim the session; events follow the claim', async () => {
    const first = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId, handleId } = await createAndAttach(first, TEST_PLUGIN_PACKAGE);
    await first.close();
    await delay(50);
    expect(ts.server.core.getSession(sessionId)).to.not.equal(undefined);
    const second = await JanusWsClient.connect(ts.urls.ws);
    try {
      expect(await second.request({ janus: 'claim', session_id: sessionId, transaction: 'cl' })).to.deep.equal({
        janus: 'success', session_id: sessionId, transaction: 'cl',
      });
      await second.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'async' } });
      const event = await second.next((m) => m.janus === 'event');
      expect(event.sender).to.equal(handleId);
      expect(plugin.callsFor(handleId)).to.not.include('destroySession');
    } finally {
      await second.close();
    }
  });

  it('destroys an unclaimed session after the reclaim timeout', async () => {
    const client = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId, handleId } = await createAndAttach(client, TEST_PLUGIN_PACKAGE);
    await client.close();
    for (let i = 0; i < 100 && ts.server.core.getSession(sessionId); i++) await delay(30);
    expect(ts.server.core.getSession(sessionId)).to.equal(undefined);
    for (let i = 0; i < 50 && !plugin.callsFor(handleId).includes('destroySession'); i++) await delay(20);
    expect(plugin.callsFor(handleId)).to.deep.equal(['createSession', 'hangupMedia', 'destroySession']);
  });
});

describe('bad input on the WebSocket transport', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer({ config: { maxRequestBytes: 4096, maxRequestsPerSecond: 50 } });
  });

  after(async () => {
    await ts.close();
  });

  it('closes a connection that sends a frame above maxRequestBytes, and only that one', async () => {
    const bystander = await JanusWsClient.connect(ts.urls.ws);
    const offender = await JanusWsClient.connect(ts.urls.ws);
    try {
      const { sessionId } = await createAndAttach(bystander, TEST_PLUGIN_PACKAGE);
      offender.sendRaw(JSON.stringify({ janus: 'ping', transaction: 'big', pad: 'x'.repeat(8192) }));
      const closed = await Promise.race([offender.closed, delay(3000).then(() => null)]);
      expect(closed).to.not.equal(null);
      expect(offender.untaken().some((m) => m.transaction === 'big')).to.equal(false);
      expect((await bystander.request({ janus: 'keepalive', session_id: sessionId })).janus).to.equal('ack');
      expect(ts.log.find('websocket closed abnormally').length).to.be.greaterThan(0);
    } finally {
      await bystander.close();
      await offender.close();
    }
  });

  it('closes a flooding connection with a log line; other sessions are unaffected', async () => {
    const bystander = await JanusWsClient.connect(ts.urls.ws);
    const flooder = await JanusWsClient.connect(ts.urls.ws);
    try {
      const { sessionId } = await createAndAttach(bystander, TEST_PLUGIN_PACKAGE);
      const mine = await createAndAttach(flooder, TEST_PLUGIN_PACKAGE);
      for (let i = 0; i < 200 && flooder.isOpen; i++) flooder.send({ janus: 'ping', transaction: `f${i}` });
      const closed = await Promise.race([flooder.closed, delay(3000).then(() => null)]);
      expect(closed).to.not.equal(null);
      expect((closed as { code: number }).code).to.equal(1008);
      expect(ts.log.find('request flood').length).to.be.greaterThan(0);
      expect((await bystander.request({ janus: 'keepalive', session_id: sessionId })).janus).to.equal('ack');
      // The flooder's own session went with its connection.
      for (let i = 0; i < 50 && ts.server.core.getSession(mine.sessionId); i++) await delay(20);
      expect(ts.server.core.getSession(mine.sessionId)).to.equal(undefined);
    } finally {
      await bystander.close();
      await flooder.close();
    }
  });

  it('survives garbage of every kind on one connection', async () => {
    const client = await JanusWsClient.connect(ts.urls.ws);
    try {
      const garbage = ['', ' ', 'null', '42', '"str"', '{', '}', '{"janus":null,"transaction":null}', '\u0000\u0001', '{"a":1}{"b":'];
      for (const text of garbage) client.sendRaw(text);
      client.sendRaw(Buffer.from([0xff, 0xfe, 0x00]));
      await delay(100);
      const codes = client.untaken().map((m) => (m.error as JsonObject | undefined)?.code);
      // One error per frame, in order: '{"a":1}{"b":' runs nothing (one document does not
      // parse: the whole frame is refused), invalid UTF-8 is 454 too.
      expect(codes).to.deep.equal([454, 454, 455, 455, 455, 454, 454, 467, 454, 454, 454]);
      expect(await client.request({ janus: 'ping', transaction: 'alive' })).to.deep.equal({ janus: 'pong', transaction: 'alive' });
    } finally {
      await client.close();
    }
  });
});

/** POST with node:http from a chosen local address (a second "client machine" on loopback). */
function postFrom(localAddress: string, url: string, body: JsonObject): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', localAddress, agent: false, timeout: 5000 }, (res) => {
      let data = '';
      res.on('data', (chunk: Buffer) => { data += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(JSON.stringify(body));
  });
}

describe('bad input on the HTTP transport', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer({ config: { maxRequestsPerSecond: 20 } });
  });

  after(async () => {
    await ts.close();
  });

  it('answers a flooding address with 429 and a log line; other addresses are unaffected', async () => {
    // 60 requests at once: far more than 20 land in one second whatever the machine's load.
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) =>
      postFrom('127.0.0.1', ts.urls.http, { janus: 'ping', transaction: `f${i}` }).catch(() => ({ status: -1, body: '' }))));
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 200).length).to.be.at.least(20);
    expect(statuses.filter((status) => status === 429).length).to.be.greaterThan(0);
    expect(ts.log.find('request flood on HTTP').length).to.be.greaterThan(0);
    const bystander = await postFrom('127.0.0.2', ts.urls.http, { janus: 'ping', transaction: 'ok' });
    expect(bystander.status).to.equal(200);
    expect(JSON.parse(bystander.body)).to.deep.equal({ janus: 'pong', transaction: 'ok' });
  });
});
