// A Janus handle: one plugin session plus one media-plane Peer. Owns the handle lifecycle
// (docs/contract.md §2 ordering): createSession -> handleMessage... -> setupMedia -> webrtcup
// -> ... -> hangupMedia -> destroySession -> detached. Every plugin callback for the handle
// runs through one SerialQueue, so the plugin never sees two at once.

import type { EventBus, EventIds } from '../events/event-bus';
import type { Logger } from '../log';
import type { ClientJsep, FullJsep, HangupReason, MediaPlane, Peer, PeerEvents, TrickleCandidate } from '../plugin/media-plane';
import type { JsonObject } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import type { DataMessage, Plugin, PluginHandle, PluginInfo, PluginJsep, PluginResult } from '../plugin/plugin';
import { PushEventResult } from '../plugin/plugin';
import { JanusErrorCode, toJanusError } from './errors';
import { janusError } from './protocol';
import { SerialQueue, monotonicMicros, settlesWithin } from './serial-queue';
import type { Session } from './session';

/** A plugin as the core registered it. */
export interface RegisteredPlugin {
  readonly plugin: Plugin;
  readonly info: PluginInfo;
}

/** Candidates trickled before the SDP are queued; more than this are dropped. */
const MAX_PENDING_CANDIDATES = 256;
/** How long a new offer waits for a previous PeerConnection's cleanup (Janus: 3 s, then 471). */
const CLEANING_WAIT_MS = 3000;

/** Resolves on the next turn of the event loop (after pending I/O callbacks and replies). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A plugin JSEP is acceptable when its type is known and its SDP looks like an SDP. */
export function isValidPluginJsep(jsep: PluginJsep): boolean {
  return (jsep.type === 'offer' || jsep.type === 'answer') && typeof jsep.sdp === 'string' && /^v=0\r?\n/.test(jsep.sdp);
}

/** The jsep as it goes to the client: type and sdp, plus e2ee only when true. */
function clientJsep(full: FullJsep): JsonObject {
  const out: JsonObject = { type: full.type, sdp: full.sdp };
  if (full.e2ee === true) out.e2ee = true;
  return out;
}

export class Handle {
  readonly pluginHandle: PluginHandle;
  readonly createdMicros = monotonicMicros();
  readonly peer: Peer;
  private readonly queue = new SerialQueue();
  /** Events wait here behind a JSEP event whose SDP is still being merged, to keep order. */
  private outbox: Promise<void> = Promise.resolve();
  private outboxDepth = 0;
  /** Detach has begun: no new work, pushEvent answers 458. */
  stopping = false;
  /** destroySession has run: pushEvent answers -2. */
  gone = false;
  /** A PeerConnection has been negotiated (or is being): hangups tear it down. */
  pcActive = false;
  /** setupMedia ran for the current PeerConnection. */
  started = false;
  /** `ice: connected` went to the event handlers for this PeerConnection. */
  private iceReported = false;
  private hangingUp = false;
  private cleaning: Promise<void> | null = null;
  private remoteDescriptionSet = false;
  private pendingCandidates: Array<TrickleCandidate | null> = [];
  private closePcScheduled = false;
  private detachPromise: Promise<void> | null = null;
  private readonly log: Logger;

  constructor(
    readonly id: number,
    readonly session: Session,
    readonly registered: RegisteredPlugin,
    readonly opaqueId: string | undefined,
    private readonly mediaPlane: MediaPlane,
    logger: Logger,
    /** Called (deferred) when the plugin asks to end this handle (endSession). */
    private readonly onEndRequested: (handle: Handle) => void,
    /** Event handlers (jsep, webrtc, media events); absent = none. */
    private readonly events?: EventBus,
  ) {
    this.log = logger.child({ session: session.id, handle: id, plugin: registered.info.package });
    this.pluginHandle = opaqueId === undefined
      ? { id, sessionId: session.id }
      : { id, sessionId: session.id, opaqueId };
    this.peer = mediaPlane.createPeer({ id, sessionId: session.id }, this.peerEvents());
  }

  get plugin(): Plugin {
    return this.registered.plugin;
  }

  get packageName(): string {
    return this.registered.info.package;
  }

  /** The ids of this handle's events (event handlers). */
  eventIds(): { sessionId: number; handleId: number } & EventIds {
    const ids: { sessionId: number; handleId: number } & EventIds = { sessionId: this.session.id, handleId: this.id };
    if (this.opaqueId !== undefined) ids.opaqueId = this.opaqueId;
    return ids;
  }

  /** attach: the plugin's createSession; rejects -> 461. */
  create(): Promise<void> {
    return this.queue.run(() => this.plugin.createSession(this.pluginHandle));
  }

  /**
   * message: the JSEP (already validated) goes to the peer first, then body and anonymised
   * JSEP go to the plugin. Throws JanusError for JSEP problems (465/469/471).
   */
  message(transaction: string, body: JsonObject, jsep: ClientJsep | undefined): Promise<PluginResult> {
    return this.queue.run(() => {
      if (this.stopping) throw janusError(JanusErrorCode.PLUGIN_MESSAGE, 'No plugin to handle this message');
      const toPlugin = (pluginJsep: PluginJsep | undefined): Promise<PluginResult> => this.plugin.handleMessage(this.pluginHandle, transaction, body, pluginJsep);
      return jsep ? this.takeRemoteDescription(jsep).then(toPlugin) : toPlugin(undefined);
    });
  }

  /** The client's JSEP goes to the peer (once a previous hangup's cleanup is done); what the plugin gets. */
  private async takeRemoteDescription(jsep: ClientJsep): Promise<PluginJsep> {
    if (this.cleaning && !(await settlesWithin(this.cleaning, CLEANING_WAIT_MS))) {
      throw janusError(JanusErrorCode.WEBRTC_STATE, 'Still cleaning a previous session');
    }
    let pluginJsep: PluginJsep;
    try {
      pluginJsep = await this.peer.setRemoteDescription(jsep);
    } catch (error) {
      throw toJanusError(error) ?? janusError(JanusErrorCode.JSEP_INVALID_SDP, (error as Error).message || 'Invalid SDP');
    }
    this.pcActive = true;
    this.hangingUp = false;
    this.remoteDescriptionSet = true;
    this.flushCandidates();
    this.events?.jsep(this.eventIds(), 'remote', jsep);
    return pluginJsep;
  }

  /** trickle: candidates before the remote SDP are queued (bounded), later ones go to the peer. */
  trickle(candidates: Array<TrickleCandidate | null>): void {
    if (this.stopping) return;
    for (const candidate of candidates) {
      if (this.remoteDescriptionSet) {
        this.addCandidate(candidate);
      } else if (this.pendingCandidates.length < MAX_PENDING_CANDIDATES) {
        this.pendingCandidates.push(candidate);
      } else {
        this.log.warn('too many candidates before the SDP, dropping one');
      }
    }
  }

  private addCandidate(candidate: TrickleCandidate | null): void {
    try {
      this.peer.addRemoteCandidate(candidate);
    } catch (error) {
      this.log.warn('peer refused a candidate', { error: error as Error });
    }
  }

  private flushCandidates(): void {
    const queued = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of queued) this.addCandidate(candidate);
  }

  /**
   * Tear the PeerConnection down (hangup request, closePc, peer failure): peer.hangup(),
   * plugin hangupMedia, then the `hangup` event. Nothing happens without a PeerConnection.
   */
  hangup(reason: HangupReason): void {
    if (!this.pcActive || this.hangingUp || this.stopping) return;
    this.hangingUp = true;
    this.resetMediaState();
    const cleaning = this.peerHangup();
    this.cleaning = cleaning;
    void cleaning.finally(() => {
      if (this.cleaning === cleaning) this.cleaning = null;
    });
    // Queued now (a following message must come after it), run a turn later (Janus does it
    // from the handle's loop): the request's reply goes out before the event.
    void this.queue.run(async () => {
      await nextTurn();
      await this.callPlugin('hangupMedia', () => this.plugin.hangupMedia(this.pluginHandle));
      this.events?.webrtc(this.eventIds(), { connection: 'hangup', reason });
      this.emit({ janus: 'hangup', session_id: this.session.id, sender: this.id, reason });
      this.hangingUp = false;
    });
  }

  /** peer.hangup() that never throws or rejects (a media-plane failure is only logged). */
  private async peerHangup(): Promise<void> {
    try {
      await this.peer.hangup();
    } catch (error) {
      this.log.warn('peer hangup failed', { error: error as Error });
    }
  }

  private resetMediaState(): void {
    this.pcActive = false;
    this.started = false;
    this.iceReported = false;
    this.remoteDescriptionSet = false;
    this.pendingCandidates = [];
  }

  /** closePc from the plugin: deferred, one at a time (docs/contract.md §1). */
  requestClosePc(): void {
    if (this.closePcScheduled) return;
    this.closePcScheduled = true;
    setImmediate(() => {
      this.closePcScheduled = false;
      this.hangup('Close PC');
    });
  }

  /** endSession from the plugin: deferred detach. */
  requestEnd(): void {
    if (this.stopping) return;
    setImmediate(() => this.onEndRequested(this));
  }

  /**
   * Detach: hangupMedia (always, even without a PeerConnection), destroySession, the
   * `detached` event (dropped if the session is gone), then the peer is closed for good.
   */
  detach(): Promise<void> {
    if (this.detachPromise) return this.detachPromise;
    this.stopping = true;
    const hadPc = this.pcActive;
    this.resetMediaState();
    const peerHangup = hadPc ? this.peerHangup() : Promise.resolve();
    // Like a hangup: queued now, run a turn later, so the detach reply precedes `detached`.
    this.detachPromise = this.queue
      .run(async () => {
        await nextTurn();
        await this.callPlugin('hangupMedia', () => this.plugin.hangupMedia(this.pluginHandle));
        await this.callPlugin('destroySession', () => this.plugin.destroySession(this.pluginHandle));
        this.gone = true;
        this.emit({ janus: 'detached', session_id: this.session.id, sender: this.id });
      })
      .then(async () => {
        await peerHangup;
        await this.outbox;
        try {
          await this.peer.close();
        } catch (error) {
          this.log.warn('peer close failed', { error: error as Error });
        }
      });
    return this.detachPromise;
  }

  /** Plugin pushEvent (docs/contract.md §1): result codes 0 / -1 / -2 / 455 / 458. */
  pushEvent(transaction: string | undefined, event: unknown, jsep: PluginJsep | undefined): number {
    if (this.gone) return PushEventResult.HANDLE_GONE;
    if (this.stopping || this.session.destroyed) return PushEventResult.SESSION_GONE;
    if (!isJsonObject(event)) return PushEventResult.INVALID_JSON_OBJECT;
    const message: JsonObject = { janus: 'event', session_id: this.session.id, sender: this.id };
    if (transaction !== undefined) message.transaction = transaction;
    message.plugindata = { plugin: this.packageName, data: event };
    if (!jsep) {
      this.emit(message);
      return PushEventResult.OK;
    }
    if (!isValidPluginJsep(jsep)) return PushEventResult.ERROR;
    // The SDP merge is asynchronous; events pushed after this one wait for it.
    this.enqueueOutbox(async () => {
      try {
        const full = await this.peer.setLocalDescription(jsep);
        if (this.stopping) return;
        this.pcActive = true;
        this.hangingUp = false;
        message.jsep = clientJsep(full);
        this.events?.jsep(this.eventIds(), 'local', full);
        this.session.sendEvent(message);
      } catch (error) {
        this.log.warn('plugin JSEP could not be merged; event dropped', { error: error as Error });
      }
    });
    return PushEventResult.OK;
  }

  private enqueueOutbox(task: () => Promise<void>): void {
    this.outboxDepth++;
    this.outbox = this.outbox.then(task).finally(() => {
      this.outboxDepth--;
    });
  }

  /** Send a handle event in order with any pending JSEP events. */
  private emit(message: JsonObject): void {
    if (this.outboxDepth > 0) {
      this.enqueueOutbox(async () => this.session.sendEvent(message));
    } else {
      this.session.sendEvent(message);
    }
  }

  private async callPlugin(name: string, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.log.error(`plugin ${name} failed`, { plugin: this.packageName, error: error as Error });
    }
  }

  private callOptional(name: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.log.error(`plugin ${name} failed`, { plugin: this.packageName, error: error as Error });
    }
  }

  private peerEvents(): PeerEvents {
    const live = (): boolean => !this.stopping;
    /** The event handlers' `ice: connected`, once per PeerConnection. */
    const iceConnected = (): void => {
      if (this.iceReported) return;
      this.iceReported = true;
      this.events?.webrtc(this.eventIds(), { ice: 'connected' });
    };
    return {
      iceConnected: () => {
        if (live() && this.pcActive && !this.started) iceConnected();
      },
      connected: () => {
        if (!live() || !this.pcActive) return;
        void this.queue.run(async () => {
          if (!live() || !this.pcActive || this.started) return;
          this.started = true;
          iceConnected();
          this.events?.webrtc(this.eventIds(), { dtls: 'connected' });
          await this.callPlugin('setupMedia', () => this.plugin.setupMedia(this.pluginHandle));
          // Event handlers first, as with the answer's jsep event: the event's timestamp is
          // then never later than the moment the client is told.
          this.events?.webrtc(this.eventIds(), { connection: 'webrtcup' });
          this.emit({ janus: 'webrtcup', session_id: this.session.id, sender: this.id });
        });
      },
      failed: (reason) => {
        if (live()) this.hangup(reason);
      },
      media: (info) => {
        if (!live()) return;
        const event: JsonObject = {
          janus: 'media', session_id: this.session.id, sender: this.id,
          mid: info.mid, type: info.type, receiving: info.receiving,
        };
        if (info.substream !== undefined) event.substream = info.substream;
        if (info.seconds !== undefined) event.seconds = info.seconds;
        this.emit(event);
        if (this.events) {
          const media: JsonObject = { mid: info.mid, media: info.type, receiving: info.receiving };
          if (info.substream !== undefined) media.substream = info.substream;
          if (info.seconds !== undefined) media.seconds = info.seconds;
          this.events.media(this.eventIds(), media);
        }
      },
      slowLink: (info) => {
        if (!live()) return;
        this.emit({
          janus: 'slowlink', session_id: this.session.id, sender: this.id,
          mid: info.mid, media: info.media, uplink: info.uplink, lost: info.lost,
        });
        const plugin = this.plugin;
        if (plugin.slowLink) {
          this.callOptional('slowLink', () => plugin.slowLink?.(this.pluginHandle, info.uplink, info.media === 'video'));
        }
      },
      data: (message: DataMessage) => {
        if (!live()) return;
        const plugin = this.plugin;
        if (plugin.incomingData && plugin.wantsIncomingData?.(message.binary)) {
          this.callOptional('incomingData', () => plugin.incomingData?.(this.pluginHandle, message));
        } else {
          // No plugin hook for this kind: the built-in relay to recipients (§3.2).
          try {
            this.mediaPlane.relayIncomingData(this.id, message);
          } catch (error) {
            this.log.warn('data relay failed', { error: error as Error });
          }
        }
      },
      dataReady: () => {
        if (live() && this.plugin.dataReady) this.callOptional('dataReady', () => this.plugin.dataReady?.(this.pluginHandle));
      },
      substreamChanged: (substream) => {
        if (live() && this.plugin.substreamChanged) {
          this.callOptional('substreamChanged', () => this.plugin.substreamChanged?.(this.pluginHandle, substream));
        }
      },
      temporalLayerChanged: (layer) => {
        if (live() && this.plugin.temporalLayerChanged) {
          this.callOptional('temporalLayerChanged', () => this.plugin.temporalLayerChanged?.(this.pluginHandle, layer));
        }
      },
    };
  }

  /** Admin handle_info: the core's flags, overlaid by the peer's own details. */
  peerInfo(): JsonObject {
    try {
      return this.peer.info();
    } catch (error) {
      this.log.warn('peer info failed', { error: error as Error });
      return {};
    }
  }

  /** Core-side handle flags (handle_info `flags`), for what the core itself knows. */
  coreFlags(): JsonObject {
    return {
      'got-offer': false,
      'got-answer': false,
      negotiated: this.pcActive,
      'processing-offer': false,
      starting: false,
      'ice-restart': false,
      ready: this.started,
      stopped: this.stopping,
      alert: this.hangingUp,
      trickle: true,
      'all-trickles': false,
      'resend-trickles': false,
      'trickle-synced': false,
      'data-channels': false,
      'has-audio': false,
      'has-video': false,
      'new-datachan-sdp': false,
      'rfc4588-rtx': false,
      cleaning: this.cleaning !== null,
      e2ee: false,
    };
  }

  /** Requests queued for the plugin (tests, diagnostics). */
  get busy(): number {
    return this.queue.size;
  }
}
