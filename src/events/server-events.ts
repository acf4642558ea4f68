// The embedding API's typed events (`sfu.on('handle', ...)`). Sessions, handles, WebRTC and
// media state and plugin events come from the core's one event path, the EventBus: the
// ObserverBackend below is a bus backend that turns the Janus-format events into typed ones,
// and only asks the bus for the types someone listens to. Script errors and restarts come from
// the script plugins (ScriptObserver), since Janus has no event type for them.

import type { EventEmitter } from 'node:events';
import type { JsonValue } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import type { PluginInfo } from '../plugin/plugin';
import type { ScriptErrorReport, ScriptRestartReport } from '../script/script-plugin';
import { type EventBackend, EventType, type JanusEvent } from './event-bus';

/** The ids every handle-level event carries. */
export interface HandleIds {
  sessionId: number;
  handleId: number;
  /** The client's opaque_id, when it gave one at attach. */
  opaqueId?: string;
}

export interface SessionEvent {
  sessionId: number;
  name: 'created' | 'destroyed' | 'timeout';
  /** On `created`: the transport package and the connection id. */
  transport?: { transport: string; id: string };
}

export interface HandleEvent extends HandleIds {
  name: 'attached' | 'detached';
  /** Package of the plugin the handle is attached to. */
  plugin: string;
}

/** ICE and DTLS up (`ice`/`dtls`: `connected`), PeerConnection up (`webrtcup`) or torn down (`hangup`, with the reason). */
export interface WebrtcEvent extends HandleIds {
  ice?: string;
  dtls?: string;
  connection?: 'webrtcup' | 'hangup';
  reason?: string;
}

/** Media started or stopped arriving on one m-line (Janus's `media` event). */
export interface MediaEvent extends HandleIds {
  mid: string;
  media: 'audio' | 'video';
  receiving: boolean;
  substream?: number;
  /** Seconds without media, when `receiving` turned false. */
  seconds?: number;
}

/** A plugin's notifyEvent (sent only while event handlers are enabled, as in Janus). */
export interface PluginNotification extends Partial<HandleIds> {
  plugin: string;
  data: JsonValue;
}

export type ScriptErrorEvent = ScriptErrorReport;
export type ScriptRestartEvent = ScriptRestartReport;

/** A script was replaced by a hot reload (server.reloadScript or SIGHUP). */
export interface ScriptReloadEvent {
  plugin: string;
  /** The script now loaded, and the one before. */
  script: string;
  previousScript: string;
  info: PluginInfo;
}

/** Event name → listener arguments, for `sfu.on(name, listener)`. */
export interface LuasfuEvents {
  session: [SessionEvent];
  handle: [HandleEvent];
  webrtc: [WebrtcEvent];
  media: [MediaEvent];
  plugin: [PluginNotification];
  scriptError: [ScriptErrorEvent];
  scriptRestart: [ScriptRestartEvent];
  scriptReload: [ScriptReloadEvent];
}

/** The events the bus delivers, by Janus event type. */
type BusEventName = 'session' | 'handle' | 'webrtc' | 'media' | 'plugin';

const BUS_EVENTS: ReadonlyMap<number, BusEventName> = new Map([
  [EventType.SESSION, 'session'],
  [EventType.HANDLE, 'handle'],
  [EventType.WEBRTC, 'webrtc'],
  [EventType.MEDIA, 'media'],
  [EventType.PLUGIN, 'plugin'],
] as const);

/** Where the typed events go: the Luasfu emitter. */
export type TypedEventSink = Pick<EventEmitter<LuasfuEvents>, 'emit' | 'listenerCount'>;

function text(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function handleIds(event: JanusEvent): HandleIds | undefined {
  if (event.session_id === undefined || event.handle_id === undefined) return undefined;
  const ids: HandleIds = { sessionId: event.session_id, handleId: event.handle_id };
  if (event.opaque_id !== undefined) ids.opaqueId = event.opaque_id;
  return ids;
}

/** An EventBus backend that feeds the typed events (never a Janus event handler). */
export class ObserverBackend implements EventBackend {
  constructor(private readonly sink: TypedEventSink) {}

  accepts(type: number): boolean {
    const name = BUS_EVENTS.get(type);
    return name !== undefined && this.sink.listenerCount(name) > 0;
  }

  handle(event: JanusEvent): void {
    const body = event.event;
    switch (event.type) {
      case EventType.SESSION: {
        const name = text(body.name);
        if (event.session_id === undefined || (name !== 'created' && name !== 'destroyed' && name !== 'timeout')) return;
        const out: SessionEvent = { sessionId: event.session_id, name };
        const transport = body.transport;
        if (isJsonObject(transport)) out.transport = { transport: text(transport.transport) ?? '', id: text(transport.id) ?? '' };
        this.sink.emit('session', out);
        return;
      }
      case EventType.HANDLE: {
        const ids = handleIds(event);
        const name = text(body.name);
        if (!ids || (name !== 'attached' && name !== 'detached')) return;
        this.sink.emit('handle', { ...ids, name, plugin: text(body.plugin) ?? '' });
        return;
      }
      case EventType.WEBRTC: {
        const ids = handleIds(event);
        if (!ids) return;
        const out: WebrtcEvent = { ...ids };
        if (text(body.ice) !== undefined) out.ice = text(body.ice);
        if (text(body.dtls) !== undefined) out.dtls = text(body.dtls);
        const connection = text(body.connection);
        if (connection === 'webrtcup' || connection === 'hangup') out.connection = connection;
        if (text(body.reason) !== undefined) out.reason = text(body.reason);
        this.sink.emit('webrtc', out);
        return;
      }
      case EventType.MEDIA: {
        const ids = handleIds(event);
        const media = text(body.media);
        if (!ids || (media !== 'audio' && media !== 'video') || typeof body.receiving !== 'boolean') return;
        const out: MediaEvent = { ...ids, mid: text(body.mid) ?? '', media, receiving: body.receiving };
        if (typeof body.substream === 'number') out.substream = body.substream;
        if (typeof body.seconds === 'number') out.seconds = body.seconds;
        this.sink.emit('media', out);
        return;
      }
      case EventType.PLUGIN: {
        const out: PluginNotification = { plugin: text(body.plugin) ?? '', data: body.data ?? null };
        if (event.session_id !== undefined) out.sessionId = event.session_id;
        if (event.handle_id !== undefined) out.handleId = event.handle_id;
        if (event.opaque_id !== undefined) out.opaqueId = event.opaque_id;
        this.sink.emit('plugin', out);
        return;
      }
      default:
    }
  }

  async stop(): Promise<void> {
    // Nothing queued: events are delivered synchronously.
  }
}
