// What a plugin may ask of the media plane, per Janus handle id. This is the Lua/Duktape
// plugins' media contract (docs/contract.md §1, §3.2) expressed once, for any plugin.
// All methods return false when the handle is unknown or gone.

export type MediumKind = 'audio' | 'video' | 'data';
export type MediumDirection = 'in' | 'out';

/** One medium to record (docs/contract.md §1, startRecording). */
export interface RecordingRequest {
  type: MediumKind;
  /** Codec name as the script gave it, lower-case, without `/fmtp=`. */
  codec: string;
  fmtp?: string;
  folder?: string;
  /** Without extension; `.mjr` is appended. */
  filename?: string;
}

/** Where a tapped user's RTP (or RTCP) goes: `video` false for audio. */
export type RtpListener = (video: boolean, packet: Uint8Array) => void;

/**
 * Media routing a plugin drives, keyed by Janus handle id: the per-session media state of
 * Janus's Lua/Duktape plugins (flags, sender and recipients, caps, simulcast targets,
 * recorders). Every method returns false when the handle is unknown or gone, and true once
 * the request is accepted (the media work itself may finish later).
 */
export interface MediaRouter {
  /**
   * Sets one of the handle's six media flags. `out`: what this handle sends may be relayed to
   * its recipients (and, for audio/video, recorded); `in`: media relayed from its sender may
   * reach it. All flags start false and are cleared by every hangup.
   */
  configureMedium(handleId: number, medium: MediumKind, direction: MediumDirection, enabled: boolean): boolean;
  /** Relays `senderId`'s media to `recipientId` (a recipient has one sender; the last call wins; self is an echo). */
  addRecipient(senderId: number, recipientId: number): boolean;
  /** Unlinks the pair if linked (true even when it was not). */
  removeRecipient(senderId: number, recipientId: number): boolean;
  /** REMB cap toward this user in bits per second; 0 = no cap. */
  setBitrate(handleId: number, bitrate: number): boolean;
  /** Requests a keyframe from this user every `seconds` (0 stops it). */
  setPliFreq(handleId: number, seconds: number): boolean;
  /** Simulcast substream target of this user as a receiver; only 0..2 is applied. */
  setSubstream(handleId: number, substream: number): boolean;
  /** Temporal layer target of this user as a receiver; only 0..2 is applied. */
  setTemporalLayer(handleId: number, layer: number): boolean;
  /** Asks this user's browser for a keyframe now. */
  sendPli(handleId: number): boolean;
  /**
   * Starts `.mjr` recorders for the given media, all or nothing; media already being recorded
   * are skipped. Recorders survive hangups. A video recording asks for a keyframe.
   */
  startRecording(handleId: number, recordings: RecordingRequest[]): boolean;
  /**
   * Folders recordings may be written in (the default one first); startRecording refuses
   * anything else. Scripts check against them to answer -1 at once. Absent: no limit known.
   */
  readonly recordingRoots?: readonly string[];
  /** Closes the recorders of these media, if any. */
  stopRecording(handleId: number, types: MediumKind[]): boolean;
  /**
   * The raw path (Janus's incomingRtp): the user's RTP goes to `listener` instead of the
   * built-in relay to its recipients (and its recordings still get it). undefined stops it.
   * Absent: the media plane has no raw path.
   */
  tapRtp?(handleId: number, listener: RtpListener | undefined): boolean;
  /**
   * Janus's incomingRtcp: each RTCP compound packet the user's PeerConnection sends goes to
   * `listener` (as well as to the media plane's own handling), `video` telling the medium whose
   * SSRC it names; undefined stops it. Absent: the media plane delivers no RTCP.
   */
  tapRtcp?(handleId: number, listener: RtpListener | undefined): boolean;
  /** Sends a script's RTP (as a tapped user sent it: same SSRC and payload type) to this user. */
  relayRtp(handleId: number, video: boolean, packet: Uint8Array): boolean;
  /**
   * Sends a script's RTCP (compound or not) to this user's PeerConnection on the `video` or
   * audio medium, as Janus does: what the server makes itself (SR, RR, SDES, NACK,
   * transport-cc, XR) is stripped, sender and media SSRCs become the medium's.
   */
  relayRtcp(handleId: number, video: boolean, packet: Uint8Array): boolean;
  /** Sends a data channel message to this user; false (data dropped) until its data channel is ready. */
  relayData(handleId: number, message: import('./plugin').DataMessage): boolean;
}
