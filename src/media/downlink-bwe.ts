// Whether a Consumer runs mediasoup's downlink bandwidth estimation (BWE).
//
// mediasoup starts a transport's TransportCongestionControlClient (libwebrtc's GoogCC: a timer
// per transport, a send record and a callback per packet, probation packets, the recipient's
// transport-cc feedback processed several times a second) when the first video Consumer with
// "transport-cc" or "goog-remb" feedback is created. Its estimate only chooses the layers of
// simulcast and SVC Consumers; a single-stream Consumer sends what its Producer sends whatever
// it says. So a Consumer of a single-stream Producer gets neither feedback, unless its
// transport already runs BWE for another Consumer (then the estimate must see every packet of
// the transport). The transport-cc extension stays: our worker (patch 061) numbers packets
// without BWE too, as Janus does, so the recipient keeps sending transport-cc feedback (which
// the worker ignores) rather than REMB, and a script's incomingRtcp sees what it would with Janus.

import type { Producer } from 'mediasoup/node/lib/Producer';
import type { RtpCapabilities } from 'mediasoup/node/lib/RtpParameters';
import type { WebRtcTransport } from 'mediasoup/node/lib/WebRtcTransport';
import type { ReceiveSlot } from './peer';

/** The RTCP feedback types that make mediasoup start its BWE for a Consumer. */
const BWE_FEEDBACK = new Set(['transport-cc', 'goog-remb']);

export class DownlinkBwe {
  /** Transports where a Consumer with transport-cc or REMB was created (mediasoup's BWE runs). */
  private readonly running = new WeakSet<WebRtcTransport>();

  /** The slot a new Consumer of `producer` on `transport` is created with. */
  slotFor(transport: WebRtcTransport, producer: Producer, slot: ReceiveSlot): ReceiveSlot {
    const needed = producer.type === 'simulcast' || producer.type === 'svc';
    if (needed || this.running.has(transport)) {
      if (producer.kind === 'video' && negotiatesBwe(slot.rtpCapabilities)) this.running.add(transport);
      return slot;
    }
    return withoutBwe(slot);
  }
}

function negotiatesBwe(caps: RtpCapabilities): boolean {
  return (caps.codecs ?? []).some((c) => (c.rtcpFeedback ?? []).some((fb) => BWE_FEEDBACK.has(fb.type)));
}

/** The slot without the feedback that starts mediasoup's BWE (extensions and wire unchanged). */
export function withoutBwe(slot: ReceiveSlot): ReceiveSlot {
  const caps = slot.rtpCapabilities;
  const codecs = (caps.codecs ?? []).map((c) => ({ ...c, rtcpFeedback: (c.rtcpFeedback ?? []).filter((fb) => !BWE_FEEDBACK.has(fb.type)) }));
  return { ...slot, rtpCapabilities: { ...caps, codecs } };
}
