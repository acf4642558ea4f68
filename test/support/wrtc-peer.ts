// A real libwebrtc peer in Node (@roamhq/wrtc) for the tests: sends generated video and audio
// (bench/lib/generated-media.ts, as the bench's peers do) and a data channel, counts what comes
// back, and reads its sender's stats.

/* eslint-disable @typescript-eslint/no-require-imports */

import { countingSink, patternVideo, toneAudio, type GeneratedSource } from '../../bench/lib/generated-media';
import type { DataChannel, Description, PeerConnection, Sink, Track, Wrtc } from '../../bench/lib/wrtc-types';

const wrtc = require('@roamhq/wrtc') as Wrtc;

export interface NodePeerOptions {
  audio?: boolean;
  video?: boolean;
  data?: boolean;
  width?: number;
  height?: number;
}

export class NodePeer {
  readonly pc: PeerConnection;
  videoFrames = 0;
  lastFrameSize = { width: 0, height: 0 };
  audioChunks = 0;
  readonly dataReceived: string[] = [];
  channel?: DataChannel;
  /** While set, the video source hands the encoder no frames (so it can make no key frame). */
  videoStalled = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly tracks: Track[] = [];
  private readonly sinks: Sink[] = [];
  private readonly channels: DataChannel[] = [];

  constructor(private readonly options: NodePeerOptions = {}) {
    this.pc = new wrtc.RTCPeerConnection({ iceServers: [] });
    const { audio = true, video = true, data = false } = options;
    // About 30 frames a second; none while videoStalled.
    if (video) this.send(patternVideo(wrtc, options.width ?? 320, options.height ?? 240, 33, () => this.videoStalled));
    if (audio) this.send(toneAudio(wrtc));
    if (data) {
      this.channel = this.pc.createDataChannel('JanusDataChannel');
      this.listen(this.channel);
    }
    this.pc.ondatachannel = (event) => this.listen(event.channel);
    this.pc.ontrack = (event) => this.sink(event.track);
  }

  /** Our offer, as the client would send it (optionally rewritten: see renumber). */
  async offer(rewrite?: (sdp: string) => string, options?: { iceRestart?: boolean }): Promise<Description> {
    const offer = await this.pc.createOffer(options);
    const sdp = rewrite ? rewrite(offer.sdp) : offer.sdp;
    await this.pc.setLocalDescription({ type: 'offer', sdp });
    return { type: 'offer', sdp };
  }

  /** A data channel of this peer by label: its own, or one the server opened. */
  channelLabeled(label: string): DataChannel | undefined {
    return this.channels.find((channel) => channel.label === label);
  }

  async accept(answer: Description): Promise<void> {
    await this.pc.setRemoteDescription(answer);
  }

  /** Answers a server offer (videoroom subscriber). */
  async answer(offer: Description): Promise<Description> {
    await this.pc.setRemoteDescription(offer);
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    return { type: 'answer', sdp: answer.sdp };
  }

  /** Bytes this peer has sent on its outbound video RTP stream. */
  async outboundVideoBitrate(windowMs: number): Promise<number> {
    const bytes = async (): Promise<number> => {
      let total = 0;
      (await this.pc.getStats()).forEach((stat) => {
        if (stat.type === 'outbound-rtp' && (stat.kind === 'video' || stat.mediaType === 'video')) total += Number(stat.bytesSent ?? 0);
      });
      return total;
    };
    const before = await bytes();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    return ((await bytes()) - before) * 8 * (1000 / windowMs);
  }

  /** The key frame requests this peer's video sender got and the key frames it encoded (getStats outbound-rtp). */
  async outboundVideoStats(): Promise<{ pliCount: number; firCount: number; keyFramesEncoded: number }> {
    const totals = { pliCount: 0, firCount: 0, keyFramesEncoded: 0 };
    (await this.pc.getStats()).forEach((stat) => {
      if (stat.type !== 'outbound-rtp' || (stat.kind !== 'video' && stat.mediaType !== 'video')) return;
      totals.pliCount += Number(stat.pliCount ?? 0);
      totals.firCount += Number(stat.firCount ?? 0);
      totals.keyFramesEncoded += Number(stat.keyFramesEncoded ?? 0);
    });
    return totals;
  }

  close(): void {
    for (const timer of this.timers) clearInterval(timer);
    for (const sink of this.sinks) sink.stop();
    for (const track of this.tracks) track.stop();
    for (const channel of this.channels) channel.close();
    this.pc.close();
  }

  /** Sends a generated source with addTrack, as a page would. */
  private send(source: GeneratedSource): void {
    this.tracks.push(source.track);
    this.timers.push(source.timer);
    this.pc.addTrack(source.track);
  }

  private sink(track: Track): void {
    const sink = countingSink(wrtc, track, {
      videoFrame: (width, height) => {
        this.videoFrames++;
        this.lastFrameSize = { width, height };
      },
      audioChunk: () => {
        this.audioChunks++;
      },
    });
    if (sink) this.sinks.push(sink);
  }

  private listen(channel: DataChannel): void {
    this.channels.push(channel);
    channel.onmessage = (event) => {
      this.dataReceived.push(typeof event.data === 'string' ? event.data : Buffer.from(event.data).toString('utf8'));
    };
  }
}

/** Renumbers an offer's payload types as Firefox does (opus 109, VP8 120, VP8's rtx 124). */
export function renumberLikeFirefox(sdp: string): string {
  const pt = (codec: string): string | undefined => new RegExp(`a=rtpmap:(\\d+) ${codec}`, 'i').exec(sdp)?.[1];
  const opus = pt('opus/48000');
  const vp8 = pt('VP8/90000');
  const vp8Rtx = vp8 ? new RegExp(`a=fmtp:(\\d+) apt=${vp8}\\r`).exec(sdp)?.[1] : undefined;
  const map = new Map<string, string>();
  if (opus) map.set(opus, '109');
  if (vp8) map.set(vp8, '120');
  if (vp8Rtx) map.set(vp8Rtx, '124');
  // Swap with whatever used the target numbers, so numbers stay unique.
  for (const [from, to] of [...map]) if (!map.has(to) && from !== to) map.set(to, from);
  const swap = (n: string): string => map.get(n) ?? n;
  return sdp
    .split('\r\n')
    .map((line) => {
      const m = /^(m=(?:audio|video) \d+ [A-Z/]+ )([\d ]+)$/.exec(line);
      if (m) return m[1] + m[2]!.split(' ').map(swap).join(' ');
      const a = /^a=(rtpmap|fmtp|rtcp-fb):(\d+)(.*)$/.exec(line);
      if (a) {
        const rest = a[1] === 'fmtp' ? a[3]!.replace(/apt=(\d+)/, (_, p: string) => `apt=${swap(p)}`) : a[3];
        return `a=${a[1]}:${swap(a[2]!)}${rest}`;
      }
      return line;
    })
    .join('\r\n');
}

export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
