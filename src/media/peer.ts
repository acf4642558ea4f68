// One handle's PeerConnection on mediasoup: a WebRtcTransport (ICE-lite, DTLS), the SDP
// state of the offer/answer exchanges, the Producers for what the client sends, and what a
// Consumer needs to send to this client (its PTs, extension IDs and our SSRCs per m-line).
// Routing decisions (who receives what) live in relay.ts.

import { EventEmitter } from 'node:events';
import type { Router } from 'mediasoup/node/lib/Router';
import type { Producer } from 'mediasoup/node/lib/Producer';
import type { MediaKind, RtpCapabilities } from 'mediasoup/node/lib/RtpParameters';
import type { WebRtcTransport } from 'mediasoup/node/lib/WebRtcTransport';
import { InvalidStateError, UnexpectedAnswerError } from '../plugin/media-errors';
import type { Logger } from '../log';
import type { JsonObject } from '../plugin/json';
import type { DataMessage, PluginJsep } from '../plugin/plugin';
import type { MediaEngine } from './engine';
import type { ClientJsep, FullJsep, Peer, PeerEvents, TrickleCandidate } from '../plugin/media-plane';
import type { ConsumerWireOptions as ConsumerWire } from './mediasoup-edits';
import { PeerDataChannels } from './peer-data';
import { SlowLinkGate, lostPackets } from './slowlink';
import { type ClientSdp, clientJsepForScript, ourDtlsRole } from './sdp/client-sdp';
import { type LocalSsrcs, chooseLocalSsrcs } from './sdp/local-ssrcs';
import { localMediaOf, mergeLocalSdp } from './sdp/merge';
import { type NegotiatedMedia, type Negotiation, negotiate, toConsumerRtpCapabilities, toProducerRtpParameters } from './sdp/negotiation';
import { type Sdp, parseSdp } from './sdp/sdp-text';

export interface PeerOptions {
  engine: MediaEngine;
  logger: Logger;
  /** How long ICE may stay disconnected before the PeerConnection is declared failed. */
  iceDisconnectTimeoutMs?: number;
  /** Called once when the peer closes for good (before its transport goes). */
  onClose?: () => void;
  /** The relay's routing state of this handle, for Admin handle_info. */
  routing?: () => JsonObject | undefined;
}

/** What a Consumer needs to send one kind of media to this client. */
export interface ReceiveSlot {
  mid: string;
  rtpCapabilities: RtpCapabilities;
  wire: ConsumerWire;
}

type PeerChange = 'negotiated' | 'producers' | 'hangup' | 'connected';

/** The address for the SDP's o= and c= lines: the first candidate's (they are all ours). */
function originAddress(transport: WebRtcTransport): string {
  return transport.iceCandidates[0]?.ip ?? '127.0.0.1';
}

/** SCTP streams mediasoup opens on each transport. */
const SCTP_STREAMS = { OS: 1024, MIS: 1024 };
/**
 * The incoming bitrate cap of a PeerConnection without a script's cap: Janus sends a REMB of
 * 10 Mbps then. Every transport starts with it (the relay changes it when a script caps).
 */
export const NO_CAP_BITRATE = 10_000_000;
const MAX_SCTP_MESSAGE = 262144;

export class MediasoupPeer implements Peer {
  /** Fires 'change' (PeerChange) for the relay. */
  readonly changes = new EventEmitter();
  private transport?: WebRtcTransport;
  private releaseRouter?: () => void;
  private router?: Router;
  private client?: ClientSdp;
  /** Our offer (merged, and as written) waiting for the client's answer. */
  private pendingOffer?: { sdp: string; parsed: Sdp };
  private localSdp?: string;
  private remoteSdp?: string;
  private negotiation?: Negotiation;
  private localSsrcs: Record<string, LocalSsrcs> = {};
  private receiveSlots?: {
    negotiation: Negotiation;
    localSsrcs: Record<string, LocalSsrcs>;
    slots: Map<MediaKind, ReceiveSlot | undefined>;
  };
  private readonly producers = new Map<string, Producer>();
  /** The worker requests of the last negotiation, while they are in flight (settles, never rejects). */
  private negotiating: Promise<void> | undefined;
  private dtlsConnecting = false;
  /** DTLS is up; `started` follows once the negotiation's requests are answered too. */
  private dtlsConnected = false;
  private started = false;
  private closed = false;
  private iceTimer?: NodeJS.Timeout;
  private data?: PeerDataChannels;
  private remoteCandidates = 0;
  private readonly logger: Logger;

  constructor(
    readonly handleId: number,
    readonly events: PeerEvents,
    private readonly options: PeerOptions,
  ) {
    this.logger = options.logger.child({ component: 'peer', handle: handleId });
  }

  // --- Peer (what the core calls) -------------------------------------------------------

  async setRemoteDescription(jsep: ClientJsep): Promise<PluginJsep> {
    this.assertOpen();
    if (jsep.type === 'answer' && this.pendingOffer === undefined) {
      throw new UnexpectedAnswerError('Unexpected ANSWER (did we offer?)');
    }
    const update = this.remoteSdp !== undefined;
    const { jsep: forScript, client } = clientJsepForScript(jsep, { update });
    const transport = await this.ensureTransport();
    this.assertCurrent(transport);
    if (update && this.client && client.iceUfrag !== this.client.iceUfrag && jsep.type === 'offer') {
      // The client restarted ICE: new local credentials go into our answer.
      await transport.restartIce();
    }
    this.client = client;
    this.remoteSdp = jsep.sdp;
    if (jsep.type === 'answer') {
      const local = this.pendingOffer!;
      this.pendingOffer = undefined;
      await this.startNegotiation(negotiate({ client, local: local.parsed, clientIsOfferer: false }), local.sdp);
    }
    return forScript;
  }

  async setLocalDescription(jsep: PluginJsep): Promise<FullJsep> {
    this.assertOpen();
    if (jsep.type === 'answer' && !this.client) {
      throw new UnexpectedAnswerError('Unexpected ANSWER (no offer from the client)');
    }
    const transport = await this.ensureTransport();
    if (jsep.type === 'offer' && jsep.restart) await transport.restartIce();
    this.assertCurrent(transport);
    const client = jsep.type === 'answer' ? this.client : undefined;
    // Parsed once: the SSRC choice, the merge and the negotiation all read the structure.
    const plugin = parseSdp(jsep.sdp);
    const media = localMediaOf(plugin, jsep.type, client);
    const avoid = client ? client.media.flatMap((m) => m.ssrcs) : [];
    this.localSsrcs = chooseLocalSsrcs(media, { avoid, previous: this.localSsrcs });
    const merged = mergeLocalSdp(plugin, {
      type: jsep.type,
      announcedIp: originAddress(transport),
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
      dtlsRole: ourDtlsRole(client?.setup),
      client,
      localSsrcs: this.localSsrcs,
      sctpMaxMessageSize: MAX_SCTP_MESSAGE,
    });
    this.localSdp = merged.sdp;
    if (jsep.type === 'offer') {
      this.pendingOffer = { sdp: merged.sdp, parsed: merged.parsed };
    } else {
      // The answer does not wait for the worker's replies (Janus sends it once merged): the
      // requests are written before it leaves, so the worker has taken them before anything the
      // client sends after reading it, and `connected` waits for them.
      this.startNegotiation(negotiate({ client: client!, local: merged.parsed, clientIsOfferer: true }), merged.sdp).catch((error: unknown) => {
        if (transport !== this.transport || this.closed) return;
        this.logger.warn('negotiation failed after the answer', { error: error as Error });
        this.events.failed('Media setup failed');
      });
    }
    const full: FullJsep = { type: jsep.type, sdp: merged.sdp };
    if (jsep.e2ee) full.e2ee = true;
    return full;
  }

  addRemoteCandidate(candidate: TrickleCandidate | null): void {
    // mediasoup is ICE-lite: the client's checks reach us; its candidates are not needed.
    if (candidate) this.remoteCandidates++;
  }

  async hangup(): Promise<void> {
    const wasActive = this.transport !== undefined;
    this.teardown();
    if (wasActive) this.changes.emit('change', 'hangup' satisfies PeerChange);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.options.onClose?.();
    await this.hangup();
    this.closed = true;
    this.changes.removeAllListeners();
  }

  info(): JsonObject {
    const info: JsonObject = {
      flags: {
        'got-offer': this.client !== undefined,
        'got-answer': this.localSdp !== undefined,
        negotiated: this.negotiation !== undefined,
        ready: this.started,
        'data-channels': this.data !== undefined,
        'has-audio': this.negotiation?.media.some((m) => m.kind === 'audio') ?? false,
        'has-video': this.negotiation?.media.some((m) => m.kind === 'video') ?? false,
        'rfc4588-rtx': this.negotiation?.media.some((m) => m.codecs.some((c) => c.rtxPayloadType !== undefined)) ?? false,
      },
      'ice-mode': 'lite',
      'ice-role': 'controlled',
      sdps: { local: this.localSdp ?? null, remote: this.remoteSdp ?? null },
      'remote-candidates': this.remoteCandidates,
    };
    const routing = this.options.routing?.();
    if (routing) info.routing = routing;
    if (this.transport) {
      info.webrtc = {
        ice: this.transport.iceState,
        dtls: this.transport.dtlsState,
        'transport-id': this.transport.id,
        producers: [...this.producers.entries()].map(([mid, p]) => ({ mid, kind: p.kind, id: p.id, paused: p.paused })),
      };
    }
    return info;
  }

  // --- what the relay uses -----------------------------------------------------------------

  get isStarted(): boolean {
    return this.started;
  }

  get mediaRouter(): Router | undefined {
    return this.router;
  }

  get webRtcTransport(): WebRtcTransport | undefined {
    return this.transport;
  }

  /** The Producer for what the client sends of this kind (the first such m-line). */
  producer(kind: MediaKind): Producer | undefined {
    for (const m of this.negotiation?.media ?? []) {
      if (m.kind === kind && m.clientSends) return this.producers.get(m.mid);
    }
    return undefined;
  }

  /**
   * Where media of this kind reaches the client (the first m-line it receives on). The relay
   * asks at every reconcile, so each answer is kept until the negotiation or our SSRCs change
   * (the objects are not edited by their users: mediasoup only adds its defaults, idempotently).
   */
  receiveSlot(kind: MediaKind): ReceiveSlot | undefined {
    const negotiation = this.negotiation;
    if (!negotiation) return undefined;
    let cache = this.receiveSlots;
    if (!cache || cache.negotiation !== negotiation || cache.localSsrcs !== this.localSsrcs) {
      cache = this.receiveSlots = { negotiation, localSsrcs: this.localSsrcs, slots: new Map() };
    }
    if (!cache.slots.has(kind)) cache.slots.set(kind, this.buildReceiveSlot(negotiation, kind));
    return cache.slots.get(kind);
  }

  private buildReceiveSlot(negotiation: Negotiation, kind: MediaKind): ReceiveSlot | undefined {
    const m = negotiation.media.find((x) => x.kind === kind && x.clientReceives && x.codecs.length > 0);
    const ssrcs = m && this.localSsrcs[m.mid];
    if (!m || !ssrcs) return undefined;
    const wire: ConsumerWire = {
      headerExtensions: m.recvExtensions.map((e) => ({ uri: e.uri, id: e.id })),
      codecs: m.codecs.map((c) =>
        c.rtxPayloadType !== undefined
          ? { mimeType: c.mimeType, payloadType: c.payloadType, rtxPayloadType: c.rtxPayloadType }
          : { mimeType: c.mimeType, payloadType: c.payloadType },
      ),
      ssrc: ssrcs.ssrc,
    };
    if (kind === 'video' && ssrcs.rtxSsrc !== undefined && m.codecs.some((c) => c.rtxPayloadType !== undefined)) {
      wire.rtxSsrc = ssrcs.rtxSsrc;
    }
    return { mid: m.mid, rtpCapabilities: toConsumerRtpCapabilities(m), wire };
  }

  /** Sends a data channel message to the client; false while no channel is usable. */
  sendData(message: DataMessage): boolean {
    return this.data?.send(message) ?? false;
  }

  // --- internals -------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new InvalidStateError('PeerConnection is closed');
  }

  private async ensureTransport(): Promise<WebRtcTransport> {
    if (this.transport && !this.transport.closed) return this.transport;
    const lease = await this.options.engine.acquire();
    let transport: WebRtcTransport;
    try {
      // The worker's WebRtcServer sockets: no sockets of its own per transport.
      transport = await lease.router.createWebRtcTransport({
        webRtcServer: lease.webRtcServer,
        enableUdp: true,
        enableTcp: this.options.engine.iceTcp,
        preferUdp: true,
        enableSctp: true,
        numSctpStreams: SCTP_STREAMS,
        maxSctpMessageSize: MAX_SCTP_MESSAGE,
        // Set at creation (edit 090): two requests of a join fewer than asking afterwards.
        maxIncomingBitrate: NO_CAP_BITRATE,
        // Whatever the peer sends on SCTP reaches Node (edit 080); peer-data.ts listens.
        enableSctpMessages: true,
      });
    } catch (error) {
      lease.release();
      throw error;
    }
    if (this.closed) {
      transport.close();
      lease.release();
      throw new InvalidStateError('PeerConnection is closed');
    }
    this.transport = transport;
    this.router = lease.router;
    this.releaseRouter = lease.release;
    transport.on('dtlsstatechange', (state) => this.onDtlsState(transport, state));
    transport.on('icestatechange', (state) => this.onIceState(transport, state));
    transport.on('sctpstatechange', (state) => {
      // Before `connected` is announced, the announcement itself takes this up.
      if (state === 'connected' && this.started) this.data?.onSctpConnected();
    });
    // The worker process died (the engine replaces it): this PeerConnection is gone.
    transport.on('routerclose', () => {
      if (transport !== this.transport) return;
      this.logger.warn('media worker of this PeerConnection died');
      this.events.failed('Media worker died');
    });
    return transport;
  }

  private onDtlsState(transport: WebRtcTransport, state: string): void {
    if (transport !== this.transport) return;
    this.logger.debug('dtls state', { state });
    if (state === 'connected' && !this.dtlsConnected) {
      this.dtlsConnected = true;
      const announce = (): void => {
        if (transport !== this.transport || !this.dtlsConnected) return;
        this.started = true;
        this.events.connected();
        this.changes.emit('change', 'connected' satisfies PeerChange);
        if (transport.sctpState === 'connected') this.data?.onSctpConnected();
      };
      // setupMedia and the relay find the negotiation's Producers in place.
      if (this.negotiating) void this.negotiating.then(announce);
      else announce();
    } else if (state === 'failed' || state === 'closed') {
      this.events.failed('DTLS alert');
    }
  }

  private onIceState(transport: WebRtcTransport, state: string): void {
    if (transport !== this.transport) return;
    clearTimeout(this.iceTimer);
    this.iceTimer = undefined;
    if ((state === 'connected' || state === 'completed') && !this.started) {
      // ICE-lite: the client's first nominated check; DTLS follows (the core reports each).
      this.events.iceConnected?.();
    } else if (state === 'disconnected') {
      this.iceTimer = setTimeout(() => {
        if (transport === this.transport && transport.iceState === 'disconnected') this.events.failed('ICE failed');
      }, this.options.iceDisconnectTimeoutMs ?? 15000);
      this.iceTimer.unref();
    } else if (state === 'closed') {
      this.events.failed('ICE failed');
    }
  }

  /** Throws when a hangup replaced or removed the transport while we were awaiting. */
  private assertCurrent(transport: WebRtcTransport): void {
    if (this.transport !== transport || transport.closed) {
      throw new InvalidStateError('PeerConnection was closed during negotiation');
    }
  }

  /**
   * Applies a completed offer/answer after the previous one's requests, at once when none is in
   * flight: its requests are then written before this returns.
   */
  private startNegotiation(negotiation: Negotiation, local: string): Promise<void> {
    const previous = this.negotiating;
    const run = previous ? previous.then(() => this.applyNegotiation(negotiation, local)) : this.applyNegotiation(negotiation, local);
    const settled = run.then(() => undefined, () => undefined);
    this.negotiating = settled;
    void settled.then(() => {
      if (this.negotiating === settled) this.negotiating = undefined;
    });
    return run;
  }

  /** After each completed offer/answer: DTLS, Producers, data channels. */
  private async applyNegotiation(negotiation: Negotiation, local: string): Promise<void> {
    const { transport, client, router } = this;
    if (!transport || !client || !router) throw new InvalidStateError('PeerConnection was closed during negotiation');
    this.negotiation = negotiation;
    this.localSdp = local;
    // DTLS parameters and Producers are independent requests to the worker: issued together,
    // a negotiation waits for one round trip instead of one per step. (The data path asks
    // nothing: the transport was created with its SCTP tap on.)
    const steps: Promise<void>[] = [];
    if (!this.dtlsConnecting) {
      this.dtlsConnecting = true;
      // connect() takes the client's role: the other one than ours.
      const weAreClient = ourDtlsRole(client.setup) === 'client';
      steps.push(
        transport.connect({
          dtlsParameters: {
            role: weAreClient ? 'server' : 'client',
            fingerprints: [client.fingerprint],
          },
        }),
      );
    }
    steps.push(this.syncProducers(negotiation.media));
    if (negotiation.data && !this.data) {
      this.data = new PeerDataChannels({
        transport,
        router,
        dtlsClient: ourDtlsRole(client.setup) === 'client',
        logger: this.logger,
        onMessage: (message) => this.events.data(message),
        onReady: () => this.events.dataReady(),
      });
      this.data.start();
    }
    // Every step settles before the first failure is thrown (a late object must not be
    // orphaned: the producers' own checks close what arrives after a hangup).
    const results = await Promise.allSettled(steps);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    this.assertCurrent(transport);
    this.changes.emit('change', 'negotiated' satisfies PeerChange);
  }

  private async syncProducers(media: readonly NegotiatedMedia[]): Promise<void> {
    const wanted = new Map(media.filter((m) => m.clientSends && m.codecs.length > 0).map((m) => [m.mid, m]));
    for (const [mid, producer] of this.producers) {
      if (!wanted.has(mid)) {
        producer.close();
        this.producers.delete(mid);
      }
    }
    const transport = this.transport;
    if (!transport) return;
    const missing = [...wanted].filter(([mid]) => !this.producers.has(mid));
    // Requested together; kept in m-line order.
    const created = await Promise.all(
      missing.map(([mid, m]) =>
        transport
          .produce({ kind: m.kind, rtpParameters: toProducerRtpParameters(m), appData: { handleId: this.handleId, mid } })
          .catch((error: unknown) => {
            this.logger.warn('cannot receive this m-line', { mid, kind: m.kind, error });
            return undefined;
          }),
      ),
    );
    let changed = false;
    created.forEach((producer, i) => {
      if (!producer) return;
      const [mid, m] = missing[i];
      if (this.transport !== transport) {
        producer.close();
        return;
      }
      this.producers.set(mid, producer);
      this.watchProducer(producer, m);
      changed = true;
    });
    if (this.transport !== transport) return;
    if (changed) this.changes.emit('change', 'producers' satisfies PeerChange);
  }

  private watchProducer(producer: Producer, m: NegotiatedMedia): void {
    let receiving = false;
    const slow = new SlowLinkGate();
    producer.on('score', (scores) => {
      const now = scores.some((s) => s.score > 0);
      if (now !== receiving) {
        receiving = now;
        this.events.media({ mid: m.mid, type: m.kind, receiving: now });
      }
      const worst = Math.min(...scores.map((s) => s.score));
      if (receiving && slow.report(worst, Date.now())) {
        void lostPackets(producer).then((lost) => this.events.slowLink({ mid: m.mid, media: m.kind, uplink: true, lost }));
      }
    });
  }

  private teardown(): void {
    clearTimeout(this.iceTimer);
    this.iceTimer = undefined;
    // The transport first: the worker closes its Producers and data objects with it, and the
    // closes below find them closed (one request instead of one per object).
    this.transport?.close();
    this.transport = undefined;
    this.data?.close();
    this.data = undefined;
    for (const producer of this.producers.values()) producer.close();
    this.producers.clear();
    this.releaseRouter?.();
    this.releaseRouter = undefined;
    this.router = undefined;
    this.client = undefined;
    this.pendingOffer = undefined;
    this.localSdp = undefined;
    this.remoteSdp = undefined;
    this.negotiation = undefined;
    this.localSsrcs = {};
    this.dtlsConnecting = false;
    this.dtlsConnected = false;
    this.started = false;
  }
}
