// LuasfuServer: the Janus core plus its listeners (HTTP 8088 /janus, WebSocket 8188, Admin
// HTTP 7088 /admin, Admin WebSocket 7188 by default; each can be disabled), bound to
// config.listenIp (the Admin ones to config.adminListenIp, loopback by default). The embedder supplies constructed (not yet init'ed) plugins and a
// MediaPlane; start() inits the plugins and listens, stop() undoes everything.
//
//   const server = new LuasfuServer({ config, logger, plugins: [myPlugin], mediaPlane });
//   const ports = await server.start();   // { http: 8088, websocket: 8188, ... }
//   ...
//   await server.stop();
//
// Applications with their own server can skip the listeners and feed requests to
// `server.core.handleRequest(connection, json)` / `server.admin.handleRequest(...)`.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type LuasfuConfig, checkAdminExposure } from './config';
import { type EventBackend, EventBus } from './events/event-bus';
import { HttpEventBackend } from './events/http-backend';
import { AdminApi } from './janus/admin';
import type { TransportConnection } from './janus/connection';
import { HTTP_TRANSPORT, SERVER_NAME, WEBSOCKETS_TRANSPORT } from './common/identity';
import { JanusCore } from './janus/core';
import { TokenAuth } from './janus/token-auth';
import { type Logger, silentLogger } from './log';
import type { MediaPlane } from './plugin/media-plane';
import { HealthCheck } from './ops/health';
import { LuasfuMetrics } from './ops/metrics';
import { OpsListener } from './ops/ops-listener';
import type { Plugin } from './plugin/plugin';
import { type HttpTransportOptions, startHttpListener } from './transports/http';
import { SendBudget } from './transports/send-budget';
import { StaticFiles } from './transports/static-files';
import { TlsSource } from './transports/tls';
import { HttpEventRouter } from './transports/long-poll';
import type { JsonLayout, Listener } from './transports/uws';
import { startWebSocketListener } from './transports/websocket';

export interface LuasfuServerOptions {
  config: LuasfuConfig;
  logger?: Logger;
  /** Constructed but not yet init'ed; start() inits and registers them in order. */
  plugins: Plugin[];
  mediaPlane: MediaPlane;
  /** Close the media plane in stop() (default true). */
  ownsMediaPlane?: boolean;
  /** Reply layout on the wire (default 'indented', as Janus). */
  jsonLayout?: JsonLayout;
  /** Observer backends for the EventBus (the embedding API's typed events), fed even without event handlers. */
  eventObservers?: EventBackend[];
  /** Internal knobs, mainly for tests: session watchdog period (2 s) and long-poll hold (30 s). */
  watchdogIntervalMs?: number;
  longPollHoldMs?: number;
}

/** Real ports of the listeners that are enabled. */
export interface ListeningPorts {
  http?: number;
  websocket?: number;
  adminHttp?: number;
  adminWebsocket?: number;
  /** The operations listener (/metrics, /health, /ready). */
  metrics?: number;
}

/** The package's demos/ folder (dist/src/server.js -> the package root). */
const DEMOS_FOLDER = join(__dirname, '..', '..', 'demos');

/** The demo pages under /demos/, with the janus.js and adapter.js they load. */
function demoPages(config: LuasfuConfig, logger: Logger): StaticFiles {
  for (const file of [config.demos.janusJs, config.demos.adapterJs]) {
    if (!existsSync(file)) {
      logger.warn('demo pages: a script they load is missing (apt-get install libjs-janus-gateway libjs-webrtc-adapter, or set demos.janusJs/adapterJs)', { file });
    }
  }
  return new StaticFiles('/demos', DEMOS_FOLDER, { 'janus.js': config.demos.janusJs, 'adapter.js': config.demos.adapterJs });
}

export class LuasfuServer {
  readonly core: JanusCore;
  readonly admin: AdminApi;
  /** The core's events: to the event handlers (config.eventHandlers) and any observers. */
  readonly events: EventBus;
  /** Prometheus metrics (config.metrics); undefined when disabled. */
  readonly metrics: LuasfuMetrics | undefined;
  readonly health: HealthCheck;
  private ops: OpsListener | undefined;
  /** config.tls loaded at start; reloadTls() reads the files again. */
  private tls: TlsSource | undefined;
  /** Every Janus/Admin listener is bound (what /health reports). */
  private listening = false;
  private readonly listeners: Listener[] = [];
  private readonly log: Logger;
  /** The embedder's logger (silent when none): what the core, Admin API and listeners log to. */
  private readonly logger: Logger;
  private currentPorts: ListeningPorts = {};
  private state: 'new' | 'started' | 'stopped' = 'new';

  constructor(private readonly options: LuasfuServerOptions) {
    const { config } = options;
    this.logger = options.logger ?? silentLogger();
    this.log = this.logger.child({ component: 'server' });
    const handlers = config.eventHandlers;
    const logger = this.logger;
    this.events = new EventBus({
      emitter: handlers.emitter ?? SERVER_NAME, enabled: handlers.enabled, logger, backends: options.eventObservers,
    });
    if (handlers.enabled && handlers.http) this.events.addBackend(new HttpEventBackend({ config: handlers.http, logger }));
    if (config.metrics.enabled) this.metrics = new LuasfuMetrics({ mediaStatsIntervalMs: config.metrics.mediaStatsIntervalMs });
    this.core = new JanusCore({
      logger: this.logger,
      mediaPlane: options.mediaPlane,
      sessionTimeout: config.sessionTimeout,
      reclaimSessionTimeout: config.reclaimSessionTimeout,
      apiSecret: config.apiSecret,
      tokenAuth: new TokenAuth({ enabled: config.tokenAuth, secret: config.tokenAuthSecret }),
      eventHandlers: config.eventHandlers.enabled,
      events: this.events,
      watchdogIntervalMs: options.watchdogIntervalMs,
      localIp: config.listenIp,
      maxHandlesPerSession: config.maxHandlesPerSession,
      onRequest: this.metrics?.requestObserver('janus'),
    });
    this.admin = new AdminApi({
      core: this.core, adminSecret: config.adminSecret, logger: this.logger,
      onRequest: this.metrics?.requestObserver('admin'),
    });
    this.metrics?.watchCore(this.core);
    this.metrics?.watchPlugins(options.plugins);
    this.metrics?.watchMedia(options.mediaPlane);
    this.health = new HealthCheck({
      listeners: () => (this.listening ? this.apiPorts() : undefined),
      core: this.core,
      plugins: options.plugins,
      mediaPlane: options.mediaPlane,
    });
  }

  /** The Janus/Admin listeners' ports (without the ops listener). */
  private apiPorts(): Record<string, number> {
    const { metrics: _ops, ...ports } = this.currentPorts;
    return ports as Record<string, number>;
  }

  get ports(): ListeningPorts {
    return { ...this.currentPorts };
  }

  /** Inits the plugins, starts the core and the enabled listeners. Throws (after cleaning up) on failure. */
  async start(): Promise<ListeningPorts> {
    if (this.state !== 'new') throw new Error('LuasfuServer can only be started once');
    this.state = 'started';
    try {
      checkAdminExposure(this.options.config);
      // First, so /ready answers "starting" while scripts load.
      if (this.metrics) await this.startOps(this.metrics);
      for (const plugin of this.options.plugins) await this.core.addPlugin(plugin);
      this.core.start();
      await this.startListeners();
      this.listening = true;
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.log.info('luasfu started', { ports: this.currentPorts });
    return this.ports;
  }

  private async startOps(metrics: LuasfuMetrics): Promise<void> {
    const { config } = this.options;
    this.ops = new OpsListener({
      host: config.metrics.listenIp, port: config.metrics.port, metricsPath: config.metrics.path,
      metrics, health: this.health, logger: this.logger,
    });
    this.currentPorts.metrics = await this.ops.start();
  }

  private async startListeners(): Promise<void> {
    const { config } = this.options;
    const { logger } = this;
    const layout = this.options.jsonLayout;
    const host = config.listenIp;
    // One budget for the Janus and Admin WebSocket listeners together.
    const sendBudget = new SendBudget(config.maxBufferedBytesPerConnection, config.maxBufferedBytesTotal);
    const tls = config.tls ? (this.tls = new TlsSource(config.tls)) : undefined;
    if (config.http.enabled) {
      const listener = await startHttpListener({
        host, port: config.http.port, tls, ...this.httpTransportOptions('janus', config.http.path),
        staticFiles: config.demos.enabled ? demoPages(config, logger) : undefined,
      });
      this.listeners.push(listener);
      this.currentPorts.http = listener.port;
    }
    if (config.websocket.enabled) {
      this.core.registerTransport(WEBSOCKETS_TRANSPORT);
      const listener = await startWebSocketListener({
        host, port: config.websocket.port, subprotocol: 'janus-protocol',
        transportPackage: WEBSOCKETS_TRANSPORT.package, processor: this.core,
        onClose: (connection: TransportConnection) => this.core.connectionClosed(connection),
        maxPayloadBytes: config.maxRequestBytes, maxRequestsPerSecond: config.maxRequestsPerSecond, logger, layout, tls,
        sendBudget, maxSessionsPerConnection: config.maxSessionsPerConnection,
      });
      this.listeners.push(listener);
      this.currentPorts.websocket = listener.port;
    }
    const adminHost = config.adminListenIp;
    const allowedOrigins = config.adminAllowedOrigins;
    if (config.adminHttp.enabled) {
      const listener = await startHttpListener({
        host: adminHost, port: config.adminHttp.port, tls, ...this.httpTransportOptions('admin', config.adminHttp.path),
      });
      this.listeners.push(listener);
      this.currentPorts.adminHttp = listener.port;
    }
    if (config.adminWebsocket.enabled) {
      const listener = await startWebSocketListener({
        host: adminHost, port: config.adminWebsocket.port, subprotocol: 'janus-admin-protocol', allowedOrigins,
        transportPackage: WEBSOCKETS_TRANSPORT.package, processor: this.admin,
        maxPayloadBytes: config.maxRequestBytes, maxRequestsPerSecond: config.maxRequestsPerSecond, logger, layout, sendBudget, tls,
      });
      this.listeners.push(listener);
      this.currentPorts.adminWebsocket = listener.port;
    }
  }

  /**
   * How the Janus API (REST + long poll, as janus.transport.http) or the Admin API is served over
   * HTTP at `basePath`: for our own listeners, and for an application's own HTTP server.
   */
  httpTransportOptions(api: 'janus' | 'admin', basePath: string): HttpTransportOptions {
    const { config } = this.options;
    const { logger } = this;
    const common = {
      basePath, maxBodyBytes: config.maxRequestBytes, maxRequestsPerSecond: config.maxRequestsPerSecond,
      logger, layout: this.options.jsonLayout,
    };
    if (api === 'admin') return { ...common, processor: this.admin, allowedOrigins: config.adminAllowedOrigins };
    this.core.registerTransport(HTTP_TRANSPORT);
    const router = new HttpEventRouter(HTTP_TRANSPORT.package, {
      holdMs: this.options.longPollHoldMs ?? 30_000,
      maxPolls: config.maxLongPolls,
      maxQueuedEvents: 1000,
      graceMs: 5000,
      logger,
    });
    return { ...common, processor: this.core, longPoll: { core: this.core, router } };
  }

  /**
   * Reads the TLS certificate and key again (SIGHUP): new connections get the new pair, open
   * ones keep theirs. Throws TlsLoadError (and keeps the old pair) when the files are not
   * usable; false when TLS is not configured.
   */
  reloadTls(): boolean {
    if (!this.tls) return false;
    this.tls.reload();
    return true;
  }

  /** Closes the listeners, destroys every session (hanging up handles), destroys the plugins. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.listening = false;
    for (const listener of this.listeners.splice(0)) {
      try {
        listener.close();
      } catch (error) {
        this.log.warn('listener close failed', { error: error as Error });
      }
    }
    await this.core.stop();
    // After the core's last events (detached, destroyed, shutdown): flush them to the collector.
    await this.events.stop();
    if (this.options.ownsMediaPlane !== false) {
      try {
        await this.options.mediaPlane.close();
      } catch (error) {
        this.log.warn('media plane close failed', { error: error as Error });
      }
    }
    this.ops?.close();
    this.metrics?.close();
    this.currentPorts = {};
    this.log.info('luasfu stopped');
  }
}
