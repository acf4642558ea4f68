// A real WebRTC peer for the media scenarios: libwebrtc through @roamhq/wrtc (full ICE,
// DTLS-SRTP, VP8 + opus encoders and decoders). It sends a generated video at the chosen size
// and frame rate and a tone, optionally a data channel, and counts what it receives and
// decodes. The package's typings need the DOM library, so the few types used are declared here.
//
// @roamhq/wrtc is an optional dependency of luasfu: the `api` scenario runs without it; the
// media scenarios fail with a one-line reason when it is not installed.

import type { JsonObject } from '../../src/plugin/json';
import { SharedSources, type SharedTrack, countingSink } from './generated-media';
import { loadOptional } from './optional-module';
import type { DataChannel, Description, PeerConnection, Sink, Track, Wrtc } from './wrtc-types';

const wrtc = (): Wrtc => loadOptional<Wrtc>('@roamhq/wrtc', (reason) =>
  `this scenario needs real WebRTC peers from @roamhq/wrtc, which did not load (${reason}): npm install @roamhq/wrtc`);

let sources: SharedSources | undefined;
const sharedSources = (lib: Wrtc): SharedSources => (sources ??= new SharedSources(lib));

/** Holds the generated camera and microphone of every MediaPeer until the release (SharedSources.hold). */
export function holdGeneratedMedia(): () => void {
  return sharedSources(wrtc()).hold();
}

export interface PeerMedia {
  audio: boolean;
  video: boolean;
  data: boolean;
  width: number;
  height: number;
  fps: number;
}

/** What a peer sent and received, from its RTCStats (cumulative). */
export interface PeerCounters {
  packetsReceived: number;
  packetsReceivedAudio: number;
  packetsReceivedVideo: number;
  packetsLost: number;
  bytesReceived: number;
  framesDecoded: number;
  packetsSent: number;
  packetsSentAudio: number;
  packetsSentVideo: number;
  /** Key frames this peer's video encoder produced, and the PLIs it received asking for one. */
  keyFramesEncoded: number;
  pliReceived: number;
}

export const zeroCounters = (): PeerCounters => ({
  packetsReceived: 0, packetsReceivedAudio: 0, packetsReceivedVideo: 0, packetsLost: 0, bytesReceived: 0,
  framesDecoded: 0, packetsSent: 0, packetsSentAudio: 0, packetsSentVideo: 0, keyFramesEncoded: 0, pliReceived: 0,
});

export function addCounters(a: PeerCounters, b: PeerCounters): PeerCounters {
  const sum = zeroCounters();
  for (const key of Object.keys(sum) as Array<keyof PeerCounters>) sum[key] = a[key] + b[key];
  return sum;
}

export function subtractCounters(a: PeerCounters, b: PeerCounters): PeerCounters {
  const diff = zeroCounters();
  for (const key of Object.keys(diff) as Array<keyof PeerCounters>) diff[key] = a[key] - b[key];
  return diff;
}

export class MediaPeer {
  private readonly pc: PeerConnection;
  /** Decoded video frames handed to our sink, and when the first came (performance.now()). */
  videoFrames = 0;
  firstFrameAt: number | undefined;
  lastFrameSize = '';
  audioChunks = 0;
  firstAudioAt: number | undefined;
  dataSent = 0;
  dataReceived = 0;
  /** When ICE first connected, and when the PeerConnection first connected (ICE + DTLS). */
  iceConnectedAt: number | undefined;
  connectedAt: number | undefined;
  private channel: DataChannel | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly tracks: SharedTrack[] = [];
  private readonly sinks: Sink[] = [];
  private readonly channels: DataChannel[] = [];
  private closed = false;

  /** `send`: what this peer sends (a subscriber sends nothing and only receives). */
  constructor(send: PeerMedia | undefined, onCandidate?: (candidate: JsonObject) => void) {
    const lib = wrtc();
    this.pc = new lib.RTCPeerConnection({ iceServers: [] });
    if (send) {
      if (send.audio) this.send(sharedSources(lib).audio());
      if (send.video) this.send(sharedSources(lib).video(send.width, send.height, 1000 / send.fps));
      if (send.data) {
        this.channel = this.pc.createDataChannel('JanusDataChannel');
        this.listen(this.channel);
        this.timers.push(setInterval(() => {
          if (this.channel?.readyState !== 'open') return;
          this.channel.send(`luasfu-bench ${this.dataSent++}`);
        }, 100));
      }
    }
    this.pc.ondatachannel = (event) => this.listen(event.channel);
    this.pc.ontrack = (event) => this.sink(lib, event.track);
    this.pc.oniceconnectionstatechange = () => {
      const state = this.pc.iceConnectionState;
      if (state === 'connected' || state === 'completed') this.iceConnectedAt ??= performance.now();
    };
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === 'connected') this.connectedAt ??= performance.now();
    };
    // Trickle our candidates as janus.js does: luasfu (ICE-lite) ignores them, a full-ICE
    // server (Janus) needs them to connect quickly.
    this.pc.onicecandidate = (event) => {
      if (!onCandidate || this.closed) return;
      const c = event.candidate;
      onCandidate(c ? { candidate: c.candidate, sdpMid: c.sdpMid ?? '0', sdpMLineIndex: c.sdpMLineIndex ?? 0 } : { completed: true });
    };
  }

  async offer(): Promise<Description> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    return { type: 'offer', sdp: offer.sdp };
  }

  async accept(answer: Description): Promise<void> {
    await this.pc.setRemoteDescription(answer);
  }

  /** Answers a server's offer (videoroom subscriber). */
  async answer(offer: Description): Promise<Description> {
    await this.pc.setRemoteDescription(offer);
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    return { type: 'answer', sdp: answer.sdp };
  }

  async counters(): Promise<PeerCounters> {
    const c = zeroCounters();
    if (this.closed) return c;
    (await this.pc.getStats()).forEach((stat) => {
      const kind = (stat.kind ?? stat.mediaType) as string;
      if (stat.type === 'inbound-rtp') {
        const packets = Number(stat.packetsReceived ?? 0);
        c.packetsReceived += packets;
        if (kind === 'audio') c.packetsReceivedAudio += packets;
        else c.packetsReceivedVideo += packets;
        c.packetsLost += Math.max(0, Number(stat.packetsLost ?? 0));
        c.bytesReceived += Number(stat.bytesReceived ?? 0);
        c.framesDecoded += Number(stat.framesDecoded ?? 0);
      } else if (stat.type === 'outbound-rtp') {
        const packets = Number(stat.packetsSent ?? 0);
        c.packetsSent += packets;
        if (kind === 'audio') c.packetsSentAudio += packets;
        else c.packetsSentVideo += packets;
        c.keyFramesEncoded += Number(stat.keyFramesEncoded ?? 0);
        c.pliReceived += Number(stat.pliCount ?? 0);
      }
    });
    return c;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const sink of this.sinks) sink.stop();
    for (const track of this.tracks) track.release();
    for (const channel of this.channels) channel.close();
    this.pc.close();
  }

  /** Sends a track of a generated source on a sendrecv transceiver of its own. */
  private send(shared: SharedTrack): void {
    this.tracks.push(shared);
    this.pc.addTransceiver(shared.track, { direction: 'sendrecv' });
  }

  private sink(lib: Wrtc, track: Track): void {
    if (this.closed) return;
    const sink = countingSink(lib, track, {
      videoFrame: (width, height) => {
        this.videoFrames++;
        this.firstFrameAt ??= performance.now();
        this.lastFrameSize = `${width}x${height}`;
      },
      audioChunk: () => {
        this.audioChunks++;
        this.firstAudioAt ??= performance.now();
      },
    });
    if (sink) this.sinks.push(sink);
  }

  private listen(channel: DataChannel): void {
    this.channels.push(channel);
    channel.onmessage = () => {
      this.dataReceived++;
    };
  }
}
