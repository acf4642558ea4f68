// Warms the main thread's SDP path up when the media plane starts. V8 runs a function in its
// interpreter until it is hot, so a fresh server spends ~10 ms of main-thread time on its first
// offer's SDP (the client's offer taken apart, the script's answer merged with the transport's,
// the negotiation) and 1-2 ms on each of the next dozens, against ~0.3 ms warm; clients
// reconnecting after a restart all arrive then, and queue behind each other on this one thread.
// So the plane, between events, runs that path on a built-in offer (the one the script thread's
// warm-up negotiates) and the answer lua/echotest.lua gives to it. Pure functions only: no
// transport, no Peer, nothing a user sees. Bounded in passes and in time.

import type { DtlsParameters, IceCandidate, IceParameters } from 'mediasoup/node/lib/WebRtcTransport';
import { WarmUpBudget } from '../../common/warm-up-budget';
import { WARM_UP_OFFER } from '../../common/warm-up-offer';
import { clientJsepForScript, ourDtlsRole } from './client-sdp';
import { chooseLocalSsrcs } from './local-ssrcs';
import { localMediaOf, mergeLocalSdp } from './merge';
import { negotiate, toConsumerRtpCapabilities, toProducerRtpParameters, type Negotiation } from './negotiation';
import { parseSdp } from './sdp-text';

/** At most this many passes (by ~40 a pass costs what a warm one does). */
export const SDP_WARM_UP_PASSES = 40;
/** ... and at most this much time spent in them, in case the machine is slow or loaded. */
export const SDP_WARM_UP_BUDGET_MS = 1000;

/**
 * WARM_UP_OFFER as a browser sends it: each section with what anonymising removes (ICE
 * credentials and options, the fingerprint, the DTLS role, rtcp-mux, the sender's SSRCs).
 */
export const WARM_UP_CLIENT_OFFER = WARM_UP_OFFER.split('\r\n')
  .flatMap((line) => {
    const mid = /^a=mid:(\d)$/.exec(line)?.[1];
    if (mid === undefined) return [line];
    const transport = [
      'a=ice-ufrag:wArM', 'a=ice-pwd:warmupwarmupwarmupwarmup', 'a=ice-options:trickle',
      `a=fingerprint:sha-256 ${Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).toUpperCase()).join(':')}`,
      'a=setup:actpass',
    ];
    const rtp = mid === '2' ? [] : ['a=rtcp-mux', `a=ssrc:${1000 + Number(mid)} cname:warmup`];
    return [line, ...transport, ...rtp];
  })
  .join('\r\n');

/** What lua/echotest.lua answers to WARM_UP_OFFER (the script's text, before the core merges). */
export const WARM_UP_ANSWER = [
  'v=0', 'o=- 4611731400430051336 2 IN IP4 1.1.1.1', 's=-', 't=0 0', 'a=extmap-allow-mixed',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=sendrecv',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=sendrecv',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 goog-remb', 'a=rtcp-fb:96 transport-cc', 'a=rtcp-fb:96 ccm fir',
  'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', '',
].join('\r\n');

/** A transport as mediasoup describes it (the merge writes these into the answer). */
const ICE: IceParameters = { usernameFragment: 'warmupwarmupwarm', password: 'warmupwarmupwarmupwarmupwarmupwa', iceLite: true };
const CANDIDATES: IceCandidate[] = [{ foundation: 'udpcandidate', priority: 1076302079, ip: '127.0.0.1', protocol: 'udp', port: 9, type: 'host', tcpType: undefined }];
const DTLS: DtlsParameters = { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: Array(32).fill('AB').join(':') }] };

/**
 * One pass of what MediasoupPeer does with a client's offer and the script's answer
 * (setRemoteDescription, then setLocalDescription and the producers' parameters).
 */
export function warmUpSdpPass(): Negotiation {
  const { client } = clientJsepForScript({ type: 'offer', sdp: WARM_UP_CLIENT_OFFER });
  const plugin = parseSdp(WARM_UP_ANSWER);
  const localSsrcs = chooseLocalSsrcs(localMediaOf(plugin, 'answer', client), { avoid: client.media.flatMap((m) => m.ssrcs), previous: {} });
  const merged = mergeLocalSdp(plugin, {
    type: 'answer', announcedIp: '127.0.0.1', iceParameters: ICE, iceCandidates: CANDIDATES, dtlsParameters: DTLS,
    dtlsRole: ourDtlsRole(client.setup), client, localSsrcs, sctpMaxMessageSize: 262144,
  });
  const negotiation = negotiate({ client, local: merged.parsed, clientIsOfferer: true });
  for (const m of negotiation.media) {
    if (m.codecs.length === 0) continue;
    toProducerRtpParameters(m);
    toConsumerRtpCapabilities(m);
  }
  return negotiation;
}

/** Runs passes between events (one per setImmediate) until done, out of budget, or stopped. */
export class SdpWarmUp extends WarmUpBudget {
  private timer: NodeJS.Immediate | undefined;

  constructor(maxPasses = SDP_WARM_UP_PASSES, budgetMs = SDP_WARM_UP_BUDGET_MS) {
    super(maxPasses, budgetMs);
  }

  start(onEnd?: (warmUp: SdpWarmUp) => void): void {
    const step = (): void => {
      this.timer = undefined;
      this.run(() => {
        warmUpSdpPass();
        return true;
      });
      if (this.over) onEnd?.(this);
      else this.timer = setImmediate(step);
    };
    this.timer = setImmediate(step);
  }

  stop(): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
  }
}
