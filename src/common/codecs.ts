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

/**
 * Janus 1.1.2's recorder codecs (janus_recorder_create_full), per medium: [name, MIME subtype,
 * clock rate]. g711 names no law (an older name the recorder still accepts): never RTP here;
 * nor are the data "codecs".
 */
const TABLE: Readonly<Record<Medium, readonly (readonly [string, string?, number?])[]>> = {
  video: [['vp8', 'VP8', 90000], ['vp9', 'VP9', 90000], ['h264', 'H264', 90000], ['av1', 'AV1', 90000], ['h265', 'H265', 90000]],
  audio: [
    ['opus', 'opus', 48000], ['multiopus', 'multiopus', 48000], ['g711'], ['pcmu', 'PCMU', 8000], ['pcma', 'PCMA', 8000],
    ['g722', 'G722', 8000], ['l16-48', 'L16', 48000], ['l16', 'L16', 16000],
  ],
  data: [['text'], ['binary']],
};

const CODECS: readonly CodecEntry[] = MEDIA.flatMap((medium) =>
  TABLE[medium].map(([name, subtype, clockRate]): CodecEntry =>
    subtype === undefined ? { name, medium } : { name, medium, mimeType: `${medium}/${subtype}`, clockRate },
  ),
);

const BY_NAME: ReadonlyMap<string, CodecEntry> = new Map(CODECS.map((c) => [c.name, c]));

/** A codec by its Janus name (any case), or undefined for a codec Janus does not know. */
export function codecNamed(name: string): CodecEntry | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** A medium name in any case, or undefined. */
export function mediumOf(value: string): Medium | undefined {
  const lower = value.toLowerCase();
  return (MEDIA as readonly string[]).includes(lower) ? (lower as Medium) : undefined;
}
