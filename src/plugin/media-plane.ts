// The contract between the Janus core and a media plane, beside the plugin contract: one Peer
// per handle (its WebRTC PeerConnection), plus the MediaRouter that plugins drive. The core
// depends on these interfaces only; src/media (mediasoup) implements them, and an embedding
// application may bring its own. The core owns the handle lifecycle; the media plane owns
// transports, producers, consumers and recorders. Failures a client should see are thrown as
// the named errors of ./media-errors (the core turns them into Janus codes).

import type { EventEmitter } from 'node:events';
import type { JsonObject } from './json';
import type { MediaRouter } from './media';
import type { Readiness } from './monitor';
import type { DataMessage, PluginJsep } from './plugin';

/** A JSEP as a client sends it in a `message` (docs/contract.md §3.1). */
export interface ClientJsep {
  /** Whether the client offers or answers a plugin's offer. */
  type: 'offer' | 'answer';
  /** The client's SDP, as sent. */
  sdp: string;
  /** false when the client will not trickle (its candidates are in the SDP). */
  trickle?: boolean;
  /** The order the client lists its simulcast rids in: high to low (default) or low to high. */
  rid_order?: 'hml' | 'lmh';
  /** The client asks for relayed candidates only (validated, otherwise unused: the media plane is ICE-lite). */
  force_relay?: boolean;
  /** The client says its media is end-to-end encrypted (passed on to the plugin's JSEP). */
  e2ee?: boolean;
}

/** A JSEP as the core sends it to the client. */
export interface FullJsep {
  /** The plugin's offer or answer. */
  type: 'offer' | 'answer';
  /** The plugin's SDP merged with this peer's transport (ICE, DTLS, candidates, SSRCs). */
  sdp: string;
  /** Repeated from the plugin's JSEP when it said the media is end-to-end encrypted. */
  e2ee?: boolean;
}

/** A trickled candidate; null means end of candidates. */
export interface TrickleCandidate {
  /** The `candidate:` attribute, as the client sent it. */
  candidate: string;
  /** The m-line it belongs to, by mid. */
  sdpMid?: string;
  /** The m-line it belongs to, by index. */
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
  | 'Media worker died'
  /** The media process refused what an answer already sent had negotiated (luasfu only). */
  | 'Media setup failed';

/** One media socket, for the startup log line. */
export interface MediaSocketAddress {
  /** Transport protocol of the socket. */
  protocol: 'udp' | 'tcp';
  /** Address the socket is bound to. */
  ip: string;
  /** Address given to clients in candidates, when it differs from `ip`. */
  announcedIp?: string;
  /** Port the socket is bound to. */
  port: number;
}

/** What a peer reports to the core. The core turns these into plugin calls and client events. */
export interface PeerEvents {
  /**
   * ICE connected (before DTLS): the event handlers' `ice: connected`. A plane that does not
   * report it on its own gets it emitted with `connected`.
   */
  iceConnected?(): void;
  /** ICE and DTLS completed (the core calls setupMedia, then sends webrtcup). */
  connected(): void;
  /** The transport failed or the DTLS peer closed. */
  failed(reason: HangupReason): void;
  /** First packet on a medium, or media stopped (`media` event). */
  media(info: { mid: string; type: 'audio' | 'video'; receiving: boolean; substream?: number; seconds?: number }): void;
  /** Loss above the threshold on one medium (`slowlink` event, then the plugin's slowLink). */
  slowLink(info: { mid: string; media: 'audio' | 'video'; uplink: boolean; lost: number }): void;
  /** A data channel message from the client. */
  data(message: DataMessage): void;
  /** The data channel is open (the plugin's dataReady). */
  dataReady(): void;
  /** The simulcast substream this handle receives changed (the plugin's substreamChanged). */
  substreamChanged(substream: number): void;
  /** The temporal layer this handle receives changed (the plugin's temporalLayerChanged). */
  temporalLayerChanged(layer: number): void;
}

/** One handle's PeerConnection, as the core drives it. */
export interface Peer {
  /**
   * A client's offer or answer. Returns the anonymised JSEP for the plugin. Throws
   * InvalidSdpError, UnexpectedAnswerError (answer without offer), InvalidStateError once closed.
   */
  setRemoteDescription(jsep: ClientJsep): Promise<PluginJsep>;
  /**
   * A plugin's minimal offer or answer, merged with this peer's transport details. Throws
   * UnexpectedAnswerError (answer with no client offer), InvalidStateError once closed.
   */
  setLocalDescription(jsep: PluginJsep): Promise<FullJsep>;
  /** A trickled candidate from the client (null: end of candidates). Never throws. */
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
  /** Packets received from clients. */
  packetsIn: number;
  /** Bytes received from clients. */
  bytesIn: number;
  /** Packets from clients that never arrived. */
  packetsLostIn: number;
  /** Packets sent to clients. */
  packetsOut: number;
  /** Bytes sent to clients. */
  bytesOut: number;
  /** Packets to clients that they reported lost. */
  packetsLostOut: number;
}

/** What a MediaMonitor emits. */
export interface MediaMonitorEvents {
  /** A media worker died and is being replaced. */
  workerRestart: [pid: number];
}

/** What operations tooling (/ready, metrics) can learn from a media plane. */
export interface MediaMonitor {
  /** Whether the media plane can take PeerConnections now (/ready), and why not. */
  readiness(): Readiness;
  /** RTP totals since start, sampled from the media workers now (not per packet). */
  sampleRtp(): Promise<RtpTotals>;
  /** Worker restarts, for logs and metrics. */
  readonly events: EventEmitter<MediaMonitorEvents>;
}

/** The media plane the core runs handles on. */
export interface MediaPlane {
  /** A Peer for a new handle; nothing is allocated before its first negotiation. */
  createPeer(handle: { id: number; sessionId: number }, events: PeerEvents): Peer;
  /**
   * Media routing for every handle. The core never gives it to a plugin as it is: each plugin
   * gets a view that refuses handles attached to other plugins.
   */
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
  /** Stop everything (server shutdown, after every handle is gone). */
  close(): Promise<void>;
  /** Optional: readiness, worker restarts and RTP totals for /ready and metrics. */
  readonly monitor?: MediaMonitor;
}
