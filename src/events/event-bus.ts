// Event handlers (Janus's janus_events): the core reports what happens (sessions, handles,
// JSEPs, WebRTC and media state, plugin notifyEvent, core start/stop) to one EventBus, which
// builds the event in Janus's format and hands it to its backends. The core knows nothing
// about backends; the HTTP one lives in http-backend.ts.
//
//   { emitter, type, timestamp (µs, wall clock), session_id?, handle_id?, opaque_id?, event }

import type { Logger } from '../log';
import type { JsonObject, JsonValue } from '../plugin/json';

/** Janus's event type numbers (janus/events.h). */
export const EventType = {
  SESSION: 1,
  HANDLE: 2,
  EXTERNAL: 4,
  JSEP: 8,
  WEBRTC: 16,
  MEDIA: 32,
  PLUGIN: 64,
  TRANSPORT: 128,
  CORE: 256,
} as const;

/** Names accepted in `eventHandlers.http.events` (Janus's sampleevh `events` setting). */
export const EVENT_TYPE_NAMES: Readonly<Record<string, number>> = {
  sessions: EventType.SESSION,
  handles: EventType.HANDLE,
  jsep: EventType.JSEP,
  webrtc: EventType.WEBRTC,
  media: EventType.MEDIA,
  plugins: EventType.PLUGIN,
  transports: EventType.TRANSPORT,
  core: EventType.CORE,
};

/** Every type, for "all". */
export const ALL_EVENT_TYPES = 0x1ff;

/** The bitmask of a list of type names ("all" = every type). Unknown names throw. */
export function eventTypeMask(names: readonly string[]): number {
  let mask = 0;
  for (const name of names) {
    if (name === 'all') return ALL_EVENT_TYPES;
    const bit = EVENT_TYPE_NAMES[name];
    if (bit === undefined) throw new Error(`unknown event type ${name}`);
    mask |= bit;
  }
  return mask;
}

export interface JanusEvent {
  emitter: string;
  type: number;
  /** Wall clock, microseconds since the epoch. */
  timestamp: number;
  session_id?: number;
  handle_id?: number;
  opaque_id?: string;
  event: JsonObject;
}

/** Where events go (e.g. the HTTP backend). handle() must not block or throw. */
export interface EventBackend {
  handle(event: JanusEvent): void;
  /**
   * Absent: an event handler backend, fed only when event handlers are enabled. Present: an
   * observer (the embedding API's typed events), fed the types it accepts either way.
   */
  accepts?(type: number): boolean;
  /** Flush what is queued and release resources. */
  stop(): Promise<void>;
}

/** The ids an event is tied to. */
export interface EventIds {
  sessionId?: number;
  handleId?: number;
  opaqueId?: string;
}

export interface EventBusOptions {
  /** `emitter` of every event (Janus: server_name). */
  emitter: string;
  /** eventHandlers.enabled: nothing is emitted when false. */
  enabled: boolean;
  logger: Logger;
  backends?: EventBackend[];
}

function wallClockMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export class EventBus {
  readonly enabled: boolean;
  /** Events emitted so far (also when no backend takes them). */
  count = 0;
  private readonly backends: EventBackend[];
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly options: EventBusOptions) {
    this.enabled = options.enabled;
    this.backends = [...(options.backends ?? [])];
    this.log = options.logger.child({ component: 'events' });
  }

  addBackend(backend: EventBackend): void {
    this.backends.push(backend);
  }

  /** Builds one event and hands it to every backend that takes it. Never throws. */
  emit(type: number, event: JsonObject, ids: EventIds = {}): void {
    if (this.stopped) return;
    const takers = this.backends.filter((backend) => (backend.accepts ? backend.accepts(type) : this.enabled));
    if (!this.enabled && takers.length === 0) return;
    const out: JanusEvent = { emitter: this.options.emitter, type, timestamp: wallClockMicros(), event };
    if (ids.sessionId !== undefined) out.session_id = ids.sessionId;
    if (ids.handleId !== undefined) out.handle_id = ids.handleId;
    if (ids.opaqueId !== undefined) out.opaque_id = ids.opaqueId;
    this.count++;
    if (takers.length === 0) {
      this.log.debug('event', { type, event: out as unknown as JsonValue });
      return;
    }
    for (const backend of takers) {
      try {
        backend.handle(out);
      } catch (error) {
        this.log.warn('event backend failed', { error: error as Error });
      }
    }
  }

  // ---- the core's emit points, in Janus's shapes ---------------------------------------------

  session(sessionId: number, name: 'created' | 'destroyed' | 'timeout', transport?: { transport: string; id: string }): void {
    const event: JsonObject = { name };
    if (transport) event.transport = { transport: transport.transport, id: transport.id };
    this.emit(EventType.SESSION, event, { sessionId });
  }

  handle(ids: Required<Pick<EventIds, 'sessionId' | 'handleId'>> & EventIds, name: 'attached' | 'detached', plugin: string): void {
    const event: JsonObject = { name, plugin };
    if (ids.opaqueId !== undefined) event.opaque_id = ids.opaqueId;
    this.emit(EventType.HANDLE, event, ids);
  }

  jsep(ids: EventIds, owner: 'remote' | 'local', jsep: { type: string; sdp: string }): void {
    this.emit(EventType.JSEP, { owner, jsep: { type: jsep.type, sdp: jsep.sdp } }, ids);
  }

  webrtc(ids: EventIds, event: JsonObject): void {
    this.emit(EventType.WEBRTC, event, ids);
  }

  media(ids: EventIds, event: JsonObject): void {
    this.emit(EventType.MEDIA, event, ids);
  }

  plugin(ids: EventIds, plugin: string, data: JsonValue): void {
    this.emit(EventType.PLUGIN, { plugin, data }, ids);
  }

  core(status: 'started' | 'shutdown', extra: JsonObject = {}): void {
    this.emit(EventType.CORE, { status, ...extra });
  }

  /** Stops emitting and flushes every backend. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.backends.map(async (backend) => {
      try {
        await backend.stop();
      } catch (error) {
        this.log.warn('event backend stop failed', { error: error as Error });
      }
    }));
  }
}
