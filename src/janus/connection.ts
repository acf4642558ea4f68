// What the core needs from a transport: somewhere to deliver one JSON document, plus the
// Janus transport callbacks for the sessions bound to it (session_created / session_over /
// session_claimed). Transports (and embedding applications) implement this.

import type { JsonObject } from '../plugin/json';
import type { PluginInfo } from '../plugin/plugin';

/** Janus's transport plugin description, shown in `info` under `transports` (same fields as a plugin's). */
export type TransportInfo = PluginInfo;

export interface TransportConnection {
  /** Unique among live connections; for logs. */
  readonly id: string;
  /** Package of the transport, e.g. `janus.transport.websockets` (admin handle_info `session_transport`). */
  readonly transport: string;
  /**
   * Sessions created or claimed here are bearer sessions: any connection that knows the id
   * may drive them (Janus's HTTP transport, whose long-poll clients have no connection
   * identity). Otherwise (the default) only this connection may, until another claims them.
   */
  readonly bearer?: boolean;
  /**
   * Sessions this connection may create (error 490 beyond); absent = no limit. A WebSocket is
   * one client; HTTP shares one connection among all its clients, so it sets none.
   */
  readonly maxSessions?: number;
  /** Deliver a reply or an event for a session bound to this connection. */
  send(message: JsonObject): void;
  /** A session was created on (bound to) this connection. */
  sessionCreated?(sessionId: number): void;
  /**
   * A session bound here is over: destroyed, timed out, or claimed by another connection.
   * Called after any final event (`timeout`) has been sent.
   */
  sessionOver?(sessionId: number, reason: 'destroyed' | 'timeout' | 'claimed'): void;
}

/** Where the reply to one request goes (defaults to the connection itself). */
export type ReplySink = (reply: JsonObject) => void;
