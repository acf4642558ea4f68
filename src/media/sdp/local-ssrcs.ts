// The SSRCs the server sends with on each m-line. They go into the SDP (a=ssrc, FID group)
// before any Consumer exists, so the media plane picks them first and then has each Consumer
// use them (docs/architecture.md: libwebrtc ignores unsignalled RTX).

import { randomInt } from 'node:crypto';

export interface LocalSsrcs {
  ssrc: number;
  /** RTX SSRC; only written to the SDP when RTX is negotiated on a video m-line. */
  rtxSsrc?: number;
}

export interface SsrcChoiceOptions {
  /** SSRCs that must not be used (the client's, other m-lines'). */
  avoid?: Iterable<number>;
  /** Keep these (renegotiation keeps the streams the client already knows). */
  previous?: Readonly<Record<string, LocalSsrcs>>;
  /** Source of random uint32 values; injectable for tests. */
  random?: () => number;
}

function defaultRandom(): number {
  return randomInt(1, 0xffffffff);
}

/**
 * One SSRC per audio/video m-line that is not rejected, plus an RTX SSRC for video.
 * Unique, non-zero, and distinct from `avoid`.
 */
export function chooseLocalSsrcs(
  media: readonly { mid: string; kind: string; rejected?: boolean }[],
  options: SsrcChoiceOptions = {},
): Record<string, LocalSsrcs> {
  const random = options.random ?? defaultRandom;
  const used = new Set<number>(options.avoid ?? []);
  const out: Record<string, LocalSsrcs> = {};
  const fresh = (): number => {
    for (let i = 0; i < 1000; i++) {
      const v = random() >>> 0;
      if (v !== 0 && !used.has(v)) {
        used.add(v);
        return v;
      }
    }
    throw new Error('chooseLocalSsrcs: random source keeps colliding');
  };
  for (const prev of Object.values(options.previous ?? {})) {
    used.add(prev.ssrc);
    if (prev.rtxSsrc !== undefined) used.add(prev.rtxSsrc);
  }
  for (const m of media) {
    if (m.rejected || (m.kind !== 'audio' && m.kind !== 'video')) continue;
    const prev = options.previous?.[m.mid];
    const ssrc = prev?.ssrc ?? fresh();
    if (m.kind === 'video') out[m.mid] = { ssrc, rtxSsrc: prev?.rtxSsrc ?? fresh() };
    else out[m.mid] = { ssrc };
  }
  return out;
}
