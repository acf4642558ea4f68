// RTP switching context (docs/contract.md §3.2; Janus's janus_rtp_header_update): makes the
// seq/ts of a relayed or recorded stream continuous across SSRC changes. When the SSRC changes,
// seq is re-based to last+1 and the timestamp advances by the wall-clock gap since the last
// packet (48 kHz audio, 8 kHz for PT 0/8/9, 90 kHz video). Audio and video keep separate state
// in one context, as Janus's per-session context does.

function setRtpSequenceNumber(packet: Buffer, seq: number): void {
  packet.writeUInt16BE(seq & 0xffff, 2);
}

function setRtpTimestamp(packet: Buffer, ts: number): void {
  packet.writeUInt32BE(ts >>> 0, 4);
}

/** Monotonic microseconds (Janus's janus_get_monotonic_time). */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

class StreamState {
  lastSsrc = 0;
  lastTs = 0;
  baseTs = 0;
  baseTsPrev = 0;
  lastSeq = 0;
  baseSeq = 0;
  baseSeqPrev = 0;
  /** 0 = no packet handled yet. */
  lastTime = 0;
  seqReset = false;
}

export interface RewriteInput {
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
  payloadType: number;
}

export interface RewriteResult {
  sequenceNumber: number;
  timestamp: number;
  /** True when this packet started a new SSRC. */
  ssrcChanged: boolean;
}

export class RtpSwitchingContext {
  private audio = new StreamState();
  private video = new StreamState();

  /** Back to the initial state (Janus's janus_rtp_switching_context_reset). */
  reset(): void {
    this.audio = new StreamState();
    this.video = new StreamState();
  }

  /** The next packet re-bases seq without touching ts (used after a pause). */
  resetSeq(video: boolean): void {
    this.state(video).seqReset = true;
  }

  /**
   * Swallows one sequence number of the current stream: used when a packet is dropped on
   * purpose (a VP8 temporal layer above the target), so no gap appears downstream.
   */
  skipSequenceNumber(video: boolean): void {
    const s = this.state(video);
    s.baseSeq = (s.baseSeq + 1) & 0xffff;
  }

  /** Computes the outgoing seq/ts for a packet. Pure apart from the context's own state. */
  rewrite(input: RewriteInput, video: boolean, nowUs: number = monotonicUs()): RewriteResult {
    const s = this.state(video);
    const ssrc = input.ssrc >>> 0;
    const seq = input.sequenceNumber & 0xffff;
    const ts = input.timestamp >>> 0;
    let ssrcChanged = false;
    if (ssrc !== s.lastSsrc) {
      ssrcChanged = true;
      s.lastSsrc = ssrc;
      s.baseTsPrev = s.lastTs;
      s.baseTs = ts;
      s.baseSeqPrev = s.lastSeq;
      s.baseSeq = seq;
      if (s.lastTime > 0) {
        // Advance ts by the time that passed since the previous stream's last packet.
        const khz = video ? 90 : input.payloadType === 0 || input.payloadType === 8 || input.payloadType === 9 ? 8 : 48;
        let diff = Math.floor((Math.max(0, nowUs - s.lastTime) * khz) / 1000);
        if (diff === 0) diff = 1;
        s.baseTsPrev = (s.baseTsPrev + diff) >>> 0;
        s.lastTs = (s.lastTs + diff) >>> 0;
      }
    }
    if (s.seqReset) {
      s.seqReset = false;
      s.baseSeqPrev = s.lastSeq;
      s.baseSeq = seq;
    }
    s.lastTs = (ts - s.baseTs + s.baseTsPrev) >>> 0;
    s.lastSeq = (seq - s.baseSeq + s.baseSeqPrev + 1) & 0xffff;
    s.lastTime = nowUs;
    return { sequenceNumber: s.lastSeq, timestamp: s.lastTs, ssrcChanged };
  }

  /**
   * Rewrites seq/ts of an RTP packet in place and returns the original values so the caller
   * can restore them (Janus restores the header before the next recipient).
   */
  rewritePacket(packet: Buffer, video: boolean, nowUs: number = monotonicUs()): { sequenceNumber: number; timestamp: number } {
    if (packet.length < 12) throw new RangeError('RTP packet too short');
    const original = { sequenceNumber: packet.readUInt16BE(2), timestamp: packet.readUInt32BE(4) };
    const r = this.rewrite(
      { ssrc: packet.readUInt32BE(8), sequenceNumber: original.sequenceNumber, timestamp: original.timestamp, payloadType: packet[1] & 0x7f },
      video,
      nowUs,
    );
    setRtpSequenceNumber(packet, r.sequenceNumber);
    setRtpTimestamp(packet, r.timestamp);
    return original;
  }

  private state(video: boolean): StreamState {
    return video ? this.video : this.audio;
  }
}
