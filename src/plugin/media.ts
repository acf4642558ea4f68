// What a plugin may ask of the media plane, per Janus handle id. This is the Lua/Duktape
// plugins' media contract (janus-contract §1, §3.2) expressed once, for any plugin.
// All methods return false when the handle is unknown or gone.

export type MediumKind = 'audio' | 'video' | 'data';
export type MediumDirection = 'in' | 'out';

/** One medium to record (janus-contract §1, startRecording). */
export interface RecordingRequest {
  type: MediumKind;
  /** Codec name as the script gave it, lower-case, without `/fmtp=`. */
  codec: string;
  fmtp?: string;
  folder?: string;
  /** Without extension; `.mjr` is appended. */
  filename?: string;
}

/** Where a tapped user's RTP goes: `video` false for audio. */
export type RtpListener = (video: boolean, packet: Uint8Array) => void;

export interface MediaRouter {
  configureMedium(handleId: number, medium: MediumKind, direction: MediumDirection, enabled: boolean): boolean;
  addRecipient(senderId: number, recipientId: number): boolean;
  removeRecipient(senderId: number, recipientId: number): boolean;
  /** REMB cap toward this user in bits per second; 0 = no cap. */
  setBitrate(handleId: number, bitrate: number): boolean;
  setPliFreq(handleId: number, seconds: number): boolean;
  setSubstream(handleId: number, substream: number): boolean;
  setTemporalLayer(handleId: number, layer: number): boolean;
  sendPli(handleId: number): boolean;
  startRecording(handleId: number, recordings: RecordingRequest[]): boolean;
  /**
   * Folders recordings may be written in (the default one first); startRecording refuses
   * anything else. Scripts check against them to answer -1 at once. Absent: no limit known.
   */
  readonly recordingRoots?: readonly string[];
  stopRecording(handleId: number, types: MediumKind[]): boolean;
  /**
   * The raw path (Janus's incomingRtp): the user's RTP goes to `listener` instead of the
   * built-in relay to its recipients (and its recordings still get it). undefined stops it.
   * Absent: the media plane has no raw path.
   */
  tapRtp?(handleId: number, listener: RtpListener | undefined): boolean;
  /** Sends a script's RTP (as a tapped user sent it: same SSRC and payload type) to this user. */
  relayRtp(handleId: number, video: boolean, packet: Uint8Array): boolean;
  relayRtcp(handleId: number, video: boolean, packet: Uint8Array): boolean;
  /** False (data dropped) until the handle's data channel is ready. */
  relayData(handleId: number, message: import('./plugin').DataMessage): boolean;
}
