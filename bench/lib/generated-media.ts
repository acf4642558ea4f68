// What a libwebrtc peer sends and how it counts what it gets back: one definition for the
// bench's MediaPeer and the tests' NodePeer. The video is a moving pattern (so the encoder has
// something to code), the audio a 440 Hz tone in 10 ms chunks, as a camera and a microphone
// would hand them over.

import { once } from '../../src/common/once';
import type { Sink, Track, Wrtc } from './wrtc-types';

/** A generated source: its track, and the timer feeding it (stop both when done). */
export interface GeneratedSource {
  track: Track;
  timer: NodeJS.Timeout;
}

type VideoSource = InstanceType<Wrtc['nonstandard']['RTCVideoSource']>;
type AudioSource = InstanceType<Wrtc['nonstandard']['RTCAudioSource']>;

/**
 * Feeds `source` I420 frames of a moving pattern every `intervalMs` (width and height rounded
 * down to even, as I420 needs); none while `paused()` says so (a stalled camera: the encoder
 * gets nothing).
 */
function feedPattern(source: VideoSource, width: number, height: number, intervalMs: number, paused: () => boolean): NodeJS.Timeout {
  const w = width & ~1;
  const h = height & ~1;
  const frame = new Uint8Array((w * h * 3) / 2);
  let n = 0;
  return setInterval(() => {
    if (paused()) return;
    n++;
    for (let i = 0; i < w * h; i += 7) frame[i] = (i + n * 5) & 0xff;
    source.onFrame({ width: w, height: h, data: frame });
  }, intervalMs);
}

/** Feeds `source` a 440 Hz tone, mono 48 kHz, in 10 ms chunks; none while `paused()` says so. */
function feedTone(source: AudioSource, paused: () => boolean = () => false): NodeJS.Timeout {
  const samples = new Int16Array(480);
  let phase = 0;
  return setInterval(() => {
    if (paused()) return;
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((phase++ * 2 * Math.PI * 440) / 48000));
    source.onData({ samples, sampleRate: 48000, channelCount: 1 });
  }, 10);
}

/** A moving pattern on a source of its own (see feedPattern). */
export function patternVideo(lib: Wrtc, width: number, height: number, intervalMs: number, paused: () => boolean = () => false): GeneratedSource {
  const source = new lib.nonstandard.RTCVideoSource();
  return { track: source.createTrack(), timer: feedPattern(source, width, height, intervalMs, paused) };
}

/** A tone on a source of its own (see feedTone). */
export function toneAudio(lib: Wrtc): GeneratedSource {
  const source = new lib.nonstandard.RTCAudioSource();
  return { track: source.createTrack(), timer: feedTone(source) };
}

/** A track of a shared source; release() when the peer is done with it. */
export interface SharedTrack {
  track: Track;
  release(): void;
}

/**
 * Generated sources shared by the peers that send the same media, as one camera and one
 * microphone would be: each source is fed once per frame or chunk on this thread however many
 * peers send it, and every peer gets a track of its own (its own encoder). Fed per peer, ten
 * 640x480 peers kept the bench's event loop busy generating while their sessions joined.
 * hold() stops the feeding until its release: a frame handed to libwebrtc while the peers'
 * encoders are being set up blocked the event loop for 17-80 ms (RTCVideoSource.onFrame).
 */
export class SharedSources {
  private readonly feeds = new Map<string, { source: VideoSource | AudioSource; timer: NodeJS.Timeout; users: number }>();
  private holds = 0;
  private readonly held = (): boolean => this.holds > 0;

  constructor(private readonly lib: Wrtc) {}

  video(width: number, height: number, intervalMs: number): SharedTrack {
    return this.acquire(`video ${width}x${height} ${intervalMs}`, () => {
      const source = new this.lib.nonstandard.RTCVideoSource();
      return { source, timer: feedPattern(source, width, height, intervalMs, this.held) };
    });
  }

  audio(): SharedTrack {
    return this.acquire('audio', () => {
      const source = new this.lib.nonstandard.RTCAudioSource();
      return { source, timer: feedTone(source, this.held) };
    });
  }

  /** No frames or chunks from any source until the returned release is called (once counts). */
  hold(): () => void {
    this.holds++;
    return once(() => {
      this.holds--;
    });
  }

  private acquire(key: string, start: () => { source: VideoSource | AudioSource; timer: NodeJS.Timeout }): SharedTrack {
    let feed = this.feeds.get(key);
    if (!feed) {
      feed = { ...start(), users: 0 };
      this.feeds.set(key, feed);
    }
    feed.users++;
    const used = feed;
    const track = used.source.createTrack();
    return {
      track,
      release: once(() => {
        track.stop();
        if (--used.users > 0) return;
        clearInterval(used.timer);
        this.feeds.delete(key);
      }),
    };
  }
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
