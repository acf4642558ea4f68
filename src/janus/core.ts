// The transport-agnostic Janus API core (docs/contract.md §5.1): sessions, handles, request
// dispatch with Janus's exact replies and error codes, the session-timeout watchdog and the
// plugin registry. Transports (or an embedding application) call handleRequest / handleText
// with a TransportConnection; replies and events go back through it.

import type { EventBus } from '../events/event-bus';
import type { Logger } from '../log';
import type { MediaPlane } from '../plugin/media-plane';
import type { JsonObject, JsonValue } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import type { Plugin, PluginInfo, PluginResult } from '../plugin/plugin';
import type { ReplySink, TransportConnection, TransportInfo } from './connection';
import { JanusError, JanusErrorCode } from './errors';
import { type RequestContext, type RequestObserver, checkRequest, runRequest, runText } from './request-runner';
import { parseClientJsep } from './client-jsep';
import { Handle, type RegisteredPlugin } from './handle';
import { buildServerInfo } from './info';
import { CorePluginHost } from './plugin-host';
import {
  ATTACH_RULES, BODY_RULES, REQUEST_RULES, baseMessage, janusError, secretMatches,
  uniqueId, validateFields,
} from './protocol';
import { monotonicMs } from './serial-queue';
import { Session } from './session';
import { TokenAuth } from './token-auth';
import { parseTrickleRequest } from './trickle';
import { NamedError } from '../common/named-error';

export interface JanusCoreOptions {
  logger: Logger;
  mediaPlane: MediaPlane;
  /** Seconds of inactivity before a session times out; 0 = never (Janus default 60). */
  sessionTimeout?: number;
  /** Seconds a session outlives its closed connection waiting for `claim`; 0 = none. */
  reclaimSessionTimeout?: number;
  /** Janus API secret (`apisecret`); empty = none. */
  apiSecret?: string;
  /** Token authentication (`token_auth`); absent = off. Either a valid secret or token is enough. */
  tokenAuth?: TokenAuth;
  eventHandlers?: boolean;
  /** Event handlers (Janus's janus_events): the core reports sessions, handles, JSEPs... here. */
  events?: EventBus;
  /** Watchdog period (Janus: 2 s). Tests shorten it. */
  watchdogIntervalMs?: number;
  serverName?: string;
  localIp?: string;
  /** Handles one session may have (error 490 beyond); default no limit. */
  maxHandlesPerSession?: number;
  /** Told of every request's outcome (metrics). */
  onRequest?: RequestObserver;
}

/** A plugin could not be registered (package taken) or replaced (unknown or changed package). */
export class PluginRegistrationError extends NamedError {}

export type SessionEndReason = 'destroyed' | 'timeout' | 'transport' | 'stopping' | 'admin';


export class JanusCore {
  private readonly sessions = new Map<number, Session>();
  /** Every live handle by id (handle ids are unique across sessions). */
  private readonly handles = new Map<number, Handle>();
  private readonly plugins = new Map<string, RegisteredPlugin>();
  /** Plugins replaced by a hot reload whose handles have not all detached yet. */
  private readonly retired = new Set<RegisteredPlugin>();
  private readonly transports = new Map<string, TransportInfo>();
  private readonly byConnection = new Map<TransportConnection, Set<Session>>();
  private readonly teardowns = new Set<Promise<void>>();
  private watchdog: NodeJS.Timeout | null = null;
  private readonly log: Logger;
  /** Admin accept_new_sessions. */
  acceptingNewSessions = true;
  sessionTimeout: number;
  readonly reclaimSessionTimeout: number;
  readonly tokenAuth: TokenAuth;

  constructor(private readonly options: JanusCoreOptions) {
    this.log = options.logger.child({ component: 'janus-core' });
    this.tokenAuth = options.tokenAuth ?? new TokenAuth({ enabled: false });
    this.sessionTimeout = options.sessionTimeout ?? 60;
    this.reclaimSessionTimeout = options.reclaimSessionTimeout ?? 0;
  }

  // ---- plugins and transports ------------------------------------------------------------

  /** init()s the plugin with its host and registers it under its package name. */
  async addPlugin(plugin: Plugin): Promise<PluginInfo> {
    const registered = await this.initPlugin(plugin);
    const { info } = registered;
    if (this.plugins.has(info.package)) {
      await plugin.destroy().catch(() => undefined);
      throw new PluginRegistrationError(`a plugin is already registered as ${info.package}`);
    }
    this.plugins.set(info.package, registered);
    this.log.info('plugin registered', { plugin: info.package, name: info.name });
    return info;
  }

  /**
   * Hot reload: init()s `plugin` and makes it the one new attaches to `packageName` reach.
   * Handles attached to the previous plugin stay on it until they detach; it is destroyed
   * once its last handle has gone. If the new plugin fails to init or registers under another
   * package, it is destroyed, the previous one stays, and this rejects.
   */
  async replacePlugin(packageName: string, plugin: Plugin): Promise<PluginInfo> {
    if (!this.plugins.has(packageName)) throw new PluginRegistrationError(`no plugin is registered as ${packageName}`);
    const next = await this.initPlugin(plugin);
    const previous = this.plugins.get(packageName);
    if (next.info.package !== packageName || !previous) {
      await plugin.destroy().catch(() => undefined);
      throw new PluginRegistrationError(
        previous ? `the new plugin registers as ${next.info.package}, not ${packageName}` : `${packageName} went away during the reload`,
      );
    }
    this.plugins.set(packageName, next);
    this.retired.add(previous);
    this.log.info('plugin replaced', { plugin: packageName, name: next.info.name, version: next.info.versionString });
    this.releaseRetired(previous);
    return next.info;
  }

  private async initPlugin(plugin: Plugin): Promise<RegisteredPlugin> {
    const host = new CorePluginHost(plugin, {
      findHandle: (id) => this.handles.get(id),
      eventsEnabled: this.options.eventHandlers ?? false,
      media: this.options.mediaPlane.router,
      logger: this.log,
      events: this.options.events,
    });
    await plugin.init(host);
    const info = plugin.info();
    host.setPackage(info.package);
    return { plugin, info };
  }

  /** A replaced plugin is destroyed once no handle uses it any more. */
  private releaseRetired(registered: RegisteredPlugin): void {
    if (!this.retired.has(registered)) return;
    for (const handle of this.handles.values()) if (handle.registered === registered) return;
    this.retired.delete(registered);
    void this.track(this.destroyPlugin(registered));
  }

  private async destroyPlugin({ plugin, info }: RegisteredPlugin): Promise<void> {
    try {
      await plugin.destroy();
    } catch (error) {
      this.log.error('plugin destroy failed', { plugin: info.package, error: error as Error });
    }
  }

  getPlugin(packageName: string): RegisteredPlugin | undefined {
    return this.plugins.get(packageName);
  }

  pluginInfos(): PluginInfo[] {
    return [...this.plugins.values()].map((entry) => entry.info);
  }

  registerTransport(info: TransportInfo): void {
    this.transports.set(info.package, info);
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** Starts the session-timeout watchdog. */
  start(): void {
    if (this.watchdog) return;
    this.watchdog = setInterval(() => this.checkTimeouts(), this.options.watchdogIntervalMs ?? 2000);
    this.watchdog.unref();
    this.options.events?.core('started');
  }

  /** Destroys every session (hanging up and detaching handles), then every plugin. */
  async stop(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    for (const session of [...this.sessions.values()]) this.destroySession(session, 'stopping');
    await Promise.all([...this.teardowns]);
    for (const registered of [...this.retired, ...this.plugins.values()]) await this.destroyPlugin(registered);
    this.retired.clear();
    this.plugins.clear();
    this.options.events?.core('shutdown');
  }

  // ---- sessions (also used by the Admin API) -----------------------------------------------

  sessionIds(): number[] {
    return [...this.sessions.keys()];
  }

  getSession(id: number): Session | undefined {
    return this.sessions.get(id);
  }

  /** The timeout (seconds) that applies to this session. */
  effectiveTimeout(session: Session): number {
    return session.timeout >= 0 ? session.timeout : this.sessionTimeout;
  }

  private bind(session: Session, connection: TransportConnection | null): void {
    if (session.connection) this.byConnection.get(session.connection)?.delete(session);
    session.connection = connection;
    if (!connection) return;
    session.bearer = connection.bearer === true;
    let set = this.byConnection.get(connection);
    if (!set) {
      set = new Set();
      this.byConnection.set(connection, set);
    }
    set.add(session);
  }

  /**
   * Ends a session: the `timeout` event first (on timeout), then the transport's
   * sessionOver, then every handle is detached (no `detached` events: the session is gone).
   */
  destroySession(session: Session, reason: SessionEndReason): Promise<void> {
    if (session.destroyed) return Promise.resolve();
    if (reason === 'timeout') session.sendEvent({ janus: 'timeout', session_id: session.id });
    session.destroyed = true;
    this.sessions.delete(session.id);
    const connection = session.connection;
    this.bind(session, null);
    if (connection && connection.sessionOver) {
      try {
        connection.sessionOver(session.id, reason === 'timeout' ? 'timeout' : 'destroyed');
      } catch (error) {
        this.log.warn('transport sessionOver failed', { session: session.id, error: error as Error });
      }
    }
    this.log.info('session destroyed', { session: session.id, reason });
    // Event handlers (as Janus): `timeout` at once; `destroyed` after the handles' `detached`.
    if (reason === 'timeout') this.options.events?.session(session.id, 'timeout');
    const detaches = [...session.handles.values()].map((handle) => this.detachHandle(handle));
    return this.track(Promise.all(detaches).then(() => {
      if (reason !== 'timeout') this.options.events?.session(session.id, 'destroyed');
    }));
  }

  /** Starts the detach of a handle: gone from its session at once, torn down in order. */
  detachHandle(handle: Handle): Promise<void> {
    handle.session.handles.delete(handle.id);
    return this.track(
      handle.detach().finally(() => {
        if (this.handles.get(handle.id) === handle) {
          this.handles.delete(handle.id);
          this.options.events?.handle(handle.eventIds(), 'detached', handle.packageName);
          this.releaseRetired(handle.registered);
        }
      }),
    );
  }

  private track(promise: Promise<void>): Promise<void> {
    this.teardowns.add(promise);
    void promise.finally(() => this.teardowns.delete(promise));
    return promise;
  }

  private checkTimeouts(): void {
    const now = monotonicMs();
    for (const session of [...this.sessions.values()]) {
      const timeout = this.effectiveTimeout(session);
      if (timeout > 0 && now - session.lastActivity >= timeout * 1000) {
        this.log.info('session timed out', { session: session.id, timeout });
        void this.destroySession(session, 'timeout');
      } else if (session.transportGoneAt !== null && now - session.transportGoneAt >= this.reclaimSessionTimeout * 1000) {
        this.log.info('session not reclaimed in time', { session: session.id });
        void this.destroySession(session, 'transport');
      }
    }
  }

  /** A transport connection closed: its sessions are destroyed, or wait for `claim`. */
  connectionClosed(connection: TransportConnection): void {
    const sessions = this.byConnection.get(connection);
    this.byConnection.delete(connection);
    if (!sessions) return;
    for (const session of sessions) {
      if (session.destroyed) continue;
      if (this.reclaimSessionTimeout > 0) {
        session.connection = null;
        session.transportGoneAt = monotonicMs();
        this.log.info('session transport gone, waiting for claim', { session: session.id });
      } else {
        void this.destroySession(session, 'transport');
      }
    }
  }

  serverInfo(transaction: string | undefined): JsonObject {
    return buildServerInfo({
      transaction,
      plugins: this.pluginInfos(),
      transports: [...this.transports.values()],
      sessionTimeout: this.sessionTimeout,
      reclaimSessionTimeout: this.reclaimSessionTimeout,
      apiSecret: this.apiSecretSet,
      tokenAuth: this.tokenAuth.enabled,
      eventHandlers: this.options.eventHandlers ?? false,
      acceptingNewSessions: this.acceptingNewSessions,
      serverName: this.options.serverName ?? 'luasfu',
      localIp: this.options.localIp ?? '127.0.0.1',
      iceTcp: this.options.mediaPlane.iceTcp ?? false,
    });
  }

  // ---- requests ---------------------------------------------------------------------------

  /**
   * Processes one Janus API request (a parsed JSON value). The reply goes to `reply` (by
   * default the connection) and is also returned. Never throws.
   */
  handleRequest(connection: TransportConnection, request: unknown, reply?: ReplySink): Promise<JsonObject> {
    return runRequest((c, r, context) => this.dispatch(c, r, context), connection, request, reply, this.log, this.options.onRequest);
  }

  /** Processes one frame of text: every JSON document in it, in order (454 for bad JSON). */
  handleText(connection: TransportConnection, text: string | Uint8Array, reply?: ReplySink): Promise<JsonObject[]> {
    return runText((request) => this.handleRequest(connection, request, reply), connection, text, reply, this.log, this.options.onRequest);
  }

  /** Whether an api secret is configured (Admin get_status). */
  get apiSecretSet(): boolean {
    return Boolean(this.options.apiSecret);
  }

  /** Janus: with an api secret and/or token auth, a valid secret or a valid token is enough. */
  private authorized(apisecret: JsonValue | undefined, token: JsonValue | undefined): boolean {
    const secret = this.options.apiSecret;
    if (!secret && !this.tokenAuth.enabled) return true;
    if (secret && secretMatches(apisecret, secret)) return true;
    return this.tokenAuth.valid(token);
  }

  private checkAuthorized(request: JsonObject): void {
    if (!this.authorized(request.apisecret, request.token)) throw janusError(JanusErrorCode.UNAUTHORIZED);
  }

  /** Whether a long poll's `apisecret` / `token` query parameters pass (it bypasses dispatch). */
  pollAuthorized(apisecret: string | undefined, token: string | undefined): boolean {
    return this.authorized(apisecret, token);
  }

  /**
   * Refreshes a bearer session's activity (HTTP long polls count as keepalives). A session
   * owned by a connection is not touched: the poll is not its owner.
   */
  touchSession(sessionId: number): boolean {
    const session = this.sessions.get(sessionId);
    if (!session || !session.bearer) return false;
    session.touch();
    return true;
  }

  /**
   * The session `connection` may drive: a bearer session (created over HTTP) to anyone with
   * its id, an owned one only to its connection. Anything else is answered exactly like an
   * unknown id, so ids cannot be probed; `claim` is how another connection takes it over.
   */
  private sessionFor(connection: TransportConnection, sessionId: number, verb: string): Session {
    const session = this.sessions.get(sessionId);
    if (!session || (verb !== 'claim' && !session.bearer && session.connection !== connection)) {
      throw janusError(JanusErrorCode.SESSION_NOT_FOUND, `No such session ${sessionId}`);
    }
    return session;
  }

  /** A request's reply: at once, or once the plugin answers (attach, message). Throws JanusError. */
  private dispatch(connection: TransportConnection, raw: unknown, context: RequestContext): JsonObject | Promise<JsonObject> {
    const { request, ids, transaction, verbText, verb } = checkRequest(raw, REQUEST_RULES, context);

    if (ids.sessionId === 0 && ids.handleId === 0) {
      switch (verb) {
        case 'info': return this.serverInfo(transaction);
        case 'ping': return baseMessage('pong', 0, transaction);
        case 'create': return this.create(connection, request, transaction, context);
        default: throw janusError(JanusErrorCode.INVALID_REQUEST_PATH, `Unhandled request '${verbText}' at this path`);
      }
    }
    if (ids.sessionId < 1) throw janusError(JanusErrorCode.SESSION_NOT_FOUND);
    if (ids.handlePresent && ids.handleId < 1) throw janusError(JanusErrorCode.HANDLE_NOT_FOUND);
    this.checkAuthorized(request);
    const session = this.sessionFor(connection, ids.sessionId, verb);
    session.touch();
    let handle: Handle | undefined;
    if (ids.handleId > 0) {
      handle = session.handles.get(ids.handleId);
      if (!handle) {
        throw janusError(JanusErrorCode.HANDLE_NOT_FOUND, `No such handle ${ids.handleId} in session ${ids.sessionId}`);
      }
    }
    const wrongPath = (): JanusError => janusError(JanusErrorCode.INVALID_REQUEST_PATH, `Unhandled request '${verbText}' at this path`);
    switch (verb) {
      case 'keepalive':
        return baseMessage('ack', session.id, transaction);
      case 'attach':
        if (handle) throw wrongPath();
        return this.attach(session, request, transaction);
      case 'destroy':
        if (handle) throw wrongPath();
        void this.destroySession(session, 'destroyed');
        return baseMessage('success', session.id, transaction);
      case 'detach':
        if (!handle) throw wrongPath();
        void this.detachHandle(handle);
        return baseMessage('success', session.id, transaction);
      case 'hangup':
        if (!handle) throw wrongPath();
        handle.hangup('Janus API');
        return baseMessage('success', session.id, transaction);
      case 'claim':
        return this.claim(connection, session, transaction);
      case 'message':
        if (!handle) throw wrongPath();
        return this.message(handle, request, transaction);
      case 'trickle': {
        if (!handle) throw wrongPath();
        const candidates = parseTrickleRequest(request);
        handle.trickle(candidates);
        return baseMessage('ack', session.id, transaction);
      }
      default:
        throw janusError(JanusErrorCode.UNKNOWN_REQUEST, `Unknown request '${verbText}'`);
    }
  }

  private create(connection: TransportConnection, request: JsonObject, transaction: string, context: RequestContext): JsonObject {
    if (!this.acceptingNewSessions) throw janusError(JanusErrorCode.NOT_ACCEPTING_SESSIONS);
    this.checkAuthorized(request);
    const owned = this.byConnection.get(connection)?.size ?? 0;
    if (connection.maxSessions !== undefined && owned >= connection.maxSessions) {
      throw janusError(JanusErrorCode.UNKNOWN, `Too many sessions on this connection (at most ${connection.maxSessions})`);
    }
    let id: number;
    if (request.id !== undefined) {
      const wanted = request.id as number;
      if (!Number.isSafeInteger(wanted)) {
        throw janusError(JanusErrorCode.INVALID_ELEMENT_TYPE, 'Invalid element type (id should be a positive integer)');
      }
      if (this.sessions.has(wanted)) {
        // Janus echoes the conflicting id as the error's session_id.
        context.sessionId = wanted;
        throw janusError(JanusErrorCode.SESSION_CONFLICT, 'Session ID already in use');
      }
      id = wanted;
    } else {
      id = uniqueId((candidate) => this.sessions.has(candidate));
    }
    const session = new Session(id, null, this.log);
    this.sessions.set(id, session);
    this.bind(session, connection);
    try {
      connection.sessionCreated?.(id);
    } catch (error) {
      this.log.warn('transport sessionCreated failed', { session: id, error: error as Error });
    }
    this.log.debug('session created', { session: id, transport: connection.id });
    this.options.events?.session(id, 'created', { transport: connection.transport, id: connection.id });
    return { janus: 'success', transaction, data: { id } };
  }

  private async attach(session: Session, request: JsonObject, transaction: string): Promise<JsonObject> {
    validateFields(request, ATTACH_RULES);
    const packageName = request.plugin as string;
    const registered = this.plugins.get(packageName);
    if (!registered) throw janusError(JanusErrorCode.PLUGIN_NOT_FOUND, `No such plugin '${packageName}'`);
    // Janus: a token sent along must allow the plugin, even when the api secret was valid.
    if (this.tokenAuth.enabled && typeof request.token === 'string' && !this.tokenAuth.allows(request.token, packageName)) {
      throw janusError(JanusErrorCode.UNAUTHORIZED_PLUGIN, `Provided token can't access plugin '${packageName}'`);
    }
    const maxHandles = this.options.maxHandlesPerSession;
    if (maxHandles !== undefined && session.handles.size >= maxHandles) {
      throw janusError(JanusErrorCode.UNKNOWN, `Too many handles in this session (at most ${maxHandles})`);
    }
    const opaqueId = typeof request.opaque_id === 'string' ? request.opaque_id : undefined;
    const id = uniqueId((candidate) => this.handles.has(candidate));
    let handle: Handle;
    try {
      handle = new Handle(id, session, registered, opaqueId, this.options.mediaPlane, this.log, (h) => {
        if (session.handles.get(h.id) === h) void this.detachHandle(h);
      }, this.options.events);
    } catch (error) {
      this.log.error('media plane could not create a peer', { session: session.id, error: error as Error });
      throw janusError(JanusErrorCode.PLUGIN_ATTACH, `Couldn't attach to plugin: error '${(error as Error).message}'`);
    }
    this.handles.set(id, handle);
    session.handles.set(id, handle);
    try {
      await handle.create();
    } catch (error) {
      this.log.warn('plugin createSession failed', { plugin: packageName, handle: id, error: error as Error });
      session.handles.delete(id);
      this.handles.delete(id);
      handle.stopping = true;
      handle.gone = true;
      await handle.peer.close().catch(() => undefined);
      this.releaseRetired(registered);
      throw janusError(JanusErrorCode.PLUGIN_ATTACH, `Couldn't attach to plugin: error '${(error as Error).message}'`);
    }
    this.log.debug('handle attached', { session: session.id, handle: id, plugin: packageName });
    this.options.events?.handle(handle.eventIds(), 'attached', packageName);
    const reply = baseMessage('success', session.id, transaction);
    reply.data = { id };
    return reply;
  }

  private claim(connection: TransportConnection, session: Session, transaction: string): JsonObject {
    const reply: JsonObject = { janus: 'success', session_id: session.id, transaction };
    if (session.connection === connection) return reply;
    const previous = session.connection;
    if (previous?.sessionOver) {
      try {
        previous.sessionOver(session.id, 'claimed');
      } catch (error) {
        this.log.warn('transport sessionOver failed', { session: session.id, error: error as Error });
      }
    }
    this.bind(session, connection);
    session.transportGoneAt = null;
    try {
      connection.sessionCreated?.(session.id);
    } catch (error) {
      this.log.warn('transport sessionCreated failed', { session: session.id, error: error as Error });
    }
    this.log.info('session claimed', { session: session.id, transport: connection.id });
    return reply;
  }

  private async message(handle: Handle, request: JsonObject, transaction: string): Promise<JsonObject> {
    validateFields(request, BODY_RULES);
    const body = request.body as JsonObject;
    const jsep = request.jsep === undefined ? undefined : parseClientJsep(request.jsep);
    let result: PluginResult;
    try {
      result = await handle.message(transaction, body, jsep);
    } catch (error) {
      if (error instanceof JanusError) throw error;
      this.log.error('plugin handleMessage failed', { plugin: handle.packageName, handle: handle.id, error: error as Error });
      throw janusError(JanusErrorCode.PLUGIN_MESSAGE, 'Plugin returned a severe (unknown) error');
    }
    const sessionId = handle.session.id;
    switch (result.kind) {
      case 'ok': {
        if (!isJsonObject(result.data)) {
          throw janusError(JanusErrorCode.PLUGIN_MESSAGE, 'Plugin returned an invalid JSON response');
        }
        const reply = baseMessage('success', sessionId, transaction);
        reply.sender = handle.id;
        reply.plugindata = { plugin: handle.packageName, data: result.data };
        return reply;
      }
      case 'ack': {
        const reply = baseMessage('ack', sessionId, transaction);
        if (result.hint !== undefined) reply.hint = result.hint;
        return reply;
      }
      case 'error':
        throw janusError(JanusErrorCode.PLUGIN_MESSAGE, result.reason || 'Plugin returned a severe (unknown) error');
      default:
        throw janusError(JanusErrorCode.PLUGIN_MESSAGE, 'Plugin didn\'t give a result');
    }
  }

  /** Handles currently registered (tests, admin). */
  get handleCount(): number {
    return this.handles.size;
  }

  /** Live handles and established PeerConnections per plugin package (metrics). */
  handleCountsByPlugin(): Map<string, { handles: number; peerConnections: number }> {
    const counts = new Map<string, { handles: number; peerConnections: number }>();
    for (const handle of this.handles.values()) {
      let entry = counts.get(handle.packageName);
      if (!entry) {
        entry = { handles: 0, peerConnections: 0 };
        counts.set(handle.packageName, entry);
      }
      entry.handles++;
      if (handle.started) entry.peerConnections++;
    }
    return counts;
  }
}
