// The bench's generated camera and microphone (bench/lib/generated-media.ts), on real
// libwebrtc sources: one feed per kind shared by every track, and hold() stops both feeds
// until its release (the echo scenario holds them while its sessions join at once).

import { expect } from 'chai';
import { SharedSources, countingSink } from '../bench/lib/generated-media';
import { loadOptional } from '../bench/lib/optional-module';
import type { Wrtc } from '../bench/lib/wrtc-types';

const lib = loadOptional<Wrtc>('@roamhq/wrtc', (reason) => `@roamhq/wrtc did not load: ${reason}`);

/** Frames and chunks the sinks on two tracks of each kind counted, read after `ms`. */
async function countFor(ms: number, counts: { video: number; audio: number }): Promise<{ video: number; audio: number }> {
  const before = { ...counts };
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { video: counts.video - before.video, audio: counts.audio - before.audio };
}

describe('luasfu-bench generated media (libwebrtc sources)', function () {
  this.timeout(20_000);

  it('feeds every track of a kind from one source, and nothing while held', async () => {
    const sources = new SharedSources(lib);
    const tracks = [sources.video(64, 48, 20), sources.video(64, 48, 20), sources.audio(), sources.audio()];
    const counts = { video: 0, audio: 0 };
    const sinks = tracks.map((t) => countingSink(lib, t.track, {
      videoFrame: () => counts.video++,
      audioChunk: () => counts.audio++,
    }));
    try {
      // 20 ms frames and 10 ms chunks, to both tracks of each kind.
      const running = await countFor(400, counts);
      expect(running.video, 'frames on two tracks in 400 ms').to.be.within(10, 60);
      expect(running.audio, 'chunks on two tracks in 400 ms').to.be.within(20, 120);

      const release = sources.hold();
      const second = sources.hold();
      await countFor(60, counts); // what was already on its way
      expect(await countFor(300, counts), 'held').to.deep.equal({ video: 0, audio: 0 });
      release();
      release(); // counted once: the second hold still stands
      expect(await countFor(300, counts), 'one of two holds released').to.deep.equal({ video: 0, audio: 0 });
      second();
      const resumed = await countFor(400, counts);
      expect(resumed.video, 'frames after the release').to.be.greaterThan(5);
      expect(resumed.audio, 'chunks after the release').to.be.greaterThan(10);
    } finally {
      for (const sink of sinks) sink?.stop();
      for (const t of tracks) t.release();
    }
  });
});
