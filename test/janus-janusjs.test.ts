// The real janus.js (Debian's libjs-janus-gateway 1.1.2) against luasfu, over WebSocket and
// over HTTP long polls, without media: create, attach, synchronous and asynchronous messages,
// the keepalive/long-poll machinery, detach and destroy. janus.js runs in a vm context with
// the few browser globals it touches at that level.

import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vm from 'node:vm';
import WebSocket from 'ws';
import type { JsonObject } from '../src/plugin/json';
import { TEST_PLUGIN_PACKAGE, TestPlugin } from './support/test-plugin';
import { type TestServer, startTestServer } from './support/test-server';

const CANDIDATES = [
  join(__dirname, '..', '..', 'test', '.fixtures', 'janus.js'),
  '/usr/share/javascript/janus-gateway/janus.js',
];

type Callback = (...args: never[]) => void;

interface JanusPluginHandle {
  getId(): number;
  send(options: { message: JsonObject; success?: (result: JsonObject) => void; error?: (error: string) => void }): void;
  detach(options: { success?: Callback; error?: (error: string) => void }): void;
}

interface JanusSession {
  getSessionId(): number;
  attach(options: {
    plugin: string;
    opaqueId?: string;
    success: (handle: JanusPluginHandle) => void;
    error: (error: string) => void;
    onmessage?: (message: JsonObject, jsep?: JsonObject) => void;
    ondetached?: () => void;
  }): void;
  destroy(options: { success?: Callback; error?: (error: string) => void }): void;
}

interface JanusStatic {
  init(options: { debug: boolean; dependencies: unknown; callback: () => void }): void;
  useDefaultDependencies(deps: JsonObject | Record<string, unknown>): unknown;
  new (options: Record<string, unknown>): JanusSession;
}

function loadJanusJs(source: string): JanusStatic {
  const context = vm.createContext({
    window: { addEventListener: () => undefined, RTCPeerConnection: function RTCPeerConnection() { /* stub */ } },
    navigator: { userAgent: 'Node.js', platform: 'Linux' },
    console, clearTimeout, clearInterval, Promise, fetch,
    // janus.js leaves its long-poll timeout timer running after destroy: never let its timers hold the process.
    setTimeout: (fn: () => void, ms?: number) => setTimeout(fn, ms).unref(),
    setInterval: (fn: () => void, ms?: number) => setInterval(fn, ms).unref(),
  });
  vm.runInContext(source, context, { filename: 'janus.js' });
  const Janus = (context as { Janus?: JanusStatic }).Janus;
  if (!Janus) throw new Error('janus.js did not define Janus');
  return Janus;
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);
}

describe('janus.js against luasfu', function () {
  let ts: TestServer;
  let plugin: TestPlugin;
  let Janus: JanusStatic;

  before(async function () {
    const path = CANDIDATES.find((candidate) => existsSync(candidate));
    if (!path) {
      // Fetched by scripts/test-setup.mjs; nothing to test against without it.
      this.skip();
      return;
    }
    Janus = loadJanusJs(readFileSync(path, 'utf8'));
    await withTimeout(new Promise<void>((resolve) => Janus.init({
      debug: false,
      dependencies: Janus.useDefaultDependencies({
        fetch, WebSocket, Promise, adapter: { browserDetails: { browser: 'chrome', version: 120 } },
      }),
      callback: resolve,
    })), 'Janus.init');
    plugin = new TestPlugin();
    ts = await startTestServer({ plugins: [plugin], longPollHoldMs: 30_000 });
  });

  after(async () => {
    await ts?.close();
  });

  for (const transport of ['websocket', 'http'] as const) {
    it(`creates, attaches, messages, detaches and destroys over ${transport}`, async () => {
      const server = transport === 'websocket' ? ts.urls.ws : ts.urls.http;
      let destroyed = false;
      const janus = await withTimeout(new Promise<JanusSession>((resolve, reject) => {
        const session: JanusSession = new Janus({
          server, iceServers: [], success: () => resolve(session), error: reject,
          destroyed: () => { destroyed = true; },
        });
      }), 'create');
      const sessionId = janus.getSessionId();
      expect(ts.server.core.sessionIds()).to.include(sessionId);

      const events: JsonObject[] = [];
      const handle = await withTimeout(new Promise<JanusPluginHandle>((resolve, reject) => {
        janus.attach({
          plugin: TEST_PLUGIN_PACKAGE, opaqueId: `janusjs-${transport}`, success: resolve, error: reject,
          onmessage: (message) => events.push(message),
        });
      }), 'attach');
      expect(plugin.calls.find((c) => c.callback === 'createSession' && c.handle === handle.getId())?.detail).to.equal(`janusjs-${transport}`);

      const sync = await withTimeout(new Promise<JsonObject>((resolve, reject) => {
        handle.send({ message: { request: 'sync', via: transport }, success: resolve, error: reject });
      }), 'sync message');
      expect(sync).to.deep.equal({ testecho: 'sync', echo: { request: 'sync', via: transport } });

      await withTimeout(new Promise<void>((resolve, reject) => {
        handle.send({ message: { request: 'events', count: 4 }, success: () => resolve(), error: reject });
      }), 'async message');
      for (let i = 0; i < 100 && events.length < 4; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(events.map((event) => event.seq)).to.deep.equal([0, 1, 2, 3]);

      const failed = await withTimeout(new Promise<string>((resolve) => {
        handle.send({ message: { request: 'error' }, success: () => resolve('no error'), error: resolve });
      }), 'error message');
      expect(failed).to.equal('462 test plugin error');

      await withTimeout(new Promise<void>((resolve, reject) => handle.detach({ success: () => resolve(), error: reject })), 'detach');
      for (let i = 0; i < 50 && !plugin.callsFor(handle.getId()).includes('destroySession'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(plugin.callsFor(handle.getId())).to.deep.equal([
        'createSession', 'handleMessage', 'handleMessage', 'handleMessage', 'hangupMedia', 'destroySession',
      ]);

      await withTimeout(new Promise<void>((resolve, reject) => janus.destroy({ success: () => resolve(), error: reject })), 'destroy');
      expect(destroyed).to.equal(true);
      expect(ts.server.core.sessionIds()).to.not.include(sessionId);
    });
  }
});

describe('janus.js with token auth (its token option, unchanged)', function () {
  const SECRET = 'janusjs-token-secret';
  let ts: TestServer;
  let Janus: JanusStatic;

  /** A Janus 1.x signed token, computed independently of the server's code. */
  function sign(expiry: number, plugins: string[]): string {
    const data = [String(expiry), 'janus', ...plugins].join(',');
    return `${data}:${createHmac('sha1', SECRET).update(data).digest('base64')}`;
  }

  before(async function () {
    const path = CANDIDATES.find((candidate) => existsSync(candidate));
    if (!path) {
      this.skip();
      return;
    }
    Janus = loadJanusJs(readFileSync(path, 'utf8'));
    await withTimeout(new Promise<void>((resolve) => Janus.init({
      debug: false,
      dependencies: Janus.useDefaultDependencies({
        fetch, WebSocket, Promise, adapter: { browserDetails: { browser: 'chrome', version: 120 } },
      }),
      callback: resolve,
    })), 'Janus.init');
    ts = await startTestServer({ plugins: [new TestPlugin()], config: { tokenAuth: true, tokenAuthSecret: SECRET }, longPollHoldMs: 30_000 });
  });

  after(async () => {
    await ts?.close();
  });

  for (const transport of ['websocket', 'http'] as const) {
    it(`creates and attaches with a signed token over ${transport}; a bad token is refused`, async () => {
      const server = transport === 'websocket' ? ts.urls.ws : ts.urls.http;
      const token = sign(Math.floor(Date.now() / 1000) + 600, [TEST_PLUGIN_PACKAGE]);
      const janus = await withTimeout(new Promise<JanusSession>((resolve, reject) => {
        const session: JanusSession = new Janus({ server, token, iceServers: [], success: () => resolve(session), error: reject });
      }), 'create');
      const handle = await withTimeout(new Promise<JanusPluginHandle>((resolve, reject) => {
        janus.attach({ plugin: TEST_PLUGIN_PACKAGE, success: resolve, error: reject });
      }), 'attach');
      const sync = await withTimeout(new Promise<JsonObject>((resolve, reject) => {
        handle.send({ message: { request: 'sync' }, success: resolve, error: reject });
      }), 'sync message');
      expect(sync.testecho).to.equal('sync');
      await withTimeout(new Promise<void>((resolve, reject) => janus.destroy({ success: () => resolve(), error: reject })), 'destroy');

      const refused = await withTimeout(new Promise<string>((resolve) => {
        const session: JanusSession = new Janus({
          server, token: `${token}x`, iceServers: [], success: () => resolve(`created ${session.getSessionId()}`), error: (e: unknown) => resolve(String(e)),
        });
      }), 'refused create');
      expect(refused).to.include('Unauthorized request (wrong or missing secret/token)');
    });
  }
});
