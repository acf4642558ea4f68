// luasfu embedded in a Node service: createServer(options) gives a Luasfu, which starts
// mediasoup, the scripts and plugins and the enabled listeners on listen(), mounts the Janus
// API on the application's own connections (transport()), reports typed events, reloads
// scripts in place, and undoes everything on close().
//
//   const sfu = createServer({ scripts: ['rooms.lua'], http: false, websocket: false });
//   sfu.on('handle', (event) => log(event));
//   await sfu.listen();
//   wss.on('connection', (socket) => janus.acceptWebSocket(socket)); // const janus = sfu.transport()
//   await sfu.reloadScript('janus.plugin.rooms');
//   await sfu.close();

import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve } from 'node:path';
import { ConfigError, type LuasfuConfig, type ScriptConfig, checkScriptFiles } from './config';
import { type LuasfuEvents, ObserverBackend } from './events/server-events';
import type { TransportInfo } from './janus/connection';
import { WEBSOCKETS_TRANSPORT } from './common/identity';
import { Logger } from './log';
import type { MediaPlane } from './plugin/media-plane';
import { MediasoupMediaPlane } from './media/plane';
import { type LuasfuOptions, type ScriptEntry, resolveOptions } from './options';
import type { Plugin, PluginInfo } from './plugin/plugin';
import { createJsPlugin } from './script/js-plugin';
import { createLuaPlugin } from './script/lua-plugin';
import { ScriptLoadError, type ScriptObserver } from './script/script-plugin';
import { type ListeningPorts, LuasfuServer } from './server';
import { TransportAdapter } from './transports/adapter';
import { HttpTransport } from './transports/http';
import type { JsonLayout } from './transports/uws';
import { NamedError } from './common/named-error';

/** The plugin for a script, by its extension (.lua: Lua plugin, .js: Duktape-contract plugin). */
export function scriptPlugin(script: ScriptConfig, logger: Logger, observer?: ScriptObserver): Plugin {
  const kind = extname(script.path).toLowerCase();
  if (kind === '.lua') return createLuaPlugin(script, logger, { observer });
  if (kind === '.js') return createJsPlugin(script, logger, { timeLimitMs: script.timeLimitMs, observer });
  throw new ConfigError('scripts.path', `must name a .lua or .js script (got ${script.path})`);
}

/** listen() twice, transport() or reloadScript() before listen(), or anything after close(). */
export class ServerStateError extends NamedError {}

/** reloadScript() named no registered script, or a plugin object (which has no file to reload). */
export class ScriptReloadError extends NamedError {}

/** A registered plugin: its package, the script file behind it (none for plugin objects) and its info. */
export interface PluginStatus {
  name: string;
  script?: string;
  info: PluginInfo;
}

/** What reloadScripts() did for one script. */
export interface ReloadOutcome {
  name: string;
  script: string;
  error?: Error;
}

export interface TransportOptions {
  /** The Janus API (default) or the Admin API. */
  api?: 'janus' | 'admin';
  /** Transport shown in `info` and as the sessions' transport (default janus.transport.websockets). */
  transport?: TransportInfo;
  /** Reply layout (default 'indented', as Janus). */
  layout?: JsonLayout;
}

export interface HttpHandlerOptions {
  /** The Janus API (default; REST + long poll, as janus.transport.http) or the Admin API. */
  api?: 'janus' | 'admin';
  /** Base path of the requests it serves (default: `http.path` / `adminHttp.path`, /janus and /admin). */
  path?: string;
}

/**
 * A request handler for node:http / https servers (and Express: with `next`, requests outside
 * the base path are passed on).
 */
export type HttpRequestHandler = (request: IncomingMessage, response: ServerResponse, next?: () => void) => void;

/** What the constructor takes: validated config and the scripts/plugins in order (see createServer). */
export interface LuasfuParts {
  config: LuasfuConfig;
  entries: ScriptEntry[];
  logger?: Logger;
  mediaPlane?: MediaPlane;
}

type State = 'new' | 'starting' | 'listening' | 'closing' | 'closed';

export class Luasfu extends EventEmitter<LuasfuEvents> {
  readonly config: LuasfuConfig;
  readonly logger: Logger;
  private readonly entries: ScriptEntry[];
  private readonly givenMediaPlane: MediaPlane | undefined;
  private serverValue: LuasfuServer | undefined;
  private mediaPlaneValue: MediaPlane | undefined;
  /** By package name, once listening. */
  private readonly registered = new Map<string, ScriptEntry>();
  private readonly adapters = new Set<TransportAdapter>();
  private readonly httpTransports = new Set<HttpTransport>();
  /** Reloads of one script run one after another. */
  private readonly reloads = new Map<string, Promise<unknown>>();
  private state: State = 'new';
  private starting: Promise<ListeningPorts> | undefined;
  private closing: Promise<void> | undefined;
  private readonly observer = this.observerFor(undefined);

  constructor(parts: LuasfuParts) {
    super();
    this.config = parts.config;
    this.entries = parts.entries;
    this.logger = parts.logger ?? Logger.create({ level: parts.config.log.level, format: parts.config.log.format });
    this.givenMediaPlane = parts.mediaPlane;
  }

  /** Script errors and restarts become events; `plugin` names the package when the script cannot yet (a reload that fails to load). */
  private observerFor(plugin: string | undefined): ScriptObserver {
    return {
      scriptError: (report) => this.emit('scriptError', plugin === undefined || report.plugin ? report : { ...report, plugin }),
      scriptRestart: (report) => this.emit('scriptRestart', plugin === undefined || report.plugin ? report : { ...report, plugin }),
    };
  }

  /** The core and its listeners (after listen()). */
  get server(): LuasfuServer {
    if (!this.serverValue) throw new ServerStateError('luasfu is not listening: call listen() first');
    return this.serverValue;
  }

  /** The media plane (after listen()). */
  get mediaPlane(): MediaPlane {
    if (!this.mediaPlaneValue) throw new ServerStateError('luasfu is not listening: call listen() first');
    return this.mediaPlaneValue;
  }

  /** Real ports of the enabled listeners ({} before listen() and after close()). */
  get ports(): ListeningPorts {
    return this.serverValue?.ports ?? {};
  }

  get listening(): boolean {
    return this.state === 'listening';
  }

  /**
   * Starts mediasoup (unless a media plane was given), loads the scripts and inits the plugins
   * in order, then opens the enabled listeners. Rejects, after undoing what had started, when
   * any of it fails. Call once.
   */
  listen(): Promise<ListeningPorts> {
    if (this.state !== 'new') return Promise.reject(new ServerStateError('listen() can only be called once'));
    this.state = 'starting';
    this.starting = this.start();
    return this.starting;
  }

  private async start(): Promise<ListeningPorts> {
    let plugins: Plugin[];
    let mediaPlane: MediaPlane;
    try {
      // Before mediasoup starts: a missing script, or one that cannot be a plugin (extension), fails here.
      checkScriptFiles(this.config.scripts);
      plugins = this.entries.map((entry) => (entry.kind === 'plugin' ? entry.plugin : scriptPlugin(entry.config, this.logger, this.observer)));
      mediaPlane = this.givenMediaPlane ?? (await MediasoupMediaPlane.start(this.config.media, this.logger));
    } catch (error) {
      this.state = 'closed';
      throw error;
    }
    const server = new LuasfuServer({
      config: this.config,
      logger: this.logger,
      plugins,
      mediaPlane,
      ownsMediaPlane: !this.givenMediaPlane,
      eventObservers: [new ObserverBackend(this)],
    });
    this.serverValue = server;
    this.mediaPlaneValue = mediaPlane;
    let ports: ListeningPorts;
    try {
      // On failure start() has stopped everything, the media plane too when it is ours.
      ports = await server.start();
    } catch (error) {
      this.state = 'closed';
      throw error;
    }
    this.entries.forEach((entry, index) => this.registered.set(plugins[index]!.info().package, entry));
    this.state = this.closing ? 'closing' : 'listening';
    return ports;
  }

  /** The registered plugins, in order. */
  plugins(): PluginStatus[] {
    const core = this.server.core;
    return [...this.registered].map(([name, entry]) => {
      const info = core.getPlugin(name)?.info;
      if (!info) throw new ServerStateError(`${name} is not registered`);
      return entry.kind === 'script' ? { name, script: entry.config.path, info } : { name, info };
    });
  }

  /**
   * The Janus API (or Admin API) for connections the application accepts itself: see
   * TransportAdapter. Connections still open at close() are closed (1001).
   */
  transport(options: TransportOptions = {}): TransportAdapter {
    const server = this.server;
    if (this.state !== 'listening') throw new ServerStateError('luasfu is not listening');
    const admin = options.api === 'admin';
    const info = options.transport ?? WEBSOCKETS_TRANSPORT;
    if (!admin) server.core.registerTransport(info);
    const adapter = new TransportAdapter({
      processor: admin ? server.admin : server.core,
      onClose: admin ? undefined : (connection) => server.core.connectionClosed(connection),
      transport: info.package,
      idPrefix: admin ? 'admin' : 'janus',
      layout: options.layout,
      maxRequestsPerSecond: this.config.maxRequestsPerSecond,
      maxMessageBytes: this.config.maxRequestBytes,
      logger: this.logger,
    });
    this.adapters.add(adapter);
    return adapter;
  }

  /**
   * The Janus API (or Admin API) over HTTP on the application's own server: REST requests and
   * long polls under the base path, exactly as luasfu's own HTTP listener serves them. Long polls
   * still waiting at close() are answered.
   */
  httpHandler(options: HttpHandlerOptions = {}): HttpRequestHandler {
    const server = this.server;
    if (this.state !== 'listening') throw new ServerStateError('luasfu is not listening');
    const api = options.api ?? 'janus';
    const given = options.path ?? (api === 'admin' ? this.config.adminHttp.path : this.config.http.path);
    const basePath = given.replace(/\/+$/, '') || '/';
    const transport = new HttpTransport(server.httpTransportOptions(api, basePath));
    this.httpTransports.add(transport);
    return (request, response, next) => {
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      if (next && basePath !== '/' && path !== basePath && !path.startsWith(`${basePath}/`)) {
        next();
        return;
      }
      transport.handle(request, response);
    };
  }

  /**
   * Hot reload: loads the script registered as `name` again, from `path` if given (it must
   * register under the same package). New attaches reach the new version; handles attached
   * before stay on the old one (its worker, its state) until they detach, then it is
   * destroyed; media keeps flowing throughout. A script that fails to load leaves the old
   * one in place: this rejects and `scriptError` is emitted.
   */
  reloadScript(name: string, path?: string): Promise<PluginInfo> {
    const previous = this.reloads.get(name) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.reload(name, path));
    this.reloads.set(name, run);
    void run.catch(() => undefined).finally(() => {
      if (this.reloads.get(name) === run) this.reloads.delete(name);
    });
    return run;
  }

  /** Reloads every script (not plugin objects) from its file: what SIGHUP does in the CLI. */
  async reloadScripts(): Promise<ReloadOutcome[]> {
    const scripts = [...this.registered].flatMap(([name, entry]) => (entry.kind === 'script' ? [{ name, script: entry.config.path }] : []));
    const outcomes: ReloadOutcome[] = [];
    for (const { name, script } of scripts) {
      try {
        await this.reloadScript(name);
        outcomes.push({ name, script });
      } catch (error) {
        outcomes.push({ name, script, error: error instanceof Error ? error : new Error(String(error)) });
      }
    }
    return outcomes;
  }

  private async reload(name: string, path: string | undefined): Promise<PluginInfo> {
    const server = this.server;
    if (this.state !== 'listening') throw new ServerStateError('luasfu is not listening');
    const entry = this.registered.get(name);
    if (!entry) throw new ScriptReloadError(`no script is registered as ${name}`);
    if (entry.kind !== 'script') throw new ScriptReloadError(`${name} is a plugin object, not a script: there is nothing to reload`);
    const config: ScriptConfig = { ...entry.config, path: resolve(path ?? entry.config.path) };
    let info: PluginInfo;
    try {
      info = await server.core.replacePlugin(name, scriptPlugin(config, this.logger, this.observerFor(name)));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A load failure was reported by the script plugin itself.
      if (!(error instanceof ScriptLoadError)) this.emit('scriptError', { plugin: name, script: config.path, callback: 'load', error: message, limitExceeded: false });
      this.logger.error('script reload failed; the previous version stays', { plugin: name, script: config.path, error: message });
      throw error;
    }
    this.registered.set(name, { kind: 'script', config });
    this.logger.info('script reloaded', { plugin: name, script: config.path, version: info.versionString });
    this.emit('scriptReload', { plugin: name, script: config.path, previousScript: entry.config.path, info });
    return info;
  }

  /**
   * Hangs up and detaches every handle, destroys every session and plugin (scripts' workers
   * end), closes the listeners and the application's adapter connections, and stops the
   * mediasoup workers it started. Nothing is left running: the process can exit.
   */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.shutdown();
    return this.closing;
  }

  /** The same as close() (the name startLuasfu's callers know). */
  stop(): Promise<void> {
    return this.close();
  }

  private async shutdown(): Promise<void> {
    // A listen() in progress finishes first, so that what it started is stopped too.
    await this.starting?.catch(() => undefined);
    const wasRunning = this.state === 'listening' || this.state === 'closing';
    this.state = 'closing';
    for (const adapter of this.adapters) adapter.closeAll();
    this.adapters.clear();
    for (const transport of this.httpTransports) transport.close();
    this.httpTransports.clear();
    if (wasRunning) await this.serverValue?.stop();
    this.registered.clear();
    this.state = 'closed';
  }
}

/** A luasfu server from typed options (validated as a config file; the CLI's defaults). Call listen() to start it. */
export function createServer(options: LuasfuOptions = {}): Luasfu {
  const { config, entries } = resolveOptions(options);
  return new Luasfu({ config, entries, logger: options.logger, mediaPlane: options.mediaPlane });
}
