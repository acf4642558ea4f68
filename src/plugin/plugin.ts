// The narrow contract between the Janus core and a plugin, modelled on Janus's janus_plugin.h.
// The core knows nothing about what a plugin does; a plugin knows nothing about transports.
// The Lua host, the JavaScript host and plain TypeScript plugins all implement `Plugin`.

import type { JsonObject, JsonValue } from './json';
import type { MediaRouter } from './media';
import type { PluginInfo } from '../common/plugin-info';
import type { PluginMonitor } from './monitor';

// PluginInfo lives in src/common/ because the script threads build it too; it is part of
// this contract all the same.
export type { PluginInfo } from '../common/plugin-info';

/** Simulcast description the core extracts from a client offer (docs/contract.md §3.1). */
export interface JsepSimulcast {
  mindex: number;
  mid: string;
  rids?: string[];
  'rid-ext'?: number;
  ssrcs?: number[];
}

/** A JSEP as the plugin sees it: client offers arrive anonymised; plugin JSEPs are minimal. */
export interface PluginJsep {
  type: 'offer' | 'answer';
  sdp: string;
  simulcast?: JsepSimulcast[];
  update?: boolean;
  e2ee?: boolean;
  /** Plugin offers only: ask the core for an ICE restart. */
  restart?: boolean;
}

/** The handle a plugin session belongs to. `id` is the Janus handle id (53-bit). */
export interface PluginHandle {
  readonly id: number;
  readonly sessionId: number;
  readonly opaqueId?: string;
}

/** What handleMessage answers: a synchronous reply, an ack (events follow), or an error (462). */
export type PluginResult =
  | { kind: 'ok'; data: JsonObject }
  | { kind: 'ack'; hint?: string }
  | { kind: 'error'; reason: string };

/** A data channel message, in either direction. */
export interface DataMessage {
  binary: boolean;
  /** Text for text messages, bytes for binary ones. */
  payload: string | Uint8Array;
  label: string;
  protocol: string;
}

/** Result codes of pushEvent, as Janus's core returns them to plugins. */
export const PushEventResult = {
  OK: 0,
  HANDLE_GONE: -2,
  SESSION_GONE: 458,
  INVALID_JSON_OBJECT: 455,
  ERROR: -1,
} as const;

/** What the core offers back to a plugin (janus_callbacks). pushEvent, closePc and endSession only reach the plugin's own handles. */
export interface PluginHost {
  /**
   * Send a plugin `event` to the handle's client. With a JSEP the SDP is merged with the
   * handle's transport and sent asynchronously (0 is returned once accepted).
   */
  pushEvent(handleId: number, transaction: string | undefined, event: JsonObject, jsep?: PluginJsep): number;
  /** Hang up the handle's PeerConnection (deferred; hangupMedia follows). */
  closePc(handleId: number): void;
  /** Detach the handle (deferred; hangupMedia and destroySession follow). */
  endSession(handleId: number): void;
  /** Whether event handlers are on (what a script's `eventsIsEnabled()` reports). */
  eventsIsEnabled(): boolean;
  /** Forward an event to the event handlers (0 = not tied to a handle). */
  notifyEvent(handleId: number, event: JsonValue): void;
  /** Media routing for this plugin's handles. */
  readonly media: MediaRouter;
}

/** A plugin, as the core drives it. Every callback for a handle is serialised by the core. */
export interface Plugin {
  /** Called once; the host is usable from here on. Rejects if the plugin cannot start. */
  init(host: PluginHost): Promise<void>;
  /** The plugin's package, name and versions; valid after init resolves. */
  info(): PluginInfo;
  /** Called once at shutdown, after every handle is gone. */
  destroy(): Promise<void>;

  /** attach: rejects -> 461. Runs before the attach success goes out. */
  createSession(handle: PluginHandle): Promise<void>;
  /**
   * A `message` request: `body` as the client sent it, `jsep` anonymised (client offers or
   * answers). The result becomes `success` with plugindata, `ack`, or error 462.
   */
  handleMessage(
    handle: PluginHandle,
    transaction: string,
    body: JsonObject,
    jsep: PluginJsep | undefined,
  ): Promise<PluginResult>;
  /** Admin `message_plugin`; `undefined` request when the admin request had none. */
  handleAdminMessage(request: JsonValue | undefined): Promise<JsonValue>;
  /** ICE and DTLS are up; called before `webrtcup` goes to the client. */
  setupMedia(handle: PluginHandle): Promise<void>;
  /** The PeerConnection is gone (any cause, and always before destroySession on detach). */
  hangupMedia(handle: PluginHandle): Promise<void>;
  /** The handle is detached (after hangupMedia); the plugin forgets its session. */
  destroySession(handle: PluginHandle): Promise<void>;
  /** Admin handle_info `plugin_specific`; undefined omits it. */
  querySession(handle: PluginHandle): Promise<JsonObject | undefined>;

  /** Data arrived from the client and the plugin wants it (see wantsIncomingData). */
  incomingData?(handle: PluginHandle, message: DataMessage): void;
  /** Whether incoming data of this kind goes to the plugin instead of being relayed. */
  wantsIncomingData?(binary: boolean): boolean;
  /** The handle's data channel is usable (again); data can be relayed to it from now on. */
  dataReady?(handle: PluginHandle): void;
  /** Packet loss on one of the handle's streams; note the order (uplink, video), as Janus's plugins get it. */
  slowLink?(handle: PluginHandle, uplink: boolean, video: boolean): void;
  /** The simulcast substream this handle receives changed. */
  substreamChanged?(handle: PluginHandle, substream: number): void;
  /** The temporal layer this handle receives changed. */
  temporalLayerChanged?(handle: PluginHandle, layer: number): void;

  /** Optional: readiness and callback/restart events for /ready and metrics. */
  readonly monitor?: PluginMonitor;
}
