// Acceptance with a real browser: headless Chromium (Debian's /usr/bin/chromium, fake camera
// and microphone) runs the real janus.js (Debian libjs-janus-gateway 1.1.2, unmodified, with
// Debian's webrtc-adapter) against luasfu over WebSocket, with the real mediasoup media
// plane, and an echo test script: our lua/echotest.lua and Janus's own unmodified
// echotest.lua. The browser's SDP is never touched. Checks: the echoed video plays, echoed
// audio arrives, data channel text comes back with the script's prefix, {video:false} stops
// the echoed video, and {bitrate:128000} makes the browser's encoder slow down (REMB).

import { expect } from 'chai';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ScriptConfig } from '../src/config';
import {
  expectAudioArriving, expectVideoPlaying, js, outboundVideoBitrate, send, startEchoSession, state, stats,
} from './browser/echo-session';
import { pollPage, sleep } from './browser/harness';
import { useBrowserRig } from './browser/rig';
import { JANUS_LUA_DIR, ourScript, scriptConfig } from './lua-fixtures';

const OUR_ECHOTEST = ourScript('echotest.lua');
const JANUS_ECHOTEST = join(JANUS_LUA_DIR, 'echotest.lua');

function echotestSuite(title: string, script: () => ScriptConfig, dataPrefix: string): void {
  describe(title, function () {
    this.timeout(120000);
    const rig = useBrowserRig({ script, mediaWorkers: 2 });
    let page: Page;
    before(function () {
      [page] = rig.pages;
    });

    it('janus.js echo session: echoed video plays, echoed audio arrives, data comes back with the prefix', async () => {
      const event = await startEchoSession(page, rig.ts.urls.ws, 'echo');
      expect(event.msg).to.deep.include({ echotest: 'event', result: 'ok' });
      expect(event.jsep!.sdp).to.match(/^m=video /m);
      expect(event.jsep!.sdp).to.match(/^m=audio /m);
      expect(event.jsep!.sdp).to.match(/^m=application /m);

      const video = await expectVideoPlaying(page, 'echo');
      // The fake camera's default capture is 640x480; under CPU load Chrome may scale it down.
      expect(video.videoWidth).to.be.within(160, 640);
      await expectAudioArriving(page, 'echo');

      await pollPage<{ dataOpen: unknown[] }>(page, `lsfu.state('echo')`, (s) => s.dataOpen.length > 0, 15000, 'ondataopen');
      await page.evaluate(`lsfu.sendData('echo', ${js('hello from chromium')})`);
      const st = await pollPage<{ data: Array<{ data: string }> }>(page, `lsfu.state('echo')`, (s) => s.data.length > 0, 10000, 'echoed data');
      expect(st.data[0].data).to.equal(`${dataPrefix}hello from chromium`);
    });

    it('{video:false} stops the echoed video (framesDecoded stops), audio keeps coming', async () => {
      const reply = await send(page, 'echo', { video: false });
      expect(reply).to.deep.equal({ echotest: 'response', result: 'ok' });
      await sleep(1000);
      const a = await stats(page, 'echo');
      await sleep(2000);
      const b = await stats(page, 'echo');
      expect(b.framesDecoded - a.framesDecoded, 'frames decoded over 2 s after {video:false}').to.be.lessThan(3);
      expect(b.audioPacketsReceived - a.audioPacketsReceived, 'audio packets over 2 s').to.be.greaterThan(30);

      // And back on: decoding resumes (the script asks for a keyframe).
      expect(await send(page, 'echo', { video: true })).to.deep.equal({ echotest: 'response', result: 'ok' });
      const c = await stats(page, 'echo');
      await pollPage<{ framesDecoded: number }>(page, `lsfu.stats('echo')`, (s) => s.framesDecoded > c.framesDecoded + 10, 10000, 'decoding to resume after {video:true}');
    });

    it('{bitrate:128000} makes the browser send less video (REMB cap), measured from getStats', async () => {
      // Before: the fake camera at its default 640x480, uncapped, is well above 128 kbps once ramped up.
      let before = 0;
      const windows: number[] = [];
      for (let i = 0; i < 5 && before < 250_000; i++) windows.push(before = await outboundVideoBitrate(page, 'echo', 3000));
      if (before < 250_000) console.log(`      outbound video windows (bit/s): ${windows.map(Math.round).join(', ')}`);
      expect(before, 'outbound video bitrate before the cap').to.be.greaterThan(250_000);
      expect(await send(page, 'echo', { bitrate: 128000 })).to.deep.equal({ echotest: 'response', result: 'ok' });
      // The browser adapts within a few seconds; take the first window that is under the
      // cap plus tolerance (payload bytes only; REMB counts the whole stream).
      let after = Infinity;
      const afterWindows: number[] = [];
      for (let i = 0; i < 5 && after > 150_000; i++) {
        await sleep(500);
        afterWindows.push(after = await outboundVideoBitrate(page, 'echo', 3000));
      }
      console.log(`      outbound video: ${(before / 1000).toFixed(0)} kbps before, ${afterWindows.map((w) => (w / 1000).toFixed(0)).join(', ')} kbps after {bitrate:128000}`);
      expect(after, 'outbound video bitrate after {bitrate:128000}').to.be.lessThan(150_000);
      expect(after).to.be.lessThan(before / 2);
    });

    it('hangs up cleanly: janus.js sees the PeerConnection go down', async () => {
      await page.evaluate(`lsfu.hangup('echo')`);
      await pollPage<{ cleanups: number }>(page, `lsfu.state('echo')`, (s) => s.cleanups > 0, 10000, 'oncleanup');
      const st = await state(page, 'echo');
      expect(st.webrtc.some((w) => w.on)).to.equal(true);
    });
  });
}

describe('browser: janus.js echo test in headless Chromium', function () {
  echotestSuite('with our lua/echotest.lua',
    () => scriptConfig(OUR_ECHOTEST),
    '[luasfu echotest] ');
  echotestSuite("with Janus's unmodified echotest.lua",
    () => scriptConfig(JANUS_ECHOTEST, { modulesPath: JANUS_LUA_DIR }),
    '[echotest.lua] --> ');
});
