// The one codec list: every codec luasfu names, by the name Janus gives it (startRecording's
// codec argument, the `.mjr` header's "c", a session's video_codec), with its medium and,
// where it travels over RTP, its MIME type and clock rate. The recorder, the script threads'
// argument checks, the routers' codecs (src/media/codecs.ts) and the SDP code read it here.

/** The media a script and a recording know (Janus's recorder types). */
export const MEDIA = ['audio', 'video', 'data'] as const;
export type Medium = (typeof MEDIA)[number];

export interface CodecEntry {
  /** Janus's name (record.c, janus_sdp_get_codec_name), lower-case. */
  readonly name: string;
  readonly medium: Medium;
  /** MIME type as RTP and mediasoup spell it; absent for codecs that never travel as RTP here. */
  readonly mimeType?: string;
  readonly clockRate?: number;
}

/** Janus 1.1.2's recorder codecs (janus_recorder_create_full), in its order. */
export const CODECS: readonly CodecEntry[] = [
  { name: 'vp8', medium: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  { name: 'vp9', medium: 'video', mimeType: 'video/VP9', clockRate: 90000 },
  { name: 'h264', medium: 'video', mimeType: 'video/H264', clockRate: 90000 },
  { name: 'av1', medium: 'video', mimeType: 'video/AV1', clockRate: 90000 },
  { name: 'h265', medium: 'video', mimeType: 'video/H265', clockRate: 90000 },
  { name: 'opus', medium: 'audio', mimeType: 'audio/opus', clockRate: 48000 },
  { name: 'multiopus', medium: 'audio', mimeType: 'audio/multiopus', clockRate: 48000 },
  // G.711 without naming the law (an older name Janus's recorder still accepts).
  { name: 'g711', medium: 'audio' },
  { name: 'pcmu', medium: 'audio', mimeType: 'audio/PCMU', clockRate: 8000 },
  { name: 'pcma', medium: 'audio', mimeType: 'audio/PCMA', clockRate: 8000 },
  { name: 'g722', medium: 'audio', mimeType: 'audio/G722', clockRate: 8000 },
  { name: 'l16-48', medium: 'audio', mimeType: 'audio/L16', clockRate: 48000 },
  { name: 'l16', medium: 'audio', mimeType: 'audio/L16', clockRate: 16000 },
  { name: 'text', medium: 'data' },
  { name: 'binary', medium: 'data' },
];

const BY_NAME: ReadonlyMap<string, CodecEntry> = new Map(CODECS.map((c) => [c.name, c]));

/** A codec by its Janus name (any case), or undefined for a codec Janus does not know. */
export function codecNamed(name: string): CodecEntry | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** The codec a MIME type and clock rate stand for (any case), or undefined. */
export function codecOfMimeType(mimeType: string, clockRate?: number): CodecEntry | undefined {
  const mime = mimeType.toLowerCase();
  return CODECS.find((c) => c.mimeType?.toLowerCase() === mime && (clockRate === undefined || c.clockRate === clockRate));
}

/** A medium name in any case, or undefined. */
export function mediumOf(value: string): Medium | undefined {
  const lower = value.toLowerCase();
  return (MEDIA as readonly string[]).includes(lower) ? (lower as Medium) : undefined;
}
