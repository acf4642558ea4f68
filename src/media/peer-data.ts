// A peer's data channels over mediasoup SCTP:
//  - in:  every message the client sends, on any stream, reaches Node as the WebRtcTransport's
//         'sctpmessage' event (our worker edit 080: no DataProducer per stream; the tap is on
//         from the transport's creation, edit 090, so a join costs no request for it), DCEP
//         included (edit 020), so we learn each channel's
//         label and protocol from its DATA_CHANNEL_OPEN;
//  - out: per label, a DataProducer on a DirectTransport (created on the first one) consumed
//         on the WebRtcTransport on the client's own stream for that label (our Node edit
//         `sctpStreamId`), or on a new stream of our parity announced with a DATA_CHANNEL_OPEN.

import type { DataConsumer } from 'mediasoup/node/lib/DataConsumer';
import type { DataProducer } from 'mediasoup/node/lib/DataProducer';
import type { DirectTransport } from 'mediasoup/node/lib/DirectTransport';
import type { Router } from 'mediasoup/node/lib/Router';
import type { WebRtcTransport } from 'mediasoup/node/lib/WebRtcTransport';
import type { Logger } from '../log';
import type { DataMessage } from '../plugin/plugin';
import { Ppid, buildDcepAck, buildDcepOpen, decodeDataMessage, encodeDataMessage, nextStreamId, parseDcep } from './datachannel/dcep';

export const DEFAULT_DATA_LABEL = 'JanusDataChannel';

/** Stream ids below this are where we open channels of our own (janus.js opens one). */
const OUR_STREAM_ID_LIMIT = 16;

export interface PeerDataOptions {
  transport: WebRtcTransport;
  router: Router;
  /** Our DTLS role decides stream id parity: the DTLS client opens even ids. */
  dtlsClient: boolean;
  logger: Logger;
  onMessage(message: DataMessage): void;
  onReady(): void;
}

interface Channel {
  label: string;
  protocol: string;
  streamId: number;
}

interface Outgoing {
  producer: DataProducer;
  consumer: DataConsumer;
}

export class PeerDataChannels {
  /** The outgoing path's DirectTransport, created with the first outgoing channel. */
  private direct?: Promise<DirectTransport | undefined>;
  /** Channels the client opened (or we opened), by stream id. */
  private readonly channels = new Map<number, Channel>();
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly pendingOut = new Map<string, Promise<Outgoing | undefined>>();
  private readonly closers: Array<{ close(): void }> = [];
  private sctpReady = false;
  private closed = false;

  constructor(private readonly options: PeerDataOptions) {}

  /** Listens: the transport was created with its SCTP tap on (peer.ts), so no request. */
  start(): void {
    const { transport } = this.options;
    transport.on('sctpmessage', (payload: Buffer, streamId: number, ppid: number) => this.onIncoming(streamId, payload, ppid));
  }

  /**
   * Each await may see the peer torn down meanwhile: whatever arrives after close() is closed
   * at once, so nothing outlives the handle.
   */
  private keep<T extends { close(): void }>(object: T): T | undefined {
    if (this.closed) {
      object.close();
      return undefined;
    }
    this.closers.push(object);
    return object;
  }

  onSctpConnected(): void {
    if (this.sctpReady || this.closed) return;
    this.sctpReady = true;
    this.options.onReady();
  }

  get ready(): boolean {
    return this.sctpReady && !this.closed;
  }

  /** Sends to the client on the channel with this label (default JanusDataChannel). */
  send(message: DataMessage): boolean {
    if (!this.ready) return false;
    const label = message.label || DEFAULT_DATA_LABEL;
    const out = this.outgoing.get(label);
    if (out) {
      this.write(out.producer, message);
      return true;
    }
    // First message on this label: open the path, then send (order kept per label).
    let pending = this.pendingOut.get(label);
    if (!pending) {
      pending = this.openOutgoing(label, message.protocol);
      this.pendingOut.set(label, pending);
    }
    void pending.then((opened) => {
      if (opened) this.write(opened.producer, message);
    });
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // The DirectTransport (in closers) takes its DataProducers with it in one request to the
    // worker; the closes below then find most objects closed already.
    for (const closer of this.closers.reverse()) closer.close();
    for (const out of this.outgoing.values()) {
      out.consumer.close();
      out.producer.close();
    }
    this.outgoing.clear();
  }

  private write(producer: DataProducer, message: DataMessage): void {
    if (producer.closed) return;
    const { payload } = message;
    const wire = message.binary
      ? encodeDataMessage(typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload)
      : encodeDataMessage(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
    producer.send(wire.payload, wire.ppid);
  }

  private onIncoming(streamId: number, payload: Buffer, ppid: number): void {
    if (this.closed) return;
    if (ppid === Ppid.DCEP) {
      const open = parseDcep(payload);
      if (open?.type === 'open') {
        this.channels.set(streamId, { label: open.label, protocol: open.protocol, streamId });
        this.options.logger.debug('data channel opened by the client', { streamId, label: open.label });
        // Acknowledge on the same stream, so the client's channel is fully open.
        void this.openOutgoing(open.label, open.protocol, streamId).then((out) => {
          if (out && !out.producer.closed) out.producer.send(buildDcepAck(), Ppid.DCEP);
        });
      }
      return;
    }
    const decoded = decodeDataMessage(ppid, payload);
    if (!decoded) return;
    const channel = this.channels.get(streamId);
    this.options.onMessage({
      binary: decoded.binary,
      payload: decoded.binary ? new Uint8Array(decoded.data) : decoded.data,
      label: channel?.label ?? DEFAULT_DATA_LABEL,
      protocol: channel?.protocol ?? '',
    });
  }

  /**
   * The outgoing path for a label: on the client's stream when it opened that label (or the
   * given stream), else on a new stream of our parity announced with DATA_CHANNEL_OPEN.
   */
  private async openOutgoing(label: string, protocol: string, streamId?: number): Promise<Outgoing | undefined> {
    const existing = this.outgoing.get(label);
    if (existing && (streamId === undefined || existing.consumer.sctpStreamParameters?.streamId === streamId)) {
      return existing;
    }
    if (this.closed) return undefined;
    const clientStream = streamId ?? [...this.channels.values()].find((c) => c.label === label)?.streamId;
    const targetStream = clientStream ?? this.freeStreamOfOurParity();
    // A stream of ours is taken now, before the awaits, so a second label cannot pick it too.
    const ours = clientStream === undefined ? { label, protocol, streamId: targetStream } : undefined;
    if (ours) this.channels.set(targetStream, ours);
    // Closed on every way out but success: made while the data path closed (its answer read
    // after the DirectTransport's close), nothing else would close it.
    let producer: DataProducer | undefined;
    try {
      this.direct ??= this.createDirect();
      const direct = await this.direct;
      if (!direct) return undefined;
      producer = await direct.produceData({ label, protocol });
      if (this.closed) {
        producer.close();
        return undefined;
      }
      const consumer = await this.options.transport.consumeData({
        dataProducerId: producer.id,
        // Our Node edit (patches/mediasoup/40-…): send on this SCTP stream.
        sctpStreamId: targetStream,
      });
      if (this.closed) {
        consumer.close();
        producer.close();
        return undefined;
      }
      existing?.consumer.close();
      existing?.producer.close();
      const out = { producer, consumer };
      this.outgoing.set(label, out);
      if (ours) producer.send(buildDcepOpen({ label, protocol }), Ppid.DCEP);
      return out;
    } catch (error) {
      producer?.close();
      if (ours && this.channels.get(targetStream) === ours) this.channels.delete(targetStream);
      this.options.logger.warn('cannot open an outgoing data channel', { label, error });
      return undefined;
    }
  }

  /** The DirectTransport; a failed creation is forgotten, so the next channel tries again. */
  private async createDirect(): Promise<DirectTransport | undefined> {
    try {
      return this.keep(await this.options.router.createDirectTransport({ maxMessageSize: 262144 }));
    } catch (error) {
      this.direct = undefined;
      throw error;
    }
  }

  private freeStreamOfOurParity(): number {
    const role = this.options.dtlsClient ? 'client' : 'server';
    return nextStreamId(role, new Set(this.channels.keys()), OUR_STREAM_ID_LIMIT) ?? (this.options.dtlsClient ? 0 : 1);
  }
}
