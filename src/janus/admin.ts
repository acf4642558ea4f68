// The Admin API (docs/contract.md §5.4): its own dispatch over the same core. Admin requests
// never refresh session activity. Every request but info/ping needs admin_secret when set.

import { logLevelOfJanus, type Logger } from '../log';
import type { JsonObject, JsonValue } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import type { ReplySink, TransportConnection } from './connection';
import type { JanusCore } from './core';
import { JanusError, JanusErrorCode } from './errors';
import type { Handle } from './handle';
import { type RequestContext, type RequestObserver, checkRequest, runRequest, runText } from './request-runner';
import { ADMIN_REQUEST_RULES, baseMessage, janusError, secretMatches, validateFields } from './protocol';
import { monotonicMicros } from './serial-queue';

export interface AdminApiOptions {
  core: JanusCore;
  /** admin_secret; empty = none. */
  adminSecret: string;
  logger: Logger;
  /** Told of every request's outcome (metrics). */
  onRequest?: RequestObserver;
}

export class AdminApi {
  private readonly log: Logger;

  constructor(private readonly options: AdminApiOptions) {
    this.log = options.logger.child({ component: 'janus-admin' });
  }

  /** One admin request; the reply goes to `reply` (default: the connection) and is returned. */
  handleRequest(connection: TransportConnection, request: unknown, reply?: ReplySink): Promise<JsonObject> {
    return runRequest((_c, r, context) => this.dispatch(r, context), connection, request, reply, this.log, this.options.onRequest);
  }

  handleText(connection: TransportConnection, text: string | Uint8Array, reply?: ReplySink): Promise<JsonObject[]> {
    return runText((request) => this.handleRequest(connection, request, reply), connection, text, reply, this.log, this.options.onRequest);
  }

  private checkSecret(request: JsonObject): void {
    const secret = this.options.adminSecret;
    if (secret && !secretMatches(request.admin_secret, secret)) throw janusError(JanusErrorCode.UNAUTHORIZED);
  }

  private async dispatch(raw: unknown, context: RequestContext): Promise<JsonObject> {
    const { request, ids, transaction, verbText, verb } = checkRequest(raw, ADMIN_REQUEST_RULES, context);
    const core = this.options.core;
    const wrongPath = (): JanusError => janusError(JanusErrorCode.INVALID_REQUEST_PATH, `Unhandled request '${verbText}' at this path`);

    if (ids.sessionId === 0 && ids.handleId === 0) {
      if (verb === 'info') return core.serverInfo(transaction);
      if (verb === 'ping') return baseMessage('pong', 0, transaction);
      this.checkSecret(request);
      switch (verb) {
        case 'list_sessions': {
          const reply = baseMessage('success', 0, transaction);
          reply.sessions = core.sessionIds();
          return reply;
        }
        case 'get_status': {
          const reply = baseMessage('success', 0, transaction);
          reply.status = {
            token_auth: core.tokenAuth.enabled,
            api_secret: core.apiSecretSet,
            session_timeout: core.sessionTimeout,
            reclaim_session_timeout: core.reclaimSessionTimeout,
            accepting_new_sessions: core.acceptingNewSessions,
          };
          return reply;
        }
        case 'accept_new_sessions': {
          if (typeof request.accept !== 'boolean') {
            throw janusError(
              request.accept === undefined ? JanusErrorCode.MISSING_MANDATORY_ELEMENT : JanusErrorCode.INVALID_ELEMENT_TYPE,
              request.accept === undefined ? 'Missing mandatory element (accept)' : 'Invalid element type (accept should be a boolean)',
            );
          }
          core.acceptingNewSessions = request.accept;
          const reply = baseMessage('success', 0, transaction);
          reply.accept = request.accept;
          return reply;
        }
        case 'set_session_timeout': {
          const timeout = this.readTimeout(request);
          core.sessionTimeout = timeout;
          const reply = baseMessage('success', 0, transaction);
          reply.timeout = timeout;
          return reply;
        }
        case 'set_log_level': {
          const level = request.level;
          if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level > 7) {
            throw janusError(
              level === undefined ? JanusErrorCode.MISSING_MANDATORY_ELEMENT : JanusErrorCode.INVALID_ELEMENT_TYPE,
              level === undefined ? 'Missing mandatory element (level)' : 'Invalid element type (level should be between 0 and 7)',
            );
          }
          this.options.logger.level = logLevelOfJanus(level);
          const reply = baseMessage('success', 0, transaction);
          reply.level = level;
          return reply;
        }
        case 'message_plugin':
          return this.messagePlugin(request, transaction);
        case 'add_token':
        case 'list_tokens':
        case 'allow_token':
        case 'disallow_token':
        case 'remove_token':
          return this.manageTokens(verb, request, transaction);
        default:
          throw wrongPath();
      }
    }
    if (ids.sessionId < 1) throw janusError(JanusErrorCode.SESSION_NOT_FOUND);
    // Admin: a non-positive handle_id with a session is 458, not 459 (docs/contract.md §5.4).
    if (ids.handlePresent && ids.handleId < 1) throw janusError(JanusErrorCode.SESSION_NOT_FOUND);
    this.checkSecret(request);
    const session = core.getSession(ids.sessionId);
    if (!session) throw janusError(JanusErrorCode.SESSION_NOT_FOUND, `No such session ${ids.sessionId}`);
    if (ids.handleId === 0) {
      switch (verb) {
        case 'list_handles': {
          const reply = baseMessage('success', session.id, transaction);
          reply.handles = [...session.handles.keys()];
          return reply;
        }
        case 'destroy_session':
          void core.destroySession(session, 'admin');
          return baseMessage('success', session.id, transaction);
        case 'set_session_timeout': {
          const timeout = this.readTimeout(request, true);
          session.timeout = timeout;
          const reply = baseMessage('success', session.id, transaction);
          reply.timeout = timeout;
          return reply;
        }
        default:
          throw wrongPath();
      }
    }
    const handle = session.handles.get(ids.handleId);
    if (!handle) throw janusError(JanusErrorCode.HANDLE_NOT_FOUND, `No such handle ${ids.handleId} in session ${session.id}`);
    switch (verb) {
      case 'handle_info': {
        if (request.plugin_only !== undefined && typeof request.plugin_only !== 'boolean') {
          throw janusError(JanusErrorCode.INVALID_ELEMENT_TYPE, 'Invalid element type (plugin_only should be a boolean)');
        }
        const reply = baseMessage('success', session.id, transaction);
        reply.handle_id = handle.id;
        reply.info = await this.handleInfo(handle, request.plugin_only === true);
        return reply;
      }
      case 'detach_handle':
        void core.detachHandle(handle);
        return baseMessage('success', session.id, transaction);
      case 'hangup_webrtc':
        handle.hangup('Admin API');
        return baseMessage('success', session.id, transaction);
      default:
        throw wrongPath();
    }
  }

  /** Stored-token management (janus.c add_token & co.); replies carry `data`. */
  private manageTokens(verb: string, request: JsonObject, transaction: string): JsonObject {
    const tokens = this.options.core.tokenAuth;
    if (tokens.mode !== 'stored') throw janusError(JanusErrorCode.UNKNOWN, 'Stored-Token based authentication disabled');
    const reply = baseMessage('success', 0, transaction);
    if (verb === 'list_tokens') {
      reply.data = { tokens: tokens.list().map(({ token, plugins }) => ({ token, allowed_plugins: plugins })) };
      return reply;
    }
    validateFields(request, [{ name: 'token', type: 'string', required: true }]);
    const token = request.token as string;
    if (verb === 'remove_token') {
      if (!tokens.remove(token)) throw janusError(JanusErrorCode.UNKNOWN, 'Error removing token');
      return reply;
    }
    if (verb === 'add_token') {
      validateFields(request, [{ name: 'plugins', type: 'array' }]);
      const given = request.plugins as JsonValue[] | undefined;
      // No list (or an empty one): every plugin registered now, as Janus does.
      const plugins = given && given.length > 0
        ? this.pluginList(given)
        : this.options.core.pluginInfos().map((info) => info.package);
      reply.data = { plugins: tokens.add(token, plugins) };
      return reply;
    }
    validateFields(request, [{ name: 'plugins', type: 'array', required: true }]);
    const given = request.plugins as JsonValue[];
    if (given.length === 0) throw janusError(JanusErrorCode.INVALID_ELEMENT_TYPE, 'Invalid element type (plugins should be a non-empty array)');
    const plugins = this.pluginList(given);
    if (!tokens.has(token)) throw janusError(JanusErrorCode.TOKEN_NOT_FOUND, `Token ${token} not found`);
    const now = verb === 'allow_token' ? tokens.allow(token, plugins) : tokens.disallow(token, plugins);
    reply.data = { plugins: now ?? [] };
    return reply;
  }

  /** Package names of registered plugins; anything else is refused as Janus does. */
  private pluginList(values: readonly JsonValue[]): string[] {
    return values.map((value) => {
      if (typeof value !== 'string' || !this.options.core.getPlugin(value)) {
        throw janusError(JanusErrorCode.INVALID_ELEMENT_TYPE, 'Invalid element in the allowed plugins array');
      }
      return value;
    });
  }

  private readTimeout(request: JsonObject, allowDefault = false): number {
    const value = request.timeout;
    if (value === undefined) throw janusError(JanusErrorCode.MISSING_MANDATORY_ELEMENT, 'Missing mandatory element (timeout)');
    const min = allowDefault ? -1 : 0;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw janusError(JanusErrorCode.INVALID_ELEMENT_TYPE, 'Invalid element type (timeout should be a positive integer)');
    }
    return value;
  }

  private async messagePlugin(request: JsonObject, transaction: string): Promise<JsonObject> {
    validateFields(request, [
      { name: 'plugin', type: 'string', required: true },
      { name: 'request', type: 'object' },
    ]);
    const registered = this.options.core.getPlugin(request.plugin as string);
    if (!registered) throw janusError(JanusErrorCode.PLUGIN_NOT_FOUND, 'Invalid plugin');
    let response: JsonObject | unknown = {};
    try {
      response = await registered.plugin.handleAdminMessage(request.request);
    } catch (error) {
      this.log.error('plugin handleAdminMessage failed', { plugin: registered.info.package, error: error as Error });
      response = {};
    }
    const reply = baseMessage('success', 0, transaction);
    reply.response = isJsonObject(response) || Array.isArray(response) ? response : {};
    return reply;
  }

  /** handle_info `info` (janus_admin_handle_info-like); stops after plugin_specific with pluginOnly. */
  private async handleInfo(handle: Handle, pluginOnly: boolean): Promise<JsonObject> {
    const core = this.options.core;
    const session = handle.session;
    const info: JsonObject = {
      session_id: session.id,
      session_last_activity: Math.round(session.lastActivity * 1000),
      session_timeout: core.effectiveTimeout(session),
      session_transport: session.connection?.transport ?? 'none',
      handle_id: handle.id,
    };
    if (handle.opaqueId !== undefined) info.opaque_id = handle.opaqueId;
    info['loop-running'] = true;
    info.created = handle.createdMicros;
    info.current_time = monotonicMicros();
    info.plugin = handle.packageName;
    try {
      const specific = await handle.plugin.querySession(handle.pluginHandle);
      if (isJsonObject(specific)) info.plugin_specific = specific;
    } catch (error) {
      this.log.warn('plugin querySession failed', { plugin: handle.packageName, error: error as Error });
    }
    if (pluginOnly) return info;
    const peer = handle.peerInfo();
    const peerFlags = isJsonObject(peer.flags) ? peer.flags : {};
    info.flags = { ...handle.coreFlags(), ...peerFlags };
    info['agent-created'] = peer['agent-created'] ?? handle.createdMicros;
    info['ice-mode'] = peer['ice-mode'] ?? 'full';
    info['ice-role'] = peer['ice-role'] ?? 'controlled';
    info.sdps = peer.sdps ?? { profile: 'UDP/TLS/RTP/SAVPF' };
    for (const [key, value] of Object.entries(peer)) {
      if (!(key in info)) info[key] = value;
    }
    if (!('webrtc' in info)) info.webrtc = {};
    return info;
  }
}

