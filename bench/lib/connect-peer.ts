// A light peer for `churn --connect`: libdatachannel through node-datachannel. It offers one
// opus and one VP8 m-line (sendrecv, with SSRCs, as a browser does), connects ICE (libjuice, a
// full agent, so it also answers Janus's own checks) and DTLS-SRTP up to the server's
// `webrtcup` (over IPv4, see `ipv4CandidatesOnly`), and sends no media: there is no encoder or
// media engine behind it. A libwebrtc peer (`MediaPeer`) costs ~20 ms of CPU per join, a whole
// core at 50 joins/s, which on a small machine makes the client the bottleneck before the
// server (bench/README.md, "Ninth session"); this one costs about a quarter of that.
//
// node-datachannel is an optional dependency of luasfu (prebuilt binaries on npm, OpenSSL
// linked in). Its typings are its own; the few calls used are declared here so that the bench
// builds without it.

import { randomInt } from 'node:crypto';
import type { JsonObject } from '../../src/plugin/json';
import { BenchFailure } from './errors';
import { loadOptional } from './optional-module';
import type { Description } from './wrtc-types';

interface NdcMedia {
  addSSRC(ssrc: number, name?: string, msid?: string, trackId?: string): void;
}
interface NdcAudio extends NdcMedia {
  addOpusCodec(payloadType: number): string;
}
interface NdcVideo extends NdcMedia {
  addVP8Codec(payloadType: number): void;
}
interface NdcPeerConnection {
  addTrack(media: NdcMedia): unknown;
  setLocalDescription(type?: 'offer'): void;
  setRemoteDescription(sdp: string, type: 'answer'): void;
  localDescription(): { type: string; sdp: string } | null;
  onGatheringStateChange(callback: (state: string) => void): void;
  close(): void;
}
interface NodeDataChannel {
  PeerConnection: new (name: string, config: { iceServers: string[]; disableAutoNegotiation?: boolean }) => NdcPeerConnection;
  Audio: new (mid: string, direction: 'SendRecv') => NdcAudio;
  Video: new (mid: string, direction: 'SendRecv') => NdcVideo;
}

const nodeDataChannel = (): NodeDataChannel => loadOptional<NodeDataChannel>('node-datachannel', (reason) =>
  `--peer libdatachannel needs node-datachannel, which did not load (${reason}): npm install node-datachannel, or use --peer libwebrtc`);

/**
 * The peer connects over IPv4: its own IPv6 candidates are left out of the offer and the
 * server's out of the answer. libjuice nominates a pair only once no check is pending on any
 * other, and paces checks 50 ms apart, so each IPv6 candidate of a full-ICE server (Janus
 * offers them first, at higher priority) would add 50 ms to every connection: a delay of
 * the client's, which a browser does not have (it nominates the first pair that works).
 */
export function ipv4CandidatesOnly(sdp: string): string {
  return sdp.split('\r\n').filter((line) => !(line.startsWith('a=candidate:') && (line.split(' ')[4] ?? '').includes(':'))).join('\r\n');
}

/**
 * `a=setup:active` instead of `actpass`: the peer will be the DTLS client. libdatachannel
 * starts its DTLS transport only when its ICE is connected, and drops a ClientHello that came
 * before; an ICE-lite server (mediasoup) sends its ClientHello as soon as it answers the first
 * check, so ~1 connection in 10 waited for the server's retransmission (100 ms in mediasoup).
 * libwebrtc keeps such an early ClientHello. A full-ICE server (Janus) starts DTLS later, and
 * as a DTLS server it waits for its own ICE, so there the peer keeps `actpass`.
 */
function offerDtlsClient(sdp: string): string {
  return sdp.replaceAll('a=setup:actpass', 'a=setup:active');
}

/** Whether an answer comes from an ICE-lite server. */
export const isIceLite = (sdp: string): boolean => /^a=ice-lite\r?$/m.test(sdp);

/** Host candidates on this machine's interfaces are gathered at once; this only bounds a fault. */
const GATHERING_TIMEOUT_MS = 5000;

export class ConnectPeer {
  private readonly pc: NdcPeerConnection;
  private readonly gathered: Promise<void>;
  private closed = false;

  /**
   * `onCandidate` gets `{ completed: true }` once the offer is out: its candidates are in the
   * SDP, and a full-ICE server (Janus) waits for the end of trickling before it gives up on
   * further candidates.
   */
  constructor(
    media: { audio: boolean; video: boolean },
    private readonly onCandidate?: (candidate: JsonObject) => void,
    /** Offer to be the DTLS client: for an ICE-lite server (see `offerDtlsClient`). */
    private readonly dtlsClient = false,
  ) {
    const lib = nodeDataChannel();
    this.pc = new lib.PeerConnection('luasfu-bench', { iceServers: [], disableAutoNegotiation: true });
    this.gathered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new BenchFailure(`ICE gathering took over ${GATHERING_TIMEOUT_MS} ms`)), GATHERING_TIMEOUT_MS);
      this.pc.onGatheringStateChange((state) => {
        if (state !== 'complete') return;
        clearTimeout(timer);
        resolve();
      });
    });
    this.gathered.catch(() => undefined);
    const stream = `bench-${randomInt(1, 2 ** 31)}`;
    if (media.audio) {
      const audio = new lib.Audio('0', 'SendRecv');
      audio.addOpusCodec(111);
      audio.addSSRC(randomInt(1, 2 ** 32 - 1), stream, stream, 'audio');
      this.pc.addTrack(audio);
    }
    if (media.video) {
      const video = new lib.Video(media.audio ? '1' : '0', 'SendRecv');
      video.addVP8Codec(96);
      video.addSSRC(randomInt(1, 2 ** 32 - 1), stream, stream, 'video');
      this.pc.addTrack(video);
    }
  }

  async offer(): Promise<Description> {
    this.pc.setLocalDescription('offer');
    await this.gathered;
    const local = this.pc.localDescription();
    if (!local) throw new BenchFailure('libdatachannel made no offer');
    if (!this.closed) this.onCandidate?.({ completed: true });
    const sdp = ipv4CandidatesOnly(local.sdp);
    return { type: 'offer', sdp: this.dtlsClient ? offerDtlsClient(sdp) : sdp };
  }

  async accept(answer: Description): Promise<void> {
    this.pc.setRemoteDescription(ipv4CandidatesOnly(answer.sdp), 'answer');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.close();
  }
}
