// What a libwebrtc peer sends and how it counts what it gets back: one definition for the
// bench's MediaPeer and the tests' NodePeer. The video is a moving pattern (so the encoder has
// something to code), the audio a 440 Hz tone in 10 ms chunks, as a camera and a microphone
// would hand them over.

import type { Sink, Track, Wrtc } from './wrtc-types';

/** A generated source: its track, and the timer feeding it (stop both when done). */
export interface GeneratedSource {
  track: Track;
  timer: NodeJS.Timeout;
}

/**
 * I420 frames of a moving pattern every `intervalMs` (width and height rounded down to even,
 * as I420 needs); none while `paused()` says so (a stalled camera: the encoder gets nothing).
 */
export function patternVideo(lib: Wrtc, width: number, height: number, intervalMs: number, paused: () => boolean = () => false): GeneratedSource {
  const w = width & ~1;
  const h = height & ~1;
  const source = new lib.nonstandard.RTCVideoSource();
  const frame = new Uint8Array((w * h * 3) / 2);
  let n = 0;
  const timer = setInterval(() => {
    if (paused()) return;
    n++;
    for (let i = 0; i < w * h; i += 7) frame[i] = (i + n * 5) & 0xff;
    source.onFrame({ width: w, height: h, data: frame });
  }, intervalMs);
  return { track: source.createTrack(), timer };
}

/** A 440 Hz tone, mono 48 kHz, in 10 ms chunks. */
export function toneAudio(lib: Wrtc): GeneratedSource {
  const source = new lib.nonstandard.RTCAudioSource();
  const samples = new Int16Array(480);
  let phase = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((phase++ * 2 * Math.PI * 440) / 48000));
    source.onData({ samples, sampleRate: 48000, channelCount: 1 });
  }, 10);
  return { track: source.createTrack(), timer };
}

/** A sink on a received track that reports each decoded video frame or audio chunk. */
export function countingSink(
  lib: Wrtc,
  track: Track,
  on: { videoFrame(width: number, height: number): void; audioChunk(): void },
): Sink | undefined {
  if (track.kind === 'video') {
    const sink = new lib.nonstandard.RTCVideoSink(track);
    sink.onframe = ({ frame }) => on.videoFrame(frame.width, frame.height);
    return sink;
  }
  if (track.kind === 'audio') {
    const sink = new lib.nonstandard.RTCAudioSink(track);
    sink.ondata = () => on.audioChunk();
    return sink;
  }
  return undefined;
}
