// Security of the Janus API (issue 8): unguessable ids, sessions owned by their WebSocket
// connection (458 to everyone else until `claim`), strict parsing, HTTP/1.0 and Host-less
// requests, and the Admin API's Origin / CORS rules.

import { expect } from 'chai';
import { connect as netConnect } from 'node:net';
import WebSocket from 'ws';
import { defaultConfig } from '../src/config';
import type { JsonObject, JsonValue } from '../src/plugin/json';
import { JanusWsClient, createAndAttach, delay } from './support/janus-ws-client';
import { TEST_PLUGIN_PACKAGE, TestPlugin } from './support/test-plugin';
import { TEST_ADMIN_SECRET, type TestServer, startTestServer } from './support/test-server';

async function postJson(url: string, body: JsonValue | string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: JsonObject | undefined }> {
  const response = await fetch(url, {
    method: 'POST',
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    headers,
    signal: AbortSignal.timeout(5000),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as JsonObject) : undefined };
}

/** Sends raw bytes over TCP and returns everything the server answered before closing (or 2 s). */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', reject);
  });
}

function errorCode(reply: JsonObject | undefined): number | undefined {
  return ((reply?.error as JsonObject | undefined)?.code as number | undefined);
}

describe('security: session ownership', () => {
  let ts: TestServer;
  const clients: JanusWsClient[] = [];

  before(async () => {
    ts = await startTestServer({ plugins: [new TestPlugin()] });
  });

  after(async () => {
    for (const client of clients) await client.close();
    await ts.close();
  });

  async function connect(): Promise<JanusWsClient> {
    const client = await JanusWsClient.connect(ts.urls.ws);
    clients.push(client);
    return client;
  }

  it('an attacker that collects ids can neither predict nor use another connection\'s session', async () => {
    const attacker = await connect();
    const victim = await connect();
    const collected: number[] = [];
    for (let i = 0; i < 24; i++) {
      const created = await attacker.request({ janus: 'create' });
      collected.push((created.data as JsonObject).id as number);
    }
    const { sessionId, handleId } = await createAndAttach(victim, TEST_PLUGIN_PACKAGE);
    const all = [...collected, sessionId];
    expect(new Set(all).size).to.equal(all.length);
    for (const id of all) expect(Number.isSafeInteger(id) && id >= 1 && id <= 2 ** 53 - 1).to.equal(true);
    // Guesses an attacker would try: neighbours of what it saw, and of the victim's id.
    const guesses = new Set<number>();
    for (const id of collected) for (const d of [1, 2, 3, -1, -2]) guesses.add(id + d);
    const last = collected[collected.length - 1] as number;
    guesses.add(2 * last - (collected[collected.length - 2] as number));
    guesses.delete(sessionId);
    for (const guess of guesses) {
      if (collected.includes(guess)) continue;
      const reply = await attacker.request({ janus: 'keepalive', session_id: guess });
      expect(errorCode(reply), `guess ${guess}`).to.equal(458);
    }
    // Even knowing the victim's real ids, every verb is refused like an unknown id.
    const verbs: JsonObject[] = [
      { janus: 'keepalive', session_id: sessionId },
      { janus: 'attach', session_id: sessionId, plugin: TEST_PLUGIN_PACKAGE },
      { janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'sync' } },
      { janus: 'trickle', session_id: sessionId, handle_id: handleId, candidate: { completed: true } },
      { janus: 'hangup', session_id: sessionId, handle_id: handleId },
      { janus: 'detach', session_id: sessionId, handle_id: handleId },
      { janus: 'destroy', session_id: sessionId },
    ];
    for (const verb of verbs) {
      const reply = await attacker.request(verb);
      expect(reply.error, `${verb.janus as string}`).to.deep.equal({ code: 458, reason: `No such session ${sessionId}` });
    }
    const unknown = await attacker.request({ janus: 'keepalive', session_id: 12345 });
    expect(unknown.error).to.deep.equal({ code: 458, reason: 'No such session 12345' });
    // The victim is untouched.
    expect(ts.server.core.getSession(sessionId)?.handles.has(handleId)).to.equal(true);
    expect((await victim.request({ janus: 'keepalive', session_id: sessionId })).janus).to.equal('ack');
    const sync = await victim.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'sync' } });
    expect(sync.janus).to.equal('success');
  });

  it('refuses foreign requests over HTTP with 458 while the WebSocket owner keeps working', async () => {
    const owner = await connect();
    const { sessionId, handleId } = await createAndAttach(owner, TEST_PLUGIN_PACKAGE);
    const session = await postJson(`${ts.urls.http}/${sessionId}`, { janus: 'keepalive', transaction: 'h1' });
    expect(session.body?.error).to.deep.equal({ code: 458, reason: `No such session ${sessionId}` });
    const handle = await postJson(`${ts.urls.http}/${sessionId}/${handleId}`, { janus: 'message', body: { request: 'sync' }, transaction: 'h2' });
    expect(errorCode(handle.body)).to.equal(458);
    const destroy = await postJson(`${ts.urls.http}/${sessionId}`, { janus: 'destroy', transaction: 'h3' });
    expect(errorCode(destroy.body)).to.equal(458);
    // A long poll for it finds no HTTP queue.
    const poll = await fetch(`${ts.urls.http}/${sessionId}`, { signal: AbortSignal.timeout(5000) });
    expect(poll.status).to.equal(404);
    expect((await owner.request({ janus: 'keepalive', session_id: sessionId })).janus).to.equal('ack');
    const reply = await owner.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'async' } });
    expect(reply.janus).to.equal('ack');
    await owner.next((m) => m.janus === 'event' && m.sender === handleId);
  });

  it('keeps sessions created over HTTP bearer sessions (any client with the id)', async () => {
    const created = await postJson(ts.urls.http, { janus: 'create', transaction: 'b1' });
    const sessionId = (created.body?.data as JsonObject).id as number;
    const other = await connect();
    const attached = await other.request({ janus: 'attach', session_id: sessionId, plugin: TEST_PLUGIN_PACKAGE });
    expect(attached.janus).to.equal('success');
    const again = await postJson(`${ts.urls.http}/${sessionId}`, { janus: 'keepalive', transaction: 'b2' });
    expect(again.body?.janus).to.equal('ack');
  });

  it('claim moves a session to another connection: events follow, the old owner gets 458', async () => {
    const first = await connect();
    const second = await connect();
    const { sessionId, handleId } = await createAndAttach(first, TEST_PLUGIN_PACKAGE);
    const claimed = await second.request({ janus: 'claim', session_id: sessionId });
    expect(claimed).to.deep.include({ janus: 'success', session_id: sessionId });
    const old = await first.request({ janus: 'keepalive', session_id: sessionId });
    expect(old.error).to.deep.equal({ code: 458, reason: `No such session ${sessionId}` });
    const reply = await second.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'async' }, transaction: 'moved' });
    expect(reply.janus).to.equal('ack');
    const event = await second.next((m) => m.janus === 'event' && m.transaction === 'moved');
    expect(event.session_id).to.equal(sessionId);
    await delay(50);
    expect(first.untaken().filter((m) => m.janus === 'event')).to.deep.equal([]);
    // Claimed over HTTP, it becomes a bearer session whose events go to the HTTP queue.
    const overHttp = await postJson(`${ts.urls.http}/${sessionId}`, { janus: 'claim', transaction: 'c2' });
    expect(overHttp.body).to.deep.include({ janus: 'success', session_id: sessionId });
    const viaHttp = await postJson(`${ts.urls.http}/${sessionId}/${handleId}`, { janus: 'message', body: { request: 'async' }, transaction: 'h' });
    expect(viaHttp.body?.janus).to.equal('ack');
    const poll = await fetch(`${ts.urls.http}/${sessionId}?maxev=5`, { signal: AbortSignal.timeout(5000) });
    const events = (await poll.json()) as JsonObject[];
    expect(events.some((m) => m.janus === 'event' && m.transaction === 'h')).to.equal(true);
    await delay(50);
    expect(second.untaken().filter((m) => m.transaction === 'h')).to.deep.equal([]);
  });
});

describe('security: claim and authentication', () => {
  let ts: TestServer;
  const clients: JanusWsClient[] = [];

  before(async () => {
    ts = await startTestServer({ plugins: [new TestPlugin()], config: { apiSecret: 'topsecret' } });
  });

  after(async () => {
    for (const client of clients) await client.close();
    await ts.close();
  });

  it('claim needs the api secret when one is configured', async () => {
    const first = await JanusWsClient.connect(ts.urls.ws);
    const second = await JanusWsClient.connect(ts.urls.ws);
    clients.push(first, second);
    const created = await first.request({ janus: 'create', apisecret: 'topsecret' });
    const sessionId = (created.data as JsonObject).id as number;
    expect(errorCode(await second.request({ janus: 'claim', session_id: sessionId }))).to.equal(403);
    expect(errorCode(await second.request({ janus: 'claim', session_id: sessionId, apisecret: 'wrong' }))).to.equal(403);
    expect((await first.request({ janus: 'keepalive', session_id: sessionId, apisecret: 'topsecret' })).janus).to.equal('ack');
    expect((await second.request({ janus: 'claim', session_id: sessionId, apisecret: 'topsecret' })).janus).to.equal('success');
    expect((await second.request({ janus: 'keepalive', session_id: sessionId, apisecret: 'topsecret' })).janus).to.equal('ack');
  });
});

describe('security: strict parsing', () => {
  let ts: TestServer;
  let client: JanusWsClient;

  before(async () => {
    ts = await startTestServer({ plugins: [new TestPlugin()] });
    client = await JanusWsClient.connect(ts.urls.ws);
  });

  after(async () => {
    await client.close();
    await ts.close();
  });

  it('runs no document of a WebSocket frame unless all of them parse', async () => {
    const before = ts.server.core.sessionIds().length;
    client.sendRaw('{"janus":"create","transaction":"frame1"}garbage');
    client.sendRaw('{"janus":"create","transaction":"frame2"} {"janus":"ping","transaction":"p"} {');
    await delay(150);
    const frames = client.untaken();
    expect(frames.map((m) => errorCode(m))).to.deep.equal([454, 454]);
    expect(frames.some((m) => m.transaction !== undefined)).to.equal(false);
    expect(ts.server.core.sessionIds().length).to.equal(before);
    client.received.length = 0;
    // A frame whose documents all parse runs them all, in order.
    client.sendRaw('{"janus":"ping","transaction":"a"}{"janus":"ping","transaction":"b"}');
    expect((await client.next((m) => m.transaction === 'a')).janus).to.equal('pong');
    expect((await client.next((m) => m.transaction === 'b')).janus).to.equal('pong');
  });

  it('refuses lone surrogates, NUL and invalid UTF-8 with 454 over WebSocket', async () => {
    const frames: Array<string | Buffer> = [
      '{"janus":"ping","transaction":"\\ud800"}',
      '{"janus":"ping","transaction":"x\\udc00y"}',
      '{"janus":"ping","transaction":"nul\\u0000"}',
      '{"janus":"ping","transaction":"k","\\ud83d":1}',
      Buffer.concat([Buffer.from('{"janus":"ping","transaction":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"janus":"ping","transaction":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
    ];
    client.received.length = 0;
    for (const frame of frames) client.sendRaw(frame);
    await delay(150);
    expect(client.untaken().map((m) => errorCode(m))).to.deep.equal([454, 454, 454, 454, 454, 454]);
    // A valid surrogate pair (an emoji) is fine.
    expect((await client.request({ janus: 'ping', transaction: 'ok \ud83d\ude00' })).janus).to.equal('pong');
  });

  it('refuses lone surrogates, NUL and invalid UTF-8 with 454 over HTTP', async () => {
    const bodies: Array<string | Buffer> = [
      '{"janus":"create","transaction":"\\ud800"}',
      '{"janus":"create","transaction":"a\\u0000"}',
      Buffer.concat([Buffer.from('{"janus":"create","transaction":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    ];
    const before = ts.server.core.sessionIds().length;
    for (const body of bodies) {
      const reply = await postJson(ts.urls.http, body);
      expect(errorCode(reply.body)).to.equal(454);
    }
    expect(ts.server.core.sessionIds().length).to.equal(before);
  });

  it('accepts loop_index only as an integer from 0 to 2^31-1', async () => {
    const created = await client.request({ janus: 'create' });
    const sessionId = (created.data as JsonObject).id as number;
    for (const bad of [-1, 2 ** 31, 2 ** 64, 1.5, '1']) {
      const reply = await client.request({ janus: 'attach', session_id: sessionId, plugin: TEST_PLUGIN_PACKAGE, loop_index: bad });
      expect(reply.error, String(bad)).to.deep.equal({ code: 467, reason: 'Invalid element type (loop_index should be an integer from 0 to 2147483647)' });
    }
    for (const good of [0, 2 ** 31 - 1]) {
      const reply = await client.request({ janus: 'attach', session_id: sessionId, plugin: TEST_PLUGIN_PACKAGE, loop_index: good });
      expect(reply.janus).to.equal('success');
    }
  });

  it('answers HEAD with headers only', async () => {
    const answer = await rawHttp(ts.ports.http, 'HEAD /janus HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).to.match(/^HTTP\/1\.1 \d{3} /);
    expect(body).to.equal('');
  });

  it('answers HTTP/1.0 requests, and HTTP/1.1 without Host with 400', async () => {
    const body = '{"janus":"ping","transaction":"old"}';
    const old = await rawHttp(ts.ports.http, `POST /janus HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expect(old).to.match(/^HTTP\/1\.1 200 OK\r\n/);
    expect(JSON.parse(old.split('\r\n\r\n')[1] as string)).to.deep.equal({ janus: 'pong', transaction: 'old' });
    const info = await rawHttp(ts.ports.http, 'GET /janus/info HTTP/1.0\r\n\r\n');
    expect(JSON.parse(info.split('\r\n\r\n')[1] as string).janus).to.equal('server_info');
    const noHost = await rawHttp(ts.ports.http, `POST /janus HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expect(noHost).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });
});

describe('security: Admin API defaults', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer({ plugins: [new TestPlugin()], config: { adminAllowedOrigins: ['https://ops.example.org'] } });
  });

  after(async () => {
    await ts.close();
  });

  it('sends no wildcard CORS; only an allowed Origin is echoed, others get 403 and nothing runs', async () => {
    const list = { janus: 'list_sessions', transaction: 'l', admin_secret: TEST_ADMIN_SECRET };
    const plain = await postJson(ts.urls.adminHttp, list);
    expect(plain.status).to.equal(200);
    expect(plain.headers.get('access-control-allow-origin')).to.equal(null);
    const allowed = await postJson(ts.urls.adminHttp, list, { Origin: 'https://ops.example.org' });
    expect(allowed.headers.get('access-control-allow-origin')).to.equal('https://ops.example.org');
    // A cross-origin text/plain POST (no preflight in a browser) is refused before it runs.
    const before = ts.server.core.acceptingNewSessions;
    const foreign = await postJson(
      ts.urls.adminHttp,
      JSON.stringify({ janus: 'accept_new_sessions', accept: !before, transaction: 'x', admin_secret: TEST_ADMIN_SECRET }),
      { Origin: 'https://evil.example.com', 'Content-Type': 'text/plain' },
    );
    expect(foreign.status).to.equal(403);
    expect(foreign.headers.get('access-control-allow-origin')).to.equal(null);
    expect(ts.server.core.acceptingNewSessions).to.equal(before);
    const preflight = await fetch(ts.urls.adminHttp, {
      method: 'OPTIONS', headers: { Origin: 'https://evil.example.com', 'Access-Control-Request-Method': 'POST' }, signal: AbortSignal.timeout(5000),
    });
    expect(preflight.status).to.equal(403);
    // The Janus API keeps Janus's wildcard.
    const janus = await postJson(ts.urls.http, { janus: 'ping', transaction: 'p' }, { Origin: 'https://any.example.com' });
    expect(janus.headers.get('access-control-allow-origin')).to.equal('*');
  });

  it('checks the Admin WebSocket Origin against the allow-list', async () => {
    const open = (origin?: string): Promise<number> => new Promise((resolve) => {
      const socket = new WebSocket(ts.urls.adminWs, 'janus-admin-protocol', origin ? { origin } : {});
      socket.once('open', () => {
        socket.close();
        resolve(101);
      });
      socket.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        socket.terminate();
      });
      socket.once('error', () => resolve(-1));
    });
    expect(await open('https://evil.example.com')).to.equal(403);
    expect(await open('https://ops.example.org')).to.equal(101);
    expect(await open()).to.equal(101);
  });

  it('binds the Admin API to adminListenIp (127.0.0.1 by default), not to listenIp', async () => {
    expect(defaultConfig().adminListenIp).to.equal('127.0.0.1');
    // The Janus API on another loopback address: the Admin listeners stay on 127.0.0.1.
    const other = await startTestServer({ plugins: [new TestPlugin()], config: { listenIp: '127.0.0.2' } });
    try {
      const reachable = async (host: string, port: number): Promise<boolean> => {
        try {
          await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(3000) });
          return true;
        } catch {
          return false;
        }
      };
      expect(await reachable('127.0.0.2', other.ports.http)).to.equal(true);
      expect(await reachable('127.0.0.1', other.ports.http)).to.equal(false);
      expect(await reachable('127.0.0.1', other.ports.adminHttp)).to.equal(true);
      expect(await reachable('127.0.0.2', other.ports.adminHttp)).to.equal(false);
      expect(await reachable('127.0.0.2', other.ports.adminWebsocket)).to.equal(false);
    } finally {
      await other.close();
    }
  });
});
