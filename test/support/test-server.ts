// Starts a real LuasfuServer for tests: every listener on 127.0.0.1 with an ephemeral port,
// the TestPlugin and a FakeMediaPlane unless others are given. Usable by any test suite:
//
//   const ts = await startTestServer({ plugins: [new TestPlugin()] });
//   ... ts.urls.ws, ts.urls.http, ts.urls.adminHttp, ts.urls.adminWs ...
//   await ts.close();

import { type LuasfuConfig, defaultConfig } from '../../src/config';
import type { Logger } from '../../src/log';
import type { MediaPlane } from '../../src/plugin/media-plane';
import type { Plugin } from '../../src/plugin/plugin';
import { LuasfuServer } from '../../src/server';
import { FakeMediaPlane } from './fake-media-plane';
import { type CapturedLog, captureLogger } from './log-capture';
import { TestPlugin } from './test-plugin';

export const TEST_ADMIN_SECRET = 'testoverlord';

export interface TestServerOptions {
  plugins?: Plugin[];
  /** Default: a FakeMediaPlane, closed by close(). A plane passed in is not closed by close(). */
  mediaPlane?: MediaPlane;
  /** Shallow overrides of the config (listeners keep port 0 unless given). */
  config?: Partial<LuasfuConfig>;
  logger?: Logger;
  /** Session watchdog period; default 100 ms so timeouts are quick to observe. */
  watchdogIntervalMs?: number;
  /** Long-poll hold; default 1 s. */
  longPollHoldMs?: number;
}

export interface TestServer {
  server: LuasfuServer;
  plugins: Plugin[];
  mediaPlane: MediaPlane;
  /** The captured log (when no logger was given). */
  log: CapturedLog;
  ports: { http: number; websocket: number; adminHttp: number; adminWebsocket: number };
  urls: { http: string; ws: string; adminHttp: string; adminWs: string };
  close(): Promise<void>;
}

export function testConfig(overrides: Partial<LuasfuConfig> = {}): LuasfuConfig {
  const base = defaultConfig();
  return {
    ...base,
    listenIp: '127.0.0.1',
    http: { enabled: true, port: 0, path: '/janus' },
    websocket: { enabled: true, port: 0 },
    adminHttp: { enabled: true, port: 0, path: '/admin' },
    adminWebsocket: { enabled: true, port: 0 },
    adminSecret: TEST_ADMIN_SECRET,
    // Off unless a test turns it on (each registry observes GC and the event loop for good).
    metrics: { ...base.metrics, enabled: false, listenIp: '127.0.0.1', port: 0 },
    ...overrides,
  };
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const plugins = options.plugins ?? [new TestPlugin()];
  const mediaPlane = options.mediaPlane ?? new FakeMediaPlane();
  const log = captureLogger();
  const config = testConfig(options.config);
  const server = new LuasfuServer({
    config,
    logger: options.logger ?? log.logger,
    plugins,
    mediaPlane,
    // A media plane the caller passed in stays the caller's to close.
    ownsMediaPlane: options.mediaPlane === undefined,
    watchdogIntervalMs: options.watchdogIntervalMs ?? 100,
    longPollHoldMs: options.longPollHoldMs ?? 1000,
  });
  const started = await server.start();
  const ports = {
    http: started.http ?? -1,
    websocket: started.websocket ?? -1,
    adminHttp: started.adminHttp ?? -1,
    adminWebsocket: started.adminWebsocket ?? -1,
  };
  return {
    server,
    plugins,
    mediaPlane,
    log,
    ports,
    urls: {
      http: `http://127.0.0.1:${ports.http}${config.http.path}`,
      ws: `ws://127.0.0.1:${ports.websocket}`,
      adminHttp: `http://127.0.0.1:${ports.adminHttp}${config.adminHttp.path}`,
      adminWs: `ws://127.0.0.1:${ports.adminWebsocket}`,
    },
    close: () => server.stop(),
  };
}
