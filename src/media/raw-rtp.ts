// One user's raw RTP path (Janus's incomingRtp / relayRtp, docs/contract.md §1), and its raw
// RTCP path (RawRtcp, below). RTP: while tapped,
// each of the user's Producers is consumed on a DirectTransport and its packets go to a
// listener (the plugin) instead of the built-in relay; packets a plugin relays to this user
// are sent through Producers on a DirectTransport (one per medium), which the relay consumes
// toward the user's PeerConnection like any sender's. Packets are recognised by SSRC: a
// relayed packet must carry the SSRC of a tapped stream (as a script that forwards what it
// got does), whose RTP parameters (router payload types) the injecting Producer takes.

import type { Consumer } from 'mediasoup/node/lib/Consumer';
import type { DirectTransport } from 'mediasoup/node/lib/DirectTransport';
import type { Producer } from 'mediasoup/node/lib/Producer';
import type { MediaKind, RtpParameters } from 'mediasoup/node/lib/RtpParameters';
import type { WebRtcTransport } from 'mediasoup/node/lib/WebRtcTransport';
import type { Logger } from '../log';
import type { RtpListener } from '../plugin/media';
import type { DirectTransports } from './direct-transports';
import type { MediasoupPeer } from './peer';
import { type MediumSsrcs, type RelayedRtcp, RtcpParseError, type UserSsrcs, prepareRelayedRtcp, rtcpMedium } from './rtcp';

const MEDIA_KINDS: readonly MediaKind[] = ['audio', 'video'];
/** The largest RTCP packet the worker sends for Node (patch 050: MTU + 100 bytes). */
const MAX_RELAYED_RTCP = 1600;

/** RTP parameters of every tapped stream, by SSRC (what an injecting Producer needs). */
export class TappedStreams {
  private readonly streams = new Map<number, { kind: MediaKind; rtpParameters: RtpParameters }>();

  set(ssrc: number, kind: MediaKind, rtpParameters: RtpParameters): void {
    this.streams.set(ssrc, { kind, rtpParameters });
  }

  get(ssrc: number): { kind: MediaKind; rtpParameters: RtpParameters } | undefined {
    return this.streams.get(ssrc);
  }

  delete(ssrc: number): void {
    this.streams.delete(ssrc);
  }
}

interface Injection {
  ssrc: number;
  producer: Producer;
}

export class RawRtp {
  listener: RtpListener | undefined;
  /** Producers carrying relayed packets to this user, by medium. */
  readonly injected = new Map<MediaKind, Injection>();
  private readonly taps = new Map<string, { consumer: Consumer; ssrc: number }>();
  private pending = new Map<MediaKind, Promise<Injection | undefined>>();
  private tapping: Promise<void> = Promise.resolve();
  /** Relayed packets dropped (no tapped stream with their SSRC, or no transport). */
  dropped = 0;
  private closed = false;

  constructor(
    private readonly peer: MediasoupPeer,
    private readonly streams: TappedStreams,
    private readonly directs: DirectTransports,
    private readonly logger: Logger,
  ) {}

  /** The DirectTransport on the user's current router (it changes after a renegotiation or a worker crash). */
  private async transport(): Promise<DirectTransport | undefined> {
    const router = this.peer.mediaRouter;
    return router && !router.closed ? this.directs.get(router) : undefined;
  }

  /** Consumes each of the user's Producers not consumed yet; packets go to the listener. */
  tap(): Promise<void> {
    // Serialised: overlapping calls (setupMedia's tap and a new Producer's) would consume the
    // same Producer twice, and the script would get each packet twice under two SSRCs.
    const next = this.tapping.then(() => this.tapNow());
    this.tapping = next.catch(() => undefined);
    return next;
  }

  private async tapNow(): Promise<void> {
    if (!this.listener) return;
    const router = this.peer.mediaRouter;
    for (const kind of MEDIA_KINDS) {
      const producer = this.peer.producer(kind);
      if (!producer || producer.closed || this.taps.has(producer.id) || !router) continue;
      const direct = await this.transport();
      if (!direct || direct.closed) return;
      const consumer = await direct.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
      if (!this.listener || direct.closed || this.peer.mediaRouter !== router) {
        // Untapped, or its transport went while the worker made it: nothing else would close it.
        consumer.close();
        return;
      }
      const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc ?? 0;
      this.taps.set(producer.id, { consumer, ssrc });
      this.streams.set(ssrc, kind, consumer.rtpParameters);
      const video = kind === 'video';
      consumer.on('rtp', (packet: Buffer) => this.listener?.(video, packet));
      consumer.observer.once('close', () => {
        this.taps.delete(producer.id);
        this.streams.delete(ssrc);
      });
    }
  }

  /** Stops handing packets to the listener. */
  untap(): void {
    this.listener = undefined;
    for (const { consumer } of this.taps.values()) consumer.close();
    this.taps.clear();
  }

  /**
   * Sends a relayed packet toward this user. Resolves true when a new injecting Producer was
   * created (the relay must then consume it toward the user).
   */
  async inject(kind: MediaKind, packet: Uint8Array): Promise<boolean> {
    if (packet.length < 12 || packet[0] >> 6 !== 2) {
      this.dropped++;
      return false;
    }
    const ssrc = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength).readUInt32BE(8);
    let created = false;
    let injection = this.injected.get(kind);
    if (!injection || injection.ssrc !== ssrc || injection.producer.closed) {
      let creating = this.pending.get(kind);
      if (!creating) {
        const creation = this.createProducer(kind, ssrc);
        this.pending.set(kind, creation);
        // Forgotten once settled, failed or not (a failure must not block later packets).
        const forget = (): void => {
          if (this.pending.get(kind) === creation) this.pending.delete(kind);
        };
        creation.then(forget, forget);
        creating = creation;
        created = true;
      }
      injection = await creating;
      if (!injection) {
        this.dropped++;
        return false;
      }
    }
    injection.producer.send(Buffer.from(packet));
    return created;
  }

  private async createProducer(kind: MediaKind, ssrc: number): Promise<Injection | undefined> {
    const stream = this.streams.get(ssrc);
    const direct = await this.transport();
    if (!stream || stream.kind !== kind || !direct || direct.closed) {
      if (!stream) this.logger.debug('relayed RTP with an unknown SSRC dropped', { ssrc });
      return undefined;
    }
    const previous = this.injected.get(kind);
    previous?.producer.close();
    const producer = await direct.produce({
      kind,
      rtpParameters: { codecs: stream.rtpParameters.codecs, encodings: [{ ssrc }], headerExtensions: [] },
    });
    if (this.closed || direct.closed) {
      // Closed while the worker made it: nothing else would close it.
      producer.close();
      return undefined;
    }
    const injection = { ssrc, producer };
    this.injected.set(kind, injection);
    return injection;
  }

  /** Stops the taps and the injections (the DirectTransports belong to the user, not to this path). */
  close(): void {
    this.closed = true;
    this.untap();
    for (const { producer } of this.injected.values()) producer.close();
    this.injected.clear();
  }
}

/**
 * One user's raw RTCP path (Janus's incomingRtcp / relayRtcp) on its WebRtcTransport, through
 * our mediasoup edit 050: while a listener is set, every RTCP compound packet the user's
 * PeerConnection sends reaches it (mediasoup handles it as well); a script's RTCP goes to the
 * PeerConnection, filtered and with its SSRCs fixed as Janus does (src/media/rtcp.ts).
 */
export class RawRtcp {
  private listener: RtpListener | undefined;
  private bound?: { transport: WebRtcTransport; onPacket: (packet: Buffer) => void };

  constructor(
    private readonly peer: MediasoupPeer,
    private readonly logger: Logger,
  ) {}

  /** Sets (or, undefined, clears) where the user's RTCP goes. */
  tap(listener: RtpListener | undefined): void {
    this.listener = listener;
    this.follow();
  }

  /** Moves the tap onto the user's current transport (a new negotiation may bring another). */
  follow(): void {
    const transport = this.listener ? this.peer.webRtcTransport : undefined;
    const live = transport && !transport.closed ? transport : undefined;
    if (this.bound && this.bound.transport === live) return;
    this.unbind();
    if (!live) return;
    const onPacket = (packet: Buffer): void => this.deliver(packet);
    live.on('rawrtcp', onPacket);
    this.bound = { transport: live, onPacket };
    void live.enableRawRtcp(true).catch((error: unknown) => {
      if (!live.closed) this.logger.warn('cannot tap the user RTCP', { error });
    });
  }

  /**
   * Sends a script's RTCP to the user on `kind`'s medium. `dropped`: the parts that do not
   * reach the user (stripped as Janus does, or the whole packet: not RTCP, or no connected
   * transport); `remb`: the bitrate of a REMB that was sent.
   */
  send(kind: MediaKind, packet: Uint8Array): { dropped: number; remb?: number } {
    let relayed: RelayedRtcp;
    try {
      relayed = prepareRelayedRtcp(packet, this.ssrcs()[kind], kind === 'video');
    } catch (error) {
      if (!(error instanceof RtcpParseError)) throw error;
      this.logger.debug('relayed RTCP dropped', { error: error.message });
      return { dropped: 1 };
    }
    if (relayed.stripped > 0) this.logger.debug('relayed RTCP parts stripped (the server makes them itself)', { stripped: relayed.stripped });
    if (!relayed.packet) return { dropped: relayed.stripped };
    const transport = this.peer.webRtcTransport;
    const sendable = relayed.packet.length <= MAX_RELAYED_RTCP && transport && !transport.closed && transport.dtlsState === 'connected';
    if (!sendable) {
      this.logger.debug('relayed RTCP dropped (too big, or no connected PeerConnection)', { length: relayed.packet.length });
      return { dropped: relayed.stripped + 1 };
    }
    transport.sendRtcp(relayed.packet);
    return relayed.remb === undefined ? { dropped: relayed.stripped } : { dropped: relayed.stripped, remb: relayed.remb };
  }

  /** Stops the tap. */
  close(): void {
    this.listener = undefined;
    this.unbind();
  }

  private deliver(packet: Buffer): void {
    const kind = rtcpMedium(packet, this.ssrcs());
    if (!kind) {
      // As Janus: RTCP naming no stream of the user's or ours is dropped.
      this.logger.debug('user RTCP with unknown SSRCs dropped', { length: packet.length });
      return;
    }
    this.listener?.(kind === 'video', packet);
  }

  private unbind(): void {
    const bound = this.bound;
    if (!bound) return;
    this.bound = undefined;
    bound.transport.off('rawrtcp', bound.onPacket);
    if (!bound.transport.closed) void bound.transport.enableRawRtcp(false).catch(() => undefined);
  }

  /** The user's SSRCs (as signalled, or as mediasoup learnt them: rid simulcast) and ours toward it. */
  private ssrcs(): UserSsrcs {
    const medium = (kind: MediaKind): MediumSsrcs => {
      const producer = this.peer.producer(kind);
      const peer: number[] = [];
      const add = (ssrc: number | undefined): void => {
        if (ssrc !== undefined && !peer.includes(ssrc)) peer.push(ssrc);
      };
      if (producer && !producer.closed) {
        for (const encoding of producer.rtpParameters.encodings ?? []) add(encoding.ssrc);
        for (const score of producer.score) add(score.ssrc);
      }
      return { local: this.peer.receiveSlot(kind)?.wire.ssrc ?? 0, peer };
    };
    return { audio: medium('audio'), video: medium('video') };
  }
}
