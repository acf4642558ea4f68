// The plugin-facing media routing (MediaRouter) on mediasoup. It keeps, per handle, what a
// Janus Lua/Duktape plugin keeps per session (docs/contract.md §1, §3.2): the six media flags,
// the sender and recipients, bitrate cap, PLI frequency, simulcast targets, recorders; and
// turns that state into Consumers:
//   recipient R receives kind K from sender S  ⇔  R.sender = S, S has a K Producer,
//   R negotiated an m-line of kind K it receives on; the Consumer flows (is resumed) while
//   S.out[K] and R.in[K] are set.
// Every change re-runs `reconcile` for the users it affects, serialised per user.

import type { Consumer } from 'mediasoup/node/lib/Consumer';
import type { MediaKind } from 'mediasoup/node/lib/RtpParameters';
import type { WebRtcTransport } from 'mediasoup/node/lib/WebRtcTransport';
import type { Logger } from '../log';
import type { MediumDirection as MediaDirection, MediaRouter, MediumKind, RecordingRequest, RtpListener } from '../plugin/media';
import type { JsonObject } from '../plugin/json';
import type { DataMessage } from '../plugin/plugin';
import { DirectTransports } from './direct-transports';
import { DownlinkBwe } from './downlink-bwe';
import type { MediaEngine } from './engine';
import { KeyFrameRequests } from './key-frames';
import { consumeWire } from './mediasoup-edits';
import { RawRtcp, RawRtp, TappedStreams } from './raw-rtp';
import { pliPacket } from './rtcp';
import { type MediasoupPeer, NO_CAP_BITRATE } from './peer';
import { RecordingRoots } from '../common/recording-roots';
import { RecordingSet } from './recording-set';
import { SlowLinkGate, lostPackets } from './slowlink';

const MEDIA_KINDS: readonly MediaKind[] = ['audio', 'video'];

type Flags = Record<MediumKind, boolean>;

interface Link {
  senderId: number;
  producerId: string;
  mid: string;
  ssrc: number;
  consumer: Consumer;
  /** The packets come from the plugin (relayRtp), which has no key frame to give on request. */
  byPlugin: boolean;
}

class RelayUser {
  readonly in: Flags = { audio: false, video: false, data: false };
  readonly out: Flags = { audio: false, video: false, data: false };
  sender?: number;
  readonly recipients = new Set<number>();
  bitrate = 0;
  /**
   * The last REMB a script relayed to this user (relayRtcp), until the next setBitrate or
   * hangup: mediasoup repeats its own REMB with the cap every 1.5 s, which would undo it.
   */
  relayedRemb?: number;
  pliFreq = 0;
  substream = 2;
  temporal = 2;
  pliTimer?: NodeJS.Timeout;
  readonly links = new Map<MediaKind, Link>();
  queue: Promise<void> = Promise.resolve();
  recordings?: RecordingSet;
  /** The raw RTP path, once a plugin tapped this user or relayed packets to it. */
  raw?: RawRtp;
  /** Where this user's RTP reaches Node (raw path, recorders), on its current router. */
  readonly directs = new DirectTransports();
  /** The raw RTCP path (Janus's incomingRtcp / relayRtcp) on the user's WebRtcTransport. */
  readonly rtcp: RawRtcp;

  constructor(
    readonly id: number,
    readonly peer: MediasoupPeer,
    logger: Logger,
  ) {
    this.rtcp = new RawRtcp(peer, logger);
  }

  /** What hangupMedia resets (docs/contract.md §2): flags, bitrate, PLI, simulcast targets. */
  reset(): void {
    for (const kind of ['audio', 'video', 'data'] as const) {
      this.in[kind] = false;
      this.out[kind] = false;
    }
    this.bitrate = 0;
    this.relayedRemb = undefined;
    this.pliFreq = 0;
    this.substream = 2;
    this.temporal = 2;
    clearInterval(this.pliTimer);
    this.pliTimer = undefined;
  }
}

export class MediaRelay implements MediaRouter {
  private readonly users = new Map<number, RelayUser>();
  private readonly tappedStreams = new TappedStreams();
  private readonly downlinkBwe = new DownlinkBwe();
  /** Key frame requests to senders, spaced as libwebrtc takes them; starting Consumers until their first one. */
  private readonly keyFrames = new KeyFrameRequests((senderId) => {
    const sender = this.users.get(senderId);
    if (sender) this.sendPliNow(sender);
  });
  private readonly logger: Logger;
  private readonly roots: RecordingRoots;

  constructor(
    private readonly engine: MediaEngine,
    logger: Logger,
    recordingsFolder: string,
    recordingRoots: readonly string[] = [],
    /** media.recordingsTmpExt: open recordings carry this extra extension ("" = none). */
    private readonly recordingsTmpExt = '',
  ) {
    this.logger = logger.child({ component: 'relay' });
    this.roots = new RecordingRoots(recordingsFolder, recordingRoots);
  }

  // --- handle lifecycle (called by the media plane) ------------------------------------------

  register(peer: MediasoupPeer): void {
    const user = new RelayUser(peer.handleId, peer, this.logger.child({ handle: peer.handleId }));
    this.users.set(peer.handleId, user);
    peer.changes.on('change', (change: string) => {
      if (change === 'hangup') this.onHangup(user);
      if (change === 'connected') this.awaitKeyFrame(user);
      user.rtcp.follow();
      this.reconcileAround(user);
      if (change === 'producers') user.recordings?.attachProducers(peer);
      if (change === 'producers' && user.raw?.listener) this.tap(user);
    });
  }

  unregister(handleId: number): void {
    const user = this.users.get(handleId);
    if (!user) return;
    this.onHangup(user);
    for (const other of this.users.values()) {
      other.recipients.delete(handleId);
      if (other.sender === handleId) other.sender = undefined;
    }
    void user.recordings?.close();
    user.recordings = undefined;
    user.raw?.close();
    user.raw = undefined;
    user.rtcp.close();
    user.directs.close();
    this.keyFrames.dropSender(handleId);
    this.users.delete(handleId);
    for (const other of this.users.values()) if (other.links.size > 0) this.reconcile(other);
  }

  /** Data from S's client, not taken by the plugin: relay to S's recipients (§3.2). */
  relayIncomingData(senderId: number, message: DataMessage): void {
    const sender = this.users.get(senderId);
    if (!sender || !sender.out.data) return;
    for (const recipientId of sender.recipients) {
      const recipient = this.users.get(recipientId);
      if (!recipient || !recipient.in.data || !recipient.peer.isStarted) continue;
      // The label is not forwarded: recipients get it on JanusDataChannel.
      recipient.peer.sendData({ ...message, label: '', protocol: '' });
    }
  }

  /** Data from S's client, before any plugin hook: the data recorder (§3.2). */
  recordIncomingData(senderId: number, message: DataMessage): void {
    const sender = this.users.get(senderId);
    if (sender?.out.data) sender.recordings?.saveData(message);
  }

  // --- MediaRouter ---------------------------------------------------------------------------

  configureMedium(handleId: number, medium: MediumKind, direction: MediaDirection, enabled: boolean): boolean {
    const user = this.users.get(handleId);
    if (!user) return false;
    const flags = direction === 'in' ? user.in : user.out;
    const changed = flags[medium] !== enabled;
    flags[medium] = enabled;
    // A flag set to what it was routes the same media (scripts repeat them on every request).
    if (changed && medium !== 'data') this.reconcileAround(user);
    if (direction === 'out' && medium !== 'data') user.recordings?.setPaused(medium, !enabled);
    return true;
  }

  addRecipient(senderId: number, recipientId: number): boolean {
    const sender = this.users.get(senderId);
    const recipient = this.users.get(recipientId);
    if (!sender || !recipient) return false;
    sender.recipients.add(recipientId);
    recipient.sender = senderId;
    this.reconcile(recipient);
    return true;
  }

  removeRecipient(senderId: number, recipientId: number): boolean {
    const sender = this.users.get(senderId);
    const recipient = this.users.get(recipientId);
    if (!sender || !recipient) return false;
    sender.recipients.delete(recipientId);
    if (recipient.sender === senderId) recipient.sender = undefined;
    this.reconcile(recipient);
    return true;
  }

  setBitrate(handleId: number, bitrate: number): boolean {
    const user = this.users.get(handleId);
    if (!user) return false;
    user.bitrate = Math.max(0, Math.floor(bitrate));
    user.relayedRemb = undefined;
    this.applyBitrate(user);
    return true;
  }

  setPliFreq(handleId: number, seconds: number): boolean {
    const user = this.users.get(handleId);
    if (!user) return false;
    user.pliFreq = Math.max(0, Math.min(65535, Math.floor(seconds)));
    clearInterval(user.pliTimer);
    user.pliTimer = undefined;
    if (user.pliFreq > 0) {
      user.pliTimer = setInterval(() => this.sendPli(handleId), user.pliFreq * 1000);
      user.pliTimer.unref();
    }
    return true;
  }

  setSubstream(handleId: number, substream: number): boolean {
    return this.setLayer(handleId, 'substream', substream);
  }

  setTemporalLayer(handleId: number, layer: number): boolean {
    return this.setLayer(handleId, 'temporal', layer);
  }

  /** The simulcast layer (0..2) a recipient wants; a value out of range changes nothing. */
  private setLayer(handleId: number, which: 'substream' | 'temporal', layer: number): boolean {
    const user = this.users.get(handleId);
    if (!user) return false;
    if (Number.isInteger(layer) && layer >= 0 && layer <= 2) {
      user[which] = layer;
      this.applyLayers(user);
    }
    return true;
  }

  /**
   * Spaced with the relay's own requests to this user (key-frames.ts): one at most every
   * 350 ms. It goes after the routing the script asked for before it (videoroom.lua's
   * setupMedia: addRecipient, then sendPli): a key frame that came before the new
   * recipient's Consumer runs would be lost to it, and the next one is 350 ms away.
   */
  sendPli(handleId: number): boolean {
    const user = this.users.get(handleId);
    if (!user) return false;
    const routing = [...user.recipients].flatMap((id) => this.users.get(id)?.queue ?? []);
    if (routing.length === 0) this.keyFrames.request(handleId);
    else {
      void Promise.all(routing).then(() => {
        if (this.users.get(handleId) === user) this.keyFrames.request(handleId);
      });
    }
    return true;
  }

  get recordingRoots(): readonly string[] {
    return this.roots.all;
  }

  startRecording(handleId: number, recordings: RecordingRequest[]): boolean {
    const user = this.users.get(handleId);
    if (!user) return false;
    if (!user.recordings) {
      user.recordings = new RecordingSet({
        engine: this.engine,
        logger: this.logger.child({ handle: handleId }),
        roots: this.roots,
        tempExtension: this.recordingsTmpExt || undefined,
        directs: user.directs,
      });
    }
    const ok = user.recordings.start(recordings, { audio: !user.out.audio, video: !user.out.video });
    if (ok) user.recordings.attachProducers(user.peer);
    if (ok && recordings.some((r) => r.type === 'video')) this.sendPli(handleId);
    return ok;
  }

  stopRecording(handleId: number, types: MediumKind[]): boolean {
    const user = this.users.get(handleId);
    if (!user) return false;
    user.recordings?.stop(types);
    return true;
  }

  tapRtp(handleId: number, listener: RtpListener | undefined): boolean {
    const user = this.users.get(handleId);
    if (!user) return false;
    if (listener) {
      this.rawOf(user).listener = listener;
      this.tap(user);
    } else {
      user.raw?.untap();
    }
    // The built-in relay from this user stops (or resumes) for its recipients.
    this.reconcileAround(user);
    return true;
  }

  relayRtp(handleId: number, video: boolean, packet: Uint8Array): boolean {
    const user = this.users.get(handleId);
    if (!user) return false;
    void this.rawOf(user)
      .inject(video ? 'video' : 'audio', packet)
      .then((created) => {
        if (created) this.reconcile(user);
      })
      .catch((error: unknown) => this.logger.warn('cannot relay RTP from the plugin', { handle: handleId, error }));
    return true;
  }

  tapRtcp(handleId: number, listener: RtpListener | undefined): boolean {
    const user = this.users.get(handleId);
    if (!user) return false;
    user.rtcp.tap(listener);
    return true;
  }

  /**
   * Sends a script's RTCP to this user's PeerConnection as Janus does: what the server makes
   * itself (SR, RR, SDES, NACK, transport-cc, XR) is stripped and counted, SSRCs are fixed.
   * A REMB's bitrate also becomes the cap mediasoup's own REMB repeats (not the handle's
   * setBitrate value), so that the browser keeps what the script sent, as with Janus.
   */
  relayRtcp(handleId: number, video: boolean, packet: Uint8Array): boolean {
    const user = this.users.get(handleId);
    if (!user) return false;
    const { dropped, remb } = user.rtcp.send(video ? 'video' : 'audio', packet);
    this.relayedRtcpDropped += dropped;
    if (remb !== undefined && remb > 0) {
      user.relayedRemb = remb;
      this.applyBitrate(user);
    }
    return true;
  }

  /** Relayed RTCP packets (or compound parts) that did not reach the user: not RTCP, stripped, or no connected transport. */
  get droppedRelayedRtcp(): number {
    return this.relayedRtcpDropped;
  }

  relayData(handleId: number, message: DataMessage): boolean {
    const user = this.users.get(handleId);
    if (!user) return false;
    return user.peer.sendData(message);
  }

  // --- state for admin / tests ---------------------------------------------------------------

  /** The relay state of one handle (Admin handle_info, tests). */
  describe(handleId: number): JsonObject | undefined {
    const user = this.users.get(handleId);
    if (!user) return undefined;
    return {
      in: { ...user.in },
      out: { ...user.out },
      sender: user.sender ?? null,
      recipients: [...user.recipients],
      bitrate: user.bitrate,
      pliFreq: user.pliFreq,
      substream: user.substream,
      temporal: user.temporal,
      consumers: Object.fromEntries(
        [...user.links.entries()].map(([kind, link]) => [
          kind,
          { sender: link.senderId, mid: link.mid, ssrc: link.ssrc, paused: link.consumer.paused },
        ]),
      ),
    };
  }

  // --- internals -----------------------------------------------------------------------------

  /** The incoming bitrate cap last sent to each transport's worker. */
  private readonly appliedBitrate = new WeakMap<WebRtcTransport, number>();
  private relayedRtcpDropped = 0;

  private onHangup(user: RelayUser): void {
    user.reset();
    // hangupMedia unlinks all recipients of this session (docs/contract.md §2).
    for (const recipientId of user.recipients) {
      const recipient = this.users.get(recipientId);
      if (recipient?.sender === user.id) recipient.sender = undefined;
    }
    user.recipients.clear();
    for (const link of user.links.values()) link.consumer.close();
    user.links.clear();
  }

  /** Reconciles this user as a recipient, and every recipient of this user. */
  private reconcileAround(user: RelayUser): void {
    this.reconcile(user);
    for (const other of this.users.values()) if (other !== user && other.sender === user.id) this.reconcile(other);
  }

  private reconcile(user: RelayUser): void {
    user.queue = user.queue
      .then(() => this.reconcileNow(user))
      .catch((error: unknown) => this.logger.warn('cannot route media', { handle: user.id, error }));
  }

  private async reconcileNow(user: RelayUser): Promise<void> {
    if (this.users.get(user.id) !== user) return;
    const relayed = user.sender !== undefined ? this.users.get(user.sender) : undefined;
    // A tapped sender's media goes to its plugin, not to its recipients (docs/contract.md §1).
    const sender = relayed?.raw?.listener ? undefined : relayed;
    for (const kind of MEDIA_KINDS) {
      // What the plugin relays to this user (relayRtp) wins over a sender's media.
      const injected = user.raw?.injected.get(kind)?.producer;
      const byPlugin = injected !== undefined && !injected.closed;
      const producer = byPlugin ? injected : sender?.peer.producer(kind);
      const from = byPlugin ? user : sender;
      const slot = user.peer.receiveSlot(kind);
      const transport = user.peer.webRtcTransport;
      let link = user.links.get(kind);
      const stale =
        link &&
        (link.consumer.closed ||
          !producer ||
          !slot ||
          link.producerId !== producer.id ||
          link.mid !== slot.mid ||
          link.ssrc !== slot.wire.ssrc);
      if (link && stale) {
        link.consumer.close();
        user.links.delete(kind);
        link = undefined;
      }
      if (!link && from && producer && slot && transport && !producer.closed) {
        const senderRouter = from.peer.mediaRouter;
        const router = user.peer.mediaRouter;
        if (!senderRouter || !router) continue;
        await this.engine.ensurePiped(producer, senderRouter, router);
        if (!router.canConsume({ producerId: producer.id, rtpCapabilities: slot.rtpCapabilities })) {
          this.logger.info('recipient cannot decode the sender codec', { handle: user.id, sender: from.id, kind });
          continue;
        }
        const { rtpCapabilities, wire } = this.downlinkBwe.slotFor(transport, producer, slot);
        const consumer = await consumeWire(transport, {
          producerId: producer.id,
          rtpCapabilities,
          mid: slot.mid,
          paused: true,
          wire,
          appData: { recipient: user.id, sender: from.id },
        });
        if (this.users.get(user.id) !== user || transport.closed || user.peer.webRtcTransport !== transport) {
          // Hung up, detached or renegotiated while the worker made it: nothing will ever close
          // it otherwise (the transport's close went before it existed), and mediasoup keeps it
          // (its worker listener, our closures) for good.
          consumer.close();
          return;
        }
        link = { senderId: from.id, producerId: producer.id, mid: slot.mid, ssrc: slot.wire.ssrc ?? 0, consumer, byPlugin };
        user.links.set(kind, link);
        this.watchConsumer(user, consumer, kind, slot.mid);
        if (kind === 'video') await this.setLayers(user, consumer);
      }
      if (link && from) {
        // Relayed packets only need this user's "in" flag.
        const flow = (from === user || from.out[kind]) && user.in[kind];
        if (flow && link.consumer.paused) {
          // Before the recipient is connected nothing can reach it: 'connected' starts the wait.
          const watch = kind === 'video' && !link.byPlugin && user.peer.isStarted;
          if (watch) this.keyFrames.watch(from.id, link.consumer);
          await link.consumer.resume();
          if (watch) this.keyFrames.request(from.id);
          else if (kind === 'video') await link.consumer.requestKeyFrame();
        } else if (!flow && !link.consumer.paused) {
          this.keyFrames.forget(from.id, link.consumer);
          await link.consumer.pause();
        }
      }
    }
    this.applyBitrate(user);
  }

  private watchConsumer(user: RelayUser, consumer: Consumer, kind: MediaKind, mid: string): void {
    const slow = new SlowLinkGate();
    consumer.on('score', ({ score }) => {
      if (!consumer.paused && slow.report(score, Date.now())) {
        void lostPackets(consumer).then((lost) => user.peer.events.slowLink({ mid, media: kind, uplink: false, lost }));
      }
    });
    if (kind !== 'video' || consumer.type !== 'simulcast') return;
    let lastSpatial: number | undefined;
    let lastTemporal: number | undefined;
    consumer.on('layerschange', (layers) => {
      if (!layers) return;
      if (layers.spatialLayer !== lastSpatial) {
        lastSpatial = layers.spatialLayer;
        user.peer.events.substreamChanged(layers.spatialLayer);
      }
      const temporal = layers.temporalLayer ?? 0;
      if (temporal !== lastTemporal) {
        lastTemporal = temporal;
        user.peer.events.temporalLayerChanged(temporal);
      }
    });
  }

  /** A recipient just connected: the video already flowing to it needs a key frame now. */
  private awaitKeyFrame(user: RelayUser): void {
    const link = user.links.get('video');
    if (!link || link.byPlugin || link.consumer.paused || link.consumer.closed) return;
    this.keyFrames.watch(link.senderId, link.consumer);
    this.keyFrames.request(link.senderId);
  }

  /**
   * A PLI to this user's PeerConnection now (what Janus's send_pli sends): the key frame reaches
   * every Consumer of the user's video, recorders and taps included. Raw RTCP on the user's
   * transport rather than a Consumer's request: mediasoup holds that while an earlier one is
   * pending, and drops it when the Consumer is paused or not connected.
   */
  private sendPliNow(user: RelayUser): void {
    if (!user.peer.producer('video')) return;
    user.rtcp.send('video', pliPacket(0, 0));
  }

  private applyLayers(user: RelayUser): void {
    const consumer = user.links.get('video')?.consumer;
    if (consumer) void this.setLayers(user, consumer).catch(() => undefined);
  }

  private async setLayers(user: RelayUser, consumer: Consumer): Promise<void> {
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc') return;
    await consumer.setPreferredLayers({ spatialLayer: user.substream, temporalLayer: user.temporal });
  }

  private applyBitrate(user: RelayUser): void {
    const transport = user.peer.webRtcTransport;
    if (!transport || transport.closed) return;
    const bitrate = user.relayedRemb ?? (user.bitrate > 0 ? user.bitrate : NO_CAP_BITRATE);
    // Every reconcile ends here: ask the worker only when the cap actually changes (a
    // transport starts with NO_CAP_BITRATE).
    if ((this.appliedBitrate.get(transport) ?? NO_CAP_BITRATE) === bitrate) return;
    this.appliedBitrate.set(transport, bitrate);
    void transport.setMaxIncomingBitrate(bitrate).catch(() => undefined);
  }

  private rawOf(user: RelayUser): RawRtp {
    if (!user.raw) user.raw = new RawRtp(user.peer, this.tappedStreams, user.directs, this.logger.child({ handle: user.id }));
    return user.raw;
  }

  private tap(user: RelayUser): void {
    const raw = user.raw;
    if (raw) void raw.tap().catch((error: unknown) => this.logger.warn('cannot tap RTP for the plugin', { handle: user.id, error }));
  }
}
