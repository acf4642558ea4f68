// Key frame requests (PLIs) to each sender, and the video Consumers waiting for one.
//
// A video Consumer that starts (a new recipient, or one resumed) sends nothing until a key
// frame comes from its sender, and nothing made one come soon: mediasoup asks the sender once
// and then holds every further request while that one is "pending" (up to 1 s, then at most
// one retry), and libwebrtc senders ignore a PLI that comes within 300 ms of the last one they
// took (EncoderRtcpFeedback). Subscribers that started a little after another one therefore
// waited for mediasoup's retry, ~1.1 s after webrtcup (issue 14; bench/README.md).
//
// Here every request to a sender (the script's sendPli, a starting Consumer) goes out at once
// when the sender's last one is at least SPACING_MS old and its last key frame 300 ms old, else
// at that moment (requests in between are one request), so each PLI falls where a libwebrtc
// sender takes it. A starting video Consumer is watched until it has sent its first key frame
// (its 'keyframe' trace event): while any of a sender's Consumers waits, the sender is asked
// again every SPACING_MS, at most MAX_REQUESTS times per Consumer (it may send no video).

import { performance } from 'node:perf_hooks';
import type { Consumer, ConsumerTraceEventData } from 'mediasoup/node/lib/Consumer';

/** Between two requests to one sender: just over libwebrtc's 300 ms. */
const SPACING_MS = 350;
/** libwebrtc makes no key frame on request within this long of the last one it made so. */
const SENDER_KEY_FRAME_GAP_MS = 300;
/** Requests per starting Consumer before giving up on it. */
const MAX_REQUESTS = 10;

/** Sends a key frame request (a PLI) to the sender with this handle id, now. */
export type KeyFrameSender = (senderId: number) => void;

interface Waiter {
  requests: number;
  readonly unwatch: () => void;
}

interface SenderState {
  readonly waiters: Map<Consumer, Waiter>;
  /** A request is due at the next allowed moment. */
  due: boolean;
  timer?: NodeJS.Timeout;
  lastRequestAt: number;
  /** When a watched Consumer last sent a key frame of this sender. */
  lastKeyFrameAt: number;
}

export class KeyFrameRequests {
  private readonly senders = new Map<number, SenderState>();

  constructor(private readonly send: KeyFrameSender) {}

  /** Asks the sender for a key frame: now, or at the next moment it would take the request. */
  request(senderId: number): void {
    const sender = this.stateOf(senderId);
    sender.due = true;
    this.pump(senderId, sender);
  }

  /**
   * Watches a paused video Consumer until it sends its first key frame, asking its sender
   * meanwhile. Call before resuming it (the worker handles the trace request first, so no
   * key frame passes unseen), then `request`.
   */
  watch(senderId: number, consumer: Consumer): void {
    if (consumer.kind !== 'video' || consumer.closed) return;
    const sender = this.stateOf(senderId);
    if (sender.waiters.has(consumer)) return;
    const onTrace = (trace: ConsumerTraceEventData): void => {
      if (trace.type !== 'keyframe') return;
      sender.lastKeyFrameAt = performance.now();
      this.forget(senderId, consumer);
    };
    const onClose = (): void => this.forget(senderId, consumer);
    consumer.on('trace', onTrace);
    consumer.observer.once('close', onClose);
    sender.waiters.set(consumer, {
      requests: 0,
      unwatch: () => {
        consumer.off('trace', onTrace);
        consumer.observer.off('close', onClose);
        if (!consumer.closed) void consumer.enableTraceEvent([]).catch(() => undefined);
      },
    });
    void consumer.enableTraceEvent(['keyframe']).catch(() => undefined);
  }

  /** Stops watching a Consumer (it got its key frame, closed, or was paused again). */
  forget(senderId: number, consumer: Consumer): void {
    const sender = this.senders.get(senderId);
    const waiter = sender?.waiters.get(consumer);
    if (!sender || !waiter) return;
    sender.waiters.delete(consumer);
    waiter.unwatch();
    // Nothing left to ask for: the repeat is cancelled (an explicit request still goes).
    if (sender.waiters.size === 0 && !sender.due) {
      clearTimeout(sender.timer);
      sender.timer = undefined;
    }
  }

  /** The sender is gone: no more requests to it. */
  dropSender(senderId: number): void {
    const sender = this.senders.get(senderId);
    if (!sender) return;
    clearTimeout(sender.timer);
    for (const consumer of [...sender.waiters.keys()]) this.forget(senderId, consumer);
    this.senders.delete(senderId);
  }

  private stateOf(senderId: number): SenderState {
    let sender = this.senders.get(senderId);
    if (!sender) {
      sender = { waiters: new Map(), due: false, lastRequestAt: -Infinity, lastKeyFrameAt: -Infinity };
      this.senders.set(senderId, sender);
    }
    return sender;
  }

  /** Sends a request now if allowed, else makes sure the timer will (when one is due or a Consumer waits). */
  private pump(senderId: number, sender: SenderState): void {
    if (sender.timer) return;
    const nextAt = Math.max(sender.lastRequestAt + SPACING_MS, sender.lastKeyFrameAt + SENDER_KEY_FRAME_GAP_MS);
    const wait = nextAt - performance.now();
    if (wait > 0) {
      sender.timer = setTimeout(() => {
        sender.timer = undefined;
        this.fire(senderId, sender);
      }, wait);
      sender.timer.unref();
    } else {
      this.fire(senderId, sender);
    }
  }

  private fire(senderId: number, sender: SenderState): void {
    if (this.senders.get(senderId) !== sender) return;
    for (const [consumer, waiter] of [...sender.waiters]) {
      if (waiter.requests >= MAX_REQUESTS) this.forget(senderId, consumer);
      else waiter.requests++;
    }
    if (!sender.due && sender.waiters.size === 0) return;
    sender.due = false;
    sender.lastRequestAt = performance.now();
    this.send(senderId);
    // Asked again, unless every waiting Consumer has its key frame by then (forget cancels).
    if (sender.waiters.size > 0) this.pump(senderId, sender);
  }
}
