// The core without transports (an embedding application feeding it Janus API messages),
// the pure protocol helpers, api_secret, accept_new_sessions, and LuasfuServer lifecycle.

import { expect } from 'chai';
import { AdminApi } from '../src/janus/admin';
import type { TransportConnection } from '../src/janus/connection';
import { JanusCore } from '../src/janus/core';
import { parseJsonDocuments } from '../src/janus/json-documents';
import { randomId53, validateFields } from '../src/janus/protocol';
import { parseTrickleCandidate } from '../src/janus/trickle';
import type { JsonObject } from '../src/plugin/json';
import type { Plugin, PluginHost } from '../src/plugin/plugin';
import { LuasfuServer } from '../src/server';
import { parseJanusPath, parseMaxEvents, parsePathId } from '../src/transports/http-path';
import { FakeMediaPlane } from './support/fake-media-plane';
import { JanusWsClient, delay } from './support/janus-ws-client';
import { captureLogger } from './support/log-capture';
import { TEST_PLUGIN_PACKAGE, TestPlugin } from './support/test-plugin';
import { startTestServer, testConfig } from './support/test-server';

/** An embedder's connection: collects what the core sends. */
function memoryConnection(id = 'embedded'): TransportConnection & { sent: JsonObject[]; over: Array<[number, string]> } {
  const sent: JsonObject[] = [];
  const over: Array<[number, string]> = [];
  return {
    id,
    transport: 'janus.transport.embedded',
    sent,
    over,
    send: (message) => { sent.push(message); },
    sessionOver: (sessionId, reason) => { over.push([sessionId, reason]); },
  };
}

describe('Janus core, embedded (no transports)', () => {
  let core: JanusCore;
  let plugin: TestPlugin;

  beforeEach(async () => {
    core = new JanusCore({ logger: captureLogger().logger, mediaPlane: new FakeMediaPlane() });
    plugin = new TestPlugin();
    await core.addPlugin(plugin);
    core.start();
  });

  afterEach(async () => {
    await core.stop();
  });

  it('accepts parsed requests and returns (and sends) the replies', async () => {
    const connection = memoryConnection();
    const created = await core.handleRequest(connection, { janus: 'create', transaction: 'c' });
    const sessionId = (created.data as JsonObject).id as number;
    const attached = await core.handleRequest(connection, { janus: 'attach', session_id: sessionId, plugin: TEST_PLUGIN_PACKAGE, transaction: 'a' });
    const handleId = (attached.data as JsonObject).id as number;
    await core.handleRequest(connection, { janus: 'message', session_id: sessionId, handle_id: handleId, body: { request: 'async' }, transaction: 'm' });
    for (let i = 0; i < 50 && !connection.sent.some((m) => m.janus === 'event'); i++) await delay(5);
    expect(connection.sent.map((m) => m.janus)).to.deep.equal(['success', 'success', 'ack', 'event']);
    await core.handleRequest(connection, { janus: 'destroy', session_id: sessionId, transaction: 'd' });
    expect(connection.over).to.deep.equal([[sessionId, 'destroyed']]);
  });

  it('can send replies elsewhere than the connection', async () => {
    const connection = memoryConnection();
    const replies: JsonObject[] = [];
    await core.handleRequest(connection, { janus: 'ping', transaction: 'p' }, (reply) => replies.push(reply));
    expect(replies).to.deep.equal([{ janus: 'pong', transaction: 'p' }]);
    expect(connection.sent).to.deep.equal([]);
  });

  it('handles text frames with several documents', async () => {
    const connection = memoryConnection();
    const replies = await core.handleText(connection, '{"janus":"ping","transaction":"1"} {"janus":"ping","transaction":"2"}');
    expect(replies).to.deep.equal([{ janus: 'pong', transaction: '1' }, { janus: 'pong', transaction: '2' }]);
  });

  it('refuses a second plugin with the same package', async () => {
    const error = await core.addPlugin(new TestPlugin()).then(() => null, (e: Error) => e.message);
    expect(error).to.equal(`a plugin is already registered as ${TEST_PLUGIN_PACKAGE}`);
  });

  it('gives plugins a host whose pushEvent is -2 for handles of other plugins', async () => {
    const other = new TestPlugin('janus.plugin.other');
    await core.addPlugin(other);
    const connection = memoryConnection();
    const created = await core.handleRequest(connection, { janus: 'create', transaction: 'c' });
    const sessionId = (created.data as JsonObject).id as number;
    const attached = await core.handleRequest(connection, { janus: 'attach', session_id: sessionId, plugin: TEST_PLUGIN_PACKAGE, transaction: 'a' });
    const handleId = (attached.data as JsonObject).id as number;
    expect((other.host as PluginHost).pushEvent(handleId, undefined, { x: 1 })).to.equal(-2);
    expect((plugin.host as PluginHost).pushEvent(handleId, undefined, { x: 1 })).to.equal(0);
    expect((plugin.host as PluginHost).eventsIsEnabled()).to.equal(false);
  });

  it('answers 472 when not accepting new sessions (admin accept_new_sessions)', async () => {
    const admin = new AdminApi({ core, adminSecret: '', logger: captureLogger().logger });
    const connection = memoryConnection();
    expect(await admin.handleRequest(connection, { janus: 'accept_new_sessions', accept: false, transaction: 'x' })).to.deep.equal({
      janus: 'success', transaction: 'x', accept: false,
    });
    expect(await core.handleRequest(connection, { janus: 'create', transaction: 'c' })).to.deep.equal({
      janus: 'error', transaction: 'c', error: { code: 472, reason: 'Currently not accepting new sessions' },
    });
  });
});

describe('api_secret', () => {
  it('requires apisecret on everything but info and ping, including long polls', async () => {
    const ts = await startTestServer({ config: { apiSecret: 's3cret' } });
    try {
      const client = await JanusWsClient.connect(ts.urls.ws);
      try {
        expect((await client.request({ janus: 'ping' })).janus).to.equal('pong');
        expect((await client.request({ janus: 'info' })).api_secret).to.equal(true);
        expect(await client.request({ janus: 'create', transaction: 'c' })).to.deep.equal({
          janus: 'error', transaction: 'c', error: { code: 403, reason: 'Unauthorized request (wrong or missing secret/token)' },
        });
        const created = await client.request({ janus: 'create', apisecret: 's3cret' });
        const sessionId = (created.data as JsonObject).id as number;
        expect((await client.request({ janus: 'keepalive', session_id: sessionId, apisecret: 'wrong', transaction: 'k' })).error).to.deep.equal({
          code: 403, reason: 'Unauthorized request (wrong or missing secret/token)',
        });
      } finally {
        await client.close();
      }
      const created = await fetch(ts.urls.http, { method: 'POST', body: JSON.stringify({ janus: 'create', transaction: 'h', apisecret: 's3cret' }) });
      const sessionId = (((await created.json()) as JsonObject).data as JsonObject).id as number;
      expect((await fetch(`${ts.urls.http}/${sessionId}`)).status).to.equal(403);
    } finally {
      await ts.close();
    }
  });
});

describe('LuasfuServer lifecycle', () => {
  it('starts only the enabled listeners and reports their real ports', async () => {
    const server = new LuasfuServer({
      config: testConfig({ adminHttp: { enabled: false, port: 0, path: '/admin' }, adminWebsocket: { enabled: false, port: 0 } }),
      plugins: [new TestPlugin()],
      mediaPlane: new FakeMediaPlane(),
    });
    const ports = await server.start();
    try {
      expect(Object.keys(ports).sort()).to.deep.equal(['http', 'websocket']);
      expect(ports.http).to.be.a('number').and.not.equal(0);
      expect(ports.websocket).to.be.a('number').and.not.equal(ports.http);
      const info = await server.core.handleRequest(memoryConnection(), { janus: 'info', transaction: 'i' });
      expect(Object.keys(info.transports as JsonObject).sort()).to.deep.equal(['janus.transport.http', 'janus.transport.websockets']);
    } finally {
      await server.stop();
    }
  });

  it('stop() hangs up and detaches handles, destroys plugins, closes connections and listeners', async () => {
    const plugin = new TestPlugin();
    const ts = await startTestServer({ plugins: [plugin] });
    const plane = ts.mediaPlane as FakeMediaPlane;
    const client = await JanusWsClient.connect(ts.urls.ws);
    const created = await client.request({ janus: 'create' });
    const sessionId = (created.data as JsonObject).id as number;
    const attached = await client.request({ janus: 'attach', session_id: sessionId, plugin: TEST_PLUGIN_PACKAGE });
    const handleId = (attached.data as JsonObject).id as number;
    await ts.close();
    expect(plugin.callsFor(handleId)).to.deep.equal(['createSession', 'hangupMedia', 'destroySession']);
    expect(plugin.destroyed).to.equal(true);
    expect(plane.closed).to.equal(true);
    expect(plane.peer(handleId).closed).to.equal(true);
    const closed = await Promise.race([client.closed, delay(2000).then(() => null)]);
    expect(closed).to.not.equal(null);
    const refused = await fetch(`${ts.urls.http}/info`).then(() => false, () => true);
    expect(refused).to.equal(true);
  });

  it('rejects start() when a plugin fails to init, leaving nothing listening', async () => {
    const broken: Plugin = Object.assign(new TestPlugin('janus.plugin.broken'), {
      init: async (): Promise<void> => { throw new Error('cannot start'); },
    });
    const good = new TestPlugin();
    const server = new LuasfuServer({ config: testConfig(), plugins: [good, broken], mediaPlane: new FakeMediaPlane() });
    const error = await server.start().then(() => null, (e: Error) => e.message);
    expect(error).to.equal('cannot start');
    expect(server.ports).to.deep.equal({});
    expect(good.destroyed).to.equal(true);
  });
});

describe('protocol helpers', () => {
  it('splits frames into JSON documents and stops at the first bad one', () => {
    expect(parseJsonDocuments('{"a":"}{"} [1,{"b":[2]}] "x" 3')).to.deep.equal([
      { ok: true, value: { a: '}{' } }, { ok: true, value: [1, { b: [2] }] }, { ok: true, value: 'x' }, { ok: true, value: 3 },
    ]);
    const bad = parseJsonDocuments('{"a":1} {"b":');
    expect(bad).to.have.length(2);
    expect(bad[1].ok).to.equal(false);
    expect(parseJsonDocuments('   ')).to.deep.equal([{ ok: false, error: 'empty request' }]);
    expect(parseJsonDocuments('{"s":"a\\"}"}')).to.deep.equal([{ ok: true, value: { s: 'a"}' } }]);
    // A text handed over as a string (not decoded bytes) may hold a lone surrogate itself, no
    // escape needed: refused like the escaped one; a raw pair and escaped text are fine.
    expect(parseJsonDocuments('{"t":"a\uD800"}')).to.deep.equal([{ ok: false, error: 'string with a lone surrogate or NUL' }]);
    expect(parseJsonDocuments('{"\uDC00":1} {"a":2}')).to.deep.equal([{ ok: false, error: 'key with a lone surrogate or NUL' }]);
    expect(parseJsonDocuments('{"t":"\\u0000"}')).to.deep.equal([{ ok: false, error: 'string with a lone surrogate or NUL' }]);
    expect(parseJsonDocuments('{"a":1} {"t":"\\ud800"}')).to.deep.equal([
      { ok: true, value: { a: 1 } }, { ok: false, error: 'string with a lone surrogate or NUL' },
    ]);
    expect(parseJsonDocuments('{"t":"\uD83D\uDE00 \\u00e9"}')).to.deep.equal([{ ok: true, value: { t: '\u{1F600} é' } }]);
  });

  it('validates fields with Janus error texts', () => {
    const thrown = (fn: () => void): string => { try { fn(); return 'none'; } catch (e) { return `${(e as { code: number }).code} ${(e as Error).message}`; } };
    expect(thrown(() => validateFields({}, [{ name: 'x', type: 'string', required: true }]))).to.equal('456 Missing mandatory element (x)');
    expect(thrown(() => validateFields({ x: 1 }, [{ name: 'x', type: 'array' }]))).to.equal('467 Invalid element type (x should be an array)');
    expect(thrown(() => validateFields({ x: 0 }, [{ name: 'x', type: 'positive integer' }]))).to.equal('467 Invalid element type (x should be a positive integer)');
    expect(thrown(() => validateFields({}, [{ name: 'sdp', type: 'string', required: true }], 'JSEP error'))).to.equal('456 JSEP error: missing mandatory element (sdp)');
  });

  it('draws ids within 2^53, unique and independent of Math.random', () => {
    const original = Math.random;
    // A constant Math.random must not make ids repeat: they come from the CSPRNG.
    Math.random = () => 0.5;
    const seen = new Set<number>();
    let highHalf = 0;
    try {
      for (let i = 0; i < 2000; i++) {
        const id = randomId53();
        expect(Number.isSafeInteger(id) && id >= 1 && id <= 2 ** 53 - 1).to.equal(true);
        seen.add(id);
        if (id >= 2 ** 52) highHalf++;
      }
    } finally {
      Math.random = original;
    }
    expect(seen.size).to.equal(2000);
    // The top bit is set about half the time: all 53 bits are used.
    expect(highHalf).to.be.within(850, 1150);
  });

  it('parses trickle candidates', () => {
    expect(parseTrickleCandidate(null)).to.equal(null);
    expect(parseTrickleCandidate({ completed: true })).to.equal(null);
    expect(parseTrickleCandidate({ candidate: 'c', sdpMLineIndex: 0 })).to.deep.equal({ candidate: 'c', sdpMLineIndex: 0 });
    expect(() => parseTrickleCandidate({ candidate: 'c', sdpMLineIndex: -1 })).to.throw('sdpMLineIndex should be a positive integer');
  });

  it('parses REST paths', () => {
    expect(parseJanusPath('/janus', '/janus')).to.deep.equal({ kind: 'ok', session: undefined, handle: undefined });
    expect(parseJanusPath('/janus/', '/janus')).to.deep.equal({ kind: 'ok', session: undefined, handle: undefined });
    expect(parseJanusPath('/janus/12', '/janus')).to.deep.equal({ kind: 'ok', session: '12', handle: undefined });
    expect(parseJanusPath('/janus/12/34', '/janus')).to.deep.equal({ kind: 'ok', session: '12', handle: '34' });
    expect(parseJanusPath('/janus/12/34/56', '/janus')).to.deep.equal({ kind: 'not-found' });
    expect(parseJanusPath('/janusx', '/janus')).to.deep.equal({ kind: 'not-found' });
    expect(parseJanusPath('/other', '/janus')).to.deep.equal({ kind: 'not-found' });
    expect(parsePathId('0')).to.equal(undefined);
    expect(parsePathId('12a')).to.equal(undefined);
    expect(parsePathId('9007199254740993')).to.equal(undefined);
    expect(parsePathId('42')).to.equal(42);
    expect(parseMaxEvents('0')).to.equal(1);
    expect(parseMaxEvents('10')).to.equal(10);
    expect(parseMaxEvents('junk')).to.equal(1);
  });
});
