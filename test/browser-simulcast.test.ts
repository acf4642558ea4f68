// Simulcast with a real browser: headless Chromium (fake camera) runs the real janus.js
// (1.1.2, unmodified) echo test with `simulcast: true` on its VP8 video track, so janus.js
// asks for 1280x720 ('hires') and adds three rid encodings (h, m at 1/2, l at 1/4) by itself;
// the browser's SDP is never touched. Against our lua/echotest.lua and Janus's unmodified
// echotest.lua, with the real mediasoup media plane. Checks: the offer carried rid simulcast
// and the answer accepts it (a=simulcast:recv); the echoed video arrives at the highest
// layer's resolution by default; {substream:0} makes it drop to the low layer's resolution
// and a {echotest:"event", substream:0} event arrives; {substream:2} brings it back; and
// {temporal:0} lowers the echoed frame rate (with a {temporal:0} event), while by default
// all of Chrome's three VP8 temporal layers are echoed (Janus's default temporal target is 2).
//
// The layer sizes come from the browser's own outbound-rtp stats per rid, since Chrome may
// scale all layers down under CPU load; the received size is compared with those.

import { expect } from 'chai';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ScriptConfig } from '../src/config';
import { type PageMessage, type PageState, js, send, state } from './browser/echo-session';
import { pollPage, sleep } from './browser/harness';
import { useBrowserRig } from './browser/rig';
import { JANUS_LUA_DIR, ourScript, scriptConfig } from './lua-fixtures';

const OUR_ECHOTEST = ourScript('echotest.lua');
const JANUS_ECHOTEST = join(JANUS_LUA_DIR, 'echotest.lua');
const HANDLE = 'sim';

interface LayerStats {
  rid: string | null;
  width: number;
  height: number;
  framesEncoded: number;
  fps: number;
}

interface SimulcastStats {
  /** outbound-rtp video, one per rid */
  out: LayerStats[];
  /** inbound-rtp video (the echo) */
  in: { width: number; height: number; framesDecoded: number; fps: number; timestamp: number } | null;
  /** the remote <video> element */
  videoWidth: number;
  videoHeight: number;
  localSdp: string;
}

/** Per-rid outbound and inbound video stats straight from janus.js's PeerConnection. */
function simulcastStats(page: Page): Promise<SimulcastStats> {
  return page.evaluate(`(async () => {
    const pc = lsfu.handles[${js(HANDLE)}].handle.webrtcStuff.pc;
    const result = { out: [], in: null, videoWidth: 0, videoHeight: 0, localSdp: pc.localDescription ? pc.localDescription.sdp : '' };
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        result.out.push({ rid: s.rid || null, width: s.frameWidth || 0, height: s.frameHeight || 0, framesEncoded: s.framesEncoded || 0, fps: s.framesPerSecond || 0 });
      } else if (s.type === 'inbound-rtp' && s.kind === 'video') {
        result.in = { width: s.frameWidth || 0, height: s.frameHeight || 0, framesDecoded: s.framesDecoded || 0, fps: s.framesPerSecond || 0, timestamp: s.timestamp };
      }
    });
    const v = lsfu.videos(${js(HANDLE)}).find((x) => x.videoWidth > 0);
    if (v) { result.videoWidth = v.videoWidth; result.videoHeight = v.videoHeight; }
    result.out.sort((a, b) => a.width - b.width);
    return result;
  })()`) as Promise<SimulcastStats>;
}

/** Widths of the layers the browser is encoding (distinct, ascending). */
function layerWidths(s: SimulcastStats): number[] {
  return [...new Set(s.out.filter((l) => l.width > 0).map((l) => l.width))].sort((a, b) => a - b);
}

const summary = (s: SimulcastStats): string =>
  `sent ${s.out.map((l) => `${l.rid}:${l.width}x${l.height}@${l.fps}`).join(' ')}; received ${s.in ? `${s.in.width}x${s.in.height}@${s.in.fps}` : 'none'} (element ${s.videoWidth}x${s.videoHeight})`;

/** Polls until `done`; on timeout the error shows the last stats. */
async function pollStats(page: Page, done: (s: SimulcastStats) => boolean, ms: number, what: string): Promise<SimulcastStats> {
  const deadline = Date.now() + ms;
  let last: SimulcastStats | undefined;
  while (Date.now() < deadline) {
    last = await simulcastStats(page);
    if (done(last)) return last;
    await sleep(500);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${last ? summary(last) : 'none'}`);
}

/** Frames per second over a window: decoded (the echo) and encoded on the largest layer sent. */
async function frameRates(page: Page, windowMs: number): Promise<{ decoded: number; sentTop: number }> {
  const a = await simulcastStats(page);
  await sleep(windowMs);
  const b = await simulcastStats(page);
  if (!a.in || !b.in) return { decoded: 0, sentTop: 0 };
  const seconds = (b.in.timestamp - a.in.timestamp) / 1000;
  const top = (s: SimulcastStats): LayerStats | undefined => s.out.find((l) => l.rid === 'h');
  return {
    decoded: (b.in.framesDecoded - a.in.framesDecoded) / seconds,
    sentTop: ((top(b)?.framesEncoded ?? 0) - (top(a)?.framesEncoded ?? 0)) / seconds,
  };
}

/** Waits for an event pushed after message number `from` that includes `fields`. */
async function expectEvent(page: Page, from: number, fields: Record<string, unknown>, ms: number): Promise<PageMessage> {
  const matches = (m: PageMessage): boolean => Object.entries(fields).every(([k, v]) => m.msg[k] === v);
  const st = await pollPage<PageState>(page, `lsfu.state(${js(HANDLE)})`, (s) => s.messages.slice(from).some(matches), ms,
    `event ${JSON.stringify(fields)}`);
  return st.messages.slice(from).find(matches)!;
}

function simulcastSuite(title: string, script: () => ScriptConfig): void {
  describe(title, function () {
    this.timeout(120000);
    const rig = useBrowserRig({
      script,
      mediaWorkers: 1,
      onFailure: async () => {
        const st = await state(page, HANDLE).catch(() => null);
        if (st) console.log(`      messages: ${JSON.stringify(st.messages.map((m) => m.msg))}`);
      },
    });
    let page: Page;
    before(function () {
      [page] = rig.pages;
    });

    it('janus.js offers rid simulcast (simulcast: true), the answer accepts it, the echo arrives at the top layer', async () => {
      await page.evaluate(`lsfu.connect(${js(rig.ts.urls.ws)})`);
      await page.evaluate(`lsfu.attach(${js(HANDLE)}, 'janus.plugin.echolua')`);
      await page.evaluate(`(async () => {
        const jsep = await lsfu.offer(${js(HANDLE)}, [
          { type: 'audio', capture: true, recv: true },
          { type: 'video', capture: true, recv: true, simulcast: true },
        ]);
        await lsfu.send(${js(HANDLE)}, { audio: true, video: true }, jsep);
        return true;
      })()`);
      const st = await pollPage<PageState>(page, `lsfu.state(${js(HANDLE)})`, (s) => s.messages.some((m) => m.jsep !== null), 15000, 'the echotest answer');
      const event = st.messages.find((m) => m.jsep !== null)!;
      expect(event.msg).to.deep.include({ echotest: 'event', result: 'ok' });
      expect(event.jsep!.type).to.equal('answer');

      // The offer janus.js made (the local description) has the three rids and simulcast:send.
      const offerSdp = (await page.evaluate(`lsfu.handles[${js(HANDLE)}].handle.webrtcStuff.pc.localDescription.sdp`)) as string;
      expect(offerSdp).to.match(/^a=simulcast:send h;m;l\r?$/m);
      for (const rid of ['h', 'm', 'l']) expect(offerSdp).to.match(new RegExp(`^a=rid:${rid} send\\r?$`, 'm'));
      // The answer accepts them: a=rid:<x> recv and a=simulcast:recv on the video m-line, VP8.
      const answer = event.jsep!.sdp;
      const videoSection = answer.slice(answer.search(/^m=video /m)).split(/^(?=m=)/m)[0];
      expect(videoSection).to.match(/^a=simulcast:recv h;m;l\r?$/m);
      for (const rid of ['h', 'm', 'l']) expect(videoSection).to.match(new RegExp(`^a=rid:${rid} recv\\r?$`, 'm'));
      expect(videoSection).to.match(/^a=rtpmap:\d+ VP8\/90000\r?$/m);
      expect(videoSection).to.match(/^a=extmap:\d+ urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r?$/m);

      await page.evaluate(`lsfu.remoteJsep(${js(HANDLE)}, ${js(event.jsep)})`);
      await pollPage<PageState>(page, `lsfu.state(${js(HANDLE)})`, (s) => s.webrtc.some((w) => w.on), 15000, 'webrtcup');

      // The browser sends (at least) two layers of distinct sizes, and the echo settles on
      // the largest one (the default target is substream 2; mediasoup's BWE ramps up first).
      const top = await pollStats(page, (s) => {
        const widths = layerWidths(s);
        return widths.length >= 2 && s.in !== null && s.in.width === widths[widths.length - 1] && s.videoWidth === s.in.width;
      }, 45000, 'the echoed video at the top layer');
      console.log(`      default: ${summary(top)}`);
      const widths = layerWidths(top);
      expect(top.in!.width).to.equal(widths[widths.length - 1]);
      expect(top.in!.width).to.be.greaterThan(widths[0] * 1.5);
      // The fake camera got janus.js's 'hires' 1280x720 (Chrome may scale it under CPU load).
      expect(top.out.some((l) => l.width >= 640)).to.equal(true);
      // A substream event for the layer being delivered arrived (the scripts push them from substreamChanged).
      const substreamEvents = (await state(page, HANDLE)).messages.filter((m) => m.msg.echotest === 'event' && typeof m.msg.substream === 'number');
      expect(substreamEvents.length, 'substream events').to.be.greaterThan(0);
      expect(substreamEvents[substreamEvents.length - 1].msg).to.deep.include({ echotest: 'event', videocodec: 'vp8' });
    });

    it('{substream:0} drops the echoed video to the low layer (and an event says so); {substream:2} brings it back', async () => {
      let from = (await state(page, HANDLE)).messages.length;
      expect(await send(page, HANDLE, { substream: 0 })).to.deep.equal({ echotest: 'response', result: 'ok' });
      const low = await pollStats(page, (s) => {
        const widths = layerWidths(s);
        return widths.length >= 2 && s.in !== null && s.in.width === widths[0] && s.videoWidth === widths[0];
      }, 20000, 'the echoed video at the low layer');
      console.log(`      {substream:0}: ${summary(low)}`);
      const lowWidths = layerWidths(low);
      expect(low.in!.width).to.be.lessThan(lowWidths[lowWidths.length - 1] / 1.5);
      expect((await expectEvent(page, from, { echotest: 'event', substream: 0 }, 10000)).msg).to.deep.include({ videocodec: 'vp8' });

      from = (await state(page, HANDLE)).messages.length;
      expect(await send(page, HANDLE, { substream: 2 })).to.deep.equal({ echotest: 'response', result: 'ok' });
      const high = await pollStats(page, (s) => {
        const widths = layerWidths(s);
        return widths.length >= 2 && s.in !== null && s.in.width === widths[widths.length - 1] && s.videoWidth === s.in.width;
      }, 30000, 'the echoed video back at the top layer');
      console.log(`      {substream:2}: ${summary(high)}`);
      expect(high.in!.width).to.be.greaterThan(low.in!.width * 1.5);
      await expectEvent(page, from, { echotest: 'event', substream: 2 }, 10000);
    });

    it('all temporal layers are echoed by default; {temporal:0} lowers the echoed frame rate (and an event says so); {temporal:2} restores it', async () => {
      // Chrome's VP8 simulcast has 3 temporal layers; the default target (temporal 2, as in
      // Janus) passes them all, so the echo decodes about as many frames as the top layer encodes.
      // Right after a layer switch mediasoup restarts from temporal layer 0 and climbs as its
      // bandwidth estimate allows: take the first of a few windows where it has settled.
      let before = { decoded: 0, sentTop: 0 };
      const windows: string[] = [];
      for (let i = 0; i < 6 && !(before.sentTop > 5 && before.decoded > before.sentTop * 0.6); i++) {
        before = await frameRates(page, 2500);
        windows.push(`${before.decoded.toFixed(1)}/${before.sentTop.toFixed(1)}`);
      }
      console.log(`      default: echo decoded / top layer encoded fps: ${windows.join(', ')}`);
      expect(before.sentTop).to.be.greaterThan(5);
      expect(before.decoded, 'echo frame rate at the default temporal target vs. the top layer\'s').to.be.greaterThan(before.sentTop * 0.6);

      let from = (await state(page, HANDLE)).messages.length;
      expect(await send(page, HANDLE, { temporal: 0 })).to.deep.equal({ echotest: 'response', result: 'ok' });
      await expectEvent(page, from, { echotest: 'event', temporal: 0 }, 10000);
      await sleep(1000);
      const after = await frameRates(page, 3000);
      console.log(`      {temporal:0}: top layer encoded ${after.sentTop.toFixed(1)} fps, echo decoded ${after.decoded.toFixed(1)} fps`);
      expect(after.decoded).to.be.lessThan(before.decoded * 0.6);
      expect(after.decoded, 'the base temporal layer still flows').to.be.greaterThan(1);

      from = (await state(page, HANDLE)).messages.length;
      expect(await send(page, HANDLE, { temporal: 2 })).to.deep.equal({ echotest: 'response', result: 'ok' });
      await expectEvent(page, from, { echotest: 'event', temporal: 2 }, 10000);
      await sleep(1000);
      const restored = await frameRates(page, 3000);
      console.log(`      {temporal:2}: top layer encoded ${restored.sentTop.toFixed(1)} fps, echo decoded ${restored.decoded.toFixed(1)} fps`);
      expect(restored.decoded).to.be.greaterThan(after.decoded * 1.5);
    });

    it('hangs up cleanly', async () => {
      await page.evaluate(`lsfu.hangup(${js(HANDLE)})`);
      await pollPage<{ cleanups: number }>(page, `lsfu.state(${js(HANDLE)})`, (s) => s.cleanups > 0, 10000, 'oncleanup');
    });
  });
}

describe('browser: janus.js simulcast echo test in headless Chromium', function () {
  simulcastSuite('with our lua/echotest.lua',
    () => scriptConfig(OUR_ECHOTEST));
  simulcastSuite("with Janus's unmodified echotest.lua",
    () => scriptConfig(JANUS_ECHOTEST, { modulesPath: JANUS_LUA_DIR }));
});
