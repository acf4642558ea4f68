// The few @roamhq/wrtc (libwebrtc in Node) types luasfu's peers use: the package's own typings
// need the DOM library. One declaration for the bench's peers and the tests' peers.

export interface Track {
  kind: string;
  stop(): void;
}
export interface Transceiver {
  receiver: { track: Track };
}
export interface DataChannel {
  label: string;
  readyState: string;
  send(data: string): void;
  close(): void;
  onmessage: ((event: { data: string | ArrayBuffer }) => void) | null;
  onopen: (() => void) | null;
}
export interface Description {
  type: 'offer' | 'answer';
  sdp: string;
}
export interface StatsReport {
  forEach(callback: (stat: Record<string, unknown>) => void): void;
}
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}
export interface PeerConnection {
  addTrack(track: Track): unknown;
  addTransceiver(trackOrKind: Track | string, init?: { direction: string }): unknown;
  createDataChannel(label: string): DataChannel;
  createOffer(options?: { iceRestart?: boolean }): Promise<Description>;
  createAnswer(): Promise<Description>;
  setLocalDescription(description: Description): Promise<void>;
  setRemoteDescription(description: Description): Promise<void>;
  getTransceivers(): Transceiver[];
  getStats(): Promise<StatsReport>;
  close(): void;
  connectionState: string;
  iceConnectionState: string;
  oniceconnectionstatechange: (() => void) | null;
  onconnectionstatechange: (() => void) | null;
  ondatachannel: ((event: { channel: DataChannel }) => void) | null;
  ontrack: ((event: { track: Track }) => void) | null;
  onicecandidate: ((event: { candidate: IceCandidate | null }) => void) | null;
}
export interface Sink {
  stop(): void;
}
export interface Wrtc {
  RTCPeerConnection: new (config?: object) => PeerConnection;
  nonstandard: {
    RTCVideoSource: new () => { createTrack(): Track; onFrame(frame: { width: number; height: number; data: Uint8Array }): void };
    RTCAudioSource: new () => { createTrack(): Track; onData(data: { samples: Int16Array; sampleRate: number; channelCount?: number }): void };
    RTCVideoSink: new (track: Track) => Sink & { onframe: ((event: { frame: { width: number; height: number } }) => void) | null };
    RTCAudioSink: new (track: Track) => Sink & { ondata: ((data: { samples: Int16Array }) => void) | null };
  };
}
