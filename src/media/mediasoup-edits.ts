// Typed access to what our mediasoup edits add (patches/README.md):
//  - Transport.consume()'s `wire` option: the recipient's header extension ids and payload
//    types, and the SSRCs we wrote in the SDP (patches 010 + 030; mediasoup #1126);
//  - DCEP (SCTP ppid 50) messages reaching Node through a DataConsumer on a DirectTransport
//    (patch 020; the codec is datachannel/dcep.ts).
//  - a WebRtcTransport's received RTCP handed to Node and raw RTCP sent on it (patch 050:
//    enableRawRtcp(), the 'rawrtcp' event, sendRtcp(); typed by the patched .d.ts itself);
//  - a WebRtcTransport's SCTP messages on streams without a DataProducer handed to Node
//    (patch 080: enableSctpMessages(), the 'sctpmessage' event; used by peer-data.ts);
//  - a WebRtcTransport created with its bitrate cap and that SCTP tap on (patch 090:
//    createWebRtcTransport's maxIncomingBitrate and enableSctpMessages; used by peer.ts).

import type { types } from 'mediasoup';
import { WebRtcTransport } from 'mediasoup/node/lib/WebRtcTransport';
import { NamedError } from '../common/named-error';

/** mediasoup runs without our edits (installed with npm's --ignore-scripts, or by hand). */
export class MediasoupEditsMissingError extends NamedError {
  constructor(missing: string) {
    super(`mediasoup is installed without luasfu's patches (${missing} missing): run npm ci, which applies patches/mediasoup and builds the worker`);
  }
}

/**
 * Fails fast when the installed mediasoup lacks our Node-side edits (the install applies them
 * with the worker's, so their absence means the worker is stock too): without them the media
 * plane would fail later, handle by handle.
 */
export function assertMediasoupEdits(): void {
  for (const method of ['enableRawRtcp', 'enableSctpMessages'] as const) {
    if (typeof WebRtcTransport.prototype[method] !== 'function') throw new MediasoupEditsMissingError(`WebRtcTransport.${method}()`);
  }
  // Edit 090: without it createWebRtcTransport() would ignore the SCTP tap silently.
  if (!Object.getOwnPropertyDescriptor(WebRtcTransport.prototype, 'sctpMessagesEnabled')?.get) {
    throw new MediasoupEditsMissingError('WebRtcTransport.sctpMessagesEnabled');
  }
}

/** One negotiated extmap of the recipient: the URI and the id its SDP gives it. */
export interface WireHeaderExtension {
  uri: string;
  /** 1..14 for one-byte headers (mediasoup's packets are one-byte; larger ids get blanked). */
  id: number;
}

/** The recipient's payload types for one codec (matched by mimeType, case-insensitive). */
export interface WireCodec {
  mimeType: string;
  payloadType: number;
  /** The recipient's RTX PT for this codec (video); without it RTX keeps the router's PT. */
  rtxPayloadType?: number;
}

export interface ConsumerWireOptions {
  /**
   * The recipient's extmaps. When given, the consumer sends exactly the extensions listed
   * (those mediasoup writes: mid, abs-send-time, transport-cc, audio-level, ...) at these
   * ids, and every other extension is blanked. Omit to keep stock behaviour (router ids).
   */
  headerExtensions?: WireHeaderExtension[];
  /** The recipient's PTs; codecs not listed keep the router's PT. */
  codecs?: WireCodec[];
  /** Media SSRC the consumer sends with (as written in the SDP); random if omitted. */
  ssrc?: number;
  /** RTX SSRC (only for a consumer with RTX, else consume() throws). */
  rtxSsrc?: number;
}

/** ConsumerOptions with our `wire` option. Pass to consume() as is. */
export type WireConsumerOptions<AppData extends types.AppData = types.AppData> =
  types.ConsumerOptions<AppData> & { wire?: ConsumerWireOptions };

/**
 * transport.consume() with the `wire` option, typed. consumer.rtpParameters keep the router's
 * PTs and extension ids (what the worker works with) but carry the given SSRCs.
 */
export function consumeWire<AppData extends types.AppData = types.AppData>(
  transport: types.Transport,
  options: WireConsumerOptions<AppData>,
): Promise<types.Consumer<AppData>> {
  return transport.consume<AppData>(options as types.ConsumerOptions<AppData>);
}

/** DataConsumerOptions with patch 040's `sctpStreamId` (send on the client's own stream). */
export type StreamDataConsumerOptions<AppData extends types.AppData = types.AppData> =
  types.DataConsumerOptions<AppData> & { sctpStreamId?: number };

/** Well-known extension URIs (the ones mediasoup's Producer writes towards consumers). */
export const EXT_URI = {
  mid: 'urn:ietf:params:rtp-hdrext:sdes:mid',
  absSendTime: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  transportCc: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  audioLevel: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  videoOrientation: 'urn:3gpp:video-orientation',
  toffset: 'urn:ietf:params:rtp-hdrext:toffset',
  absCaptureTime: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time',
} as const;
