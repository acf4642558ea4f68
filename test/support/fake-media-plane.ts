// A fake MediaPlane for core and transport tests: no media, but the Peer contract's
// observable behaviour (InvalidSdpError for a non-SDP, UnexpectedAnswerError for an answer
// without an offer, anonymised
// JSEP back, merged JSEP out) and hooks to fire PeerEvents by hand.

import type {
  ClientJsep, FullJsep, MediaPlane, Peer, PeerEvents, TrickleCandidate,
} from '../../src/plugin/media-plane';
import type { JsonObject } from '../../src/plugin/json';
import type { MediaRouter } from '../../src/plugin/media';
import type { DataMessage, PluginJsep } from '../../src/plugin/plugin';
import { InvalidSdpError, UnexpectedAnswerError } from '../../src/plugin/media-errors';

export const TEST_OFFER_SDP = [
  'v=0', 'o=- 4611731400430051336 2 IN IP4 192.168.1.20', 's=-', 't=0 0',
  'a=group:BUNDLE 0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdef012345',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 192.168.1.20', 'a=mid:0', 'a=sendrecv',
  'a=rtpmap:111 opus/48000/2', '',
].join('\r\n');

/** What the fake does to a client SDP before the plugin sees it (a stand-in for the real anonymiser). */
export function fakeAnonymise(sdp: string): string {
  return sdp
    .replace(/^o=(\S+ \S+ \S+) IN IP4 \S+/m, 'o=$1 IN IP4 1.1.1.1')
    .replace(/^c=IN IP4 \S+/gm, 'c=IN IP4 1.1.1.1')
    .replace(/^a=ice-(ufrag|pwd):.*\r\n/gm, '');
}

export const FAKE_MERGE_MARK = 'a=fake-merged';

export class FakePeer implements Peer {
  readonly candidates: Array<TrickleCandidate | null> = [];
  remote: ClientJsep | undefined;
  local: PluginJsep | undefined;
  localOfferPending = false;
  hangups = 0;
  closed = false;
  /** Set to make setLocalDescription reject (merge failure). */
  failLocal = false;
  /** How long hangup() takes (the core must wait for it before a new offer). */
  hangupDelayMs = 0;
  /** Set while a hangup is in progress. */
  hangingUp = false;

  constructor(
    readonly handle: { id: number; sessionId: number },
    readonly events: PeerEvents,
  ) {}

  async setRemoteDescription(jsep: ClientJsep): Promise<PluginJsep> {
    if (this.hangingUp) throw new Error('setRemoteDescription during hangup');
    if (!jsep.sdp.startsWith('v=0')) throw new InvalidSdpError('no v= line');
    if (jsep.type === 'answer') {
      if (!this.localOfferPending) throw new UnexpectedAnswerError('Unexpected ANSWER (did we offer?)');
      this.localOfferPending = false;
    }
    this.remote = jsep;
    return { type: jsep.type, sdp: fakeAnonymise(jsep.sdp) };
  }

  async setLocalDescription(jsep: PluginJsep): Promise<FullJsep> {
    if (this.failLocal) throw new Error('merge failed');
    if (jsep.type === 'offer') this.localOfferPending = true;
    this.local = jsep;
    const full: FullJsep = { type: jsep.type, sdp: `${jsep.sdp}${FAKE_MERGE_MARK}\r\n` };
    if (jsep.e2ee) full.e2ee = true;
    return full;
  }

  addRemoteCandidate(candidate: TrickleCandidate | null): void {
    this.candidates.push(candidate);
  }

  async hangup(): Promise<void> {
    this.hangups++;
    if (this.hangupDelayMs > 0) {
      this.hangingUp = true;
      await new Promise((resolve) => setTimeout(resolve, this.hangupDelayMs));
      this.hangingUp = false;
    }
    this.remote = undefined;
    this.local = undefined;
    this.localOfferPending = false;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  info(): JsonObject {
    return {
      flags: { 'got-offer': this.remote?.type === 'offer', 'got-answer': this.remote?.type === 'answer' },
      sdps: { profile: 'UDP/TLS/RTP/SAVPF', remote: this.remote?.sdp ?? null, local: this.local?.sdp ?? null },
      webrtc: { ice: { state: 'fake' }, dtls: {} },
    };
  }
}

/** A MediaRouter that accepts everything and records the calls. */
export function recordingRouter(calls: string[]): MediaRouter {
  const ok = (name: string) => (...args: unknown[]): boolean => {
    calls.push(`${name}(${args.map((arg) => (typeof arg === 'object' ? JSON.stringify(arg) : String(arg))).join(',')})`);
    return true;
  };
  return {
    configureMedium: ok('configureMedium'),
    addRecipient: ok('addRecipient'),
    removeRecipient: ok('removeRecipient'),
    setBitrate: ok('setBitrate'),
    setPliFreq: ok('setPliFreq'),
    setSubstream: ok('setSubstream'),
    setTemporalLayer: ok('setTemporalLayer'),
    sendPli: ok('sendPli'),
    startRecording: ok('startRecording'),
    stopRecording: ok('stopRecording'),
    relayRtp: ok('relayRtp'),
    relayRtcp: ok('relayRtcp'),
    relayData: ok('relayData'),
  };
}

export class FakeMediaPlane implements MediaPlane {
  readonly peers = new Map<number, FakePeer>();
  readonly routerCalls: string[] = [];
  readonly router: MediaRouter = recordingRouter(this.routerCalls);
  /** Data the core handed back for relaying (the plugin did not take it). */
  readonly relayedData: Array<{ handleId: number; message: DataMessage }> = [];
  closed = false;

  relayIncomingData(handleId: number, message: DataMessage): void {
    this.relayedData.push({ handleId, message });
  }

  createPeer(handle: { id: number; sessionId: number }, events: PeerEvents): Peer {
    const peer = new FakePeer(handle, events);
    this.peers.set(handle.id, peer);
    return peer;
  }

  peer(handleId: number): FakePeer {
    const peer = this.peers.get(handleId);
    if (!peer) throw new Error(`no fake peer for handle ${handleId}`);
    return peer;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
