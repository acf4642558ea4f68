// The contract between the Janus core and the media plane: one Peer per handle (its
// WebRTC PeerConnection), plus the MediaRouter that plugins drive. The core owns the
// handle lifecycle; the media plane owns transports, producers, consumers and recorders.

import type { JsonObject } from '../plugin/json';
import type { DataMessage, PluginJsep } from '../plugin/plugin';
import type { EventEmitter } from 'node:events';
import type { MediaRouter } from '../plugin/media';
import type { Readiness } from '../plugin/monitor';

/** A JSEP as a client sends it in a `message` (docs/contract.md §3.1). */
export interface ClientJsep {
  type: 'offer' | 'answer';
  sdp: string;
  trickle?: boolean;
  rid_order?: 'hml' | 'lmh';
  force_relay?: boolean;
  e2ee?: boolean;
}

/** A JSEP as the core sends it to the client. */
export interface FullJsep {
  type: 'offer' | 'answer';
  sdp: string;
  e2ee?: boolean;
}

/** A trickled candidate; null means end of candidates. */
export interface TrickleCandidate {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
}

/** Why a PeerConnection went down, as the `hangup` event's reason says it. */
export type HangupReason =
  | 'DTLS alert'
  | 'ICE failed'
  | 'Close PC'
  | 'Janus API'
  | 'Admin API'
  | 'DTLS timeout'
  /** The media process carrying the PeerConnection died (luasfu only; it is replaced). */
  | 'Media worker died';

/** One media socket, for the startup log line. */
export interface MediaSocketAddress {
  protocol: 'udp' | 'tcp';
  ip: string;
  announcedIp?: string;
  port: number;
}

/** What a peer reports to the core. The core turns these into plugin calls and client events. */
export interface PeerEvents {
  /** ICE and DTLS completed (the core calls setupMedia, then sends webrtcup). */
  connected(): void;
  /** The transport failed or the DTLS peer closed. */
  failed(reason: HangupReason): void;
  /** First packet on a medium, or media stopped (`media` event). */
  media(info: { mid: string; type: 'audio' | 'video'; receiving: boolean; substream?: number; seconds?: number }): void;
  slowLink(info: { mid: string; media: 'audio' | 'video'; uplink: boolean; lost: number }): void;
  /** A data channel message from the client. */
  data(message: DataMessage): void;
  dataReady(): void;
  substreamChanged(substream: number): void;
  temporalLayerChanged(layer: number): void;
}

export interface Peer {
  /**
   * A client's offer or answer. Returns the anonymised JSEP for the plugin. Throws
   * InvalidSdpError or UnexpectedAnswerError (answer without offer), InvalidStateError once closed.
   */
  setRemoteDescription(jsep: ClientJsep): Promise<PluginJsep>;
  /** A plugin's minimal offer or answer, merged with this peer's transport details. */
  setLocalDescription(jsep: PluginJsep): Promise<FullJsep>;
  addRemoteCandidate(candidate: TrickleCandidate | null): void;
  /** Tear the PeerConnection down; the peer may negotiate again later. */
  hangup(): Promise<void>;
  /** Release everything for good (detach). */
  close(): Promise<void>;
  /** Admin handle_info details (flags, sdps, webrtc state). */
  info(): JsonObject;
}

/** RTP counted since start in both directions (in = from clients, out = to clients). */
export interface RtpTotals {
  packetsIn: number;
  bytesIn: number;
  /** Packets from clients that never arrived. */
  packetsLostIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Packets to clients that they reported lost. */
  packetsLostOut: number;
}

export interface MediaMonitorEvents {
  /** A media worker died and is being replaced. */
  workerRestart: [pid: number];
}

/** What operations tooling (/ready, metrics) can learn from a media plane. */
export interface MediaMonitor {
  readiness(): Readiness;
  /** RTP totals since start, sampled from the media workers now (not per packet). */
  sampleRtp(): Promise<RtpTotals>;
  readonly events: EventEmitter<MediaMonitorEvents>;
}

export interface MediaPlane {
  createPeer(handle: { id: number; sessionId: number }, events: PeerEvents): Peer;
  readonly router: MediaRouter;
  /**
   * Data from this handle's client that the plugin did not take (no incoming-data hook):
   * relayed to the handle's recipients (docs/contract.md §3.2).
   */
  relayIncomingData(handleId: number, message: DataMessage): void;
  /** Where clients send media (for the startup log line); absent for planes without sockets. */
  addresses?(): MediaSocketAddress[];
  /** Whether ICE-TCP candidates are offered (`info`'s `ice-tcp`). */
  readonly iceTcp?: boolean;
  close(): Promise<void>;
  /** Optional: readiness, worker restarts and RTP totals for /ready and metrics. */
  readonly monitor?: MediaMonitor;
}
