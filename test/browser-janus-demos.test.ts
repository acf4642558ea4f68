// Janus's own VideoRoom demo pages (Debian janus-demos 1.1.2: videoroomtest.html and the
// multistream mvideoroomtest.html, unmodified, with the jQuery/Bootstrap/janus.js they load
// from Debian's packages; only settings.js is ours) in two headless Chromium pages (fake camera
// and microphone) against luasfu running our lua/videoroom.lua with its defaults: package
// janus.plugin.videoroom and room 1234 created at startup, exactly what the pages expect.
// Each page clicks Start, joins with a name and publishes; each must then play the other's
// video; when one page stops, the other removes its feed.

import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { silentLogger } from '../src/log';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { JANUS_DEMOS_DIR, startDemoServer } from './browser/demo-server';
import { type Browser, type PageServer, launchBrowser, missingBrowserParts, pollPage } from './browser/harness';
import { ourScript, scriptConfig } from './lua-fixtures';
import { startMediaTestServer } from './support/media-server';
import type { TestServer } from './support/test-server';

interface RemoteVideo {
  width: number;
  time: number;
}

/** The first remote <video> in slot 1 (#videoremote1) as the page shows it, or null. */
const REMOTE_VIDEO = `(() => {
  const v = document.querySelector('#videoremote1 video');
  return v ? { width: v.videoWidth, time: v.currentTime } : null;
})()`;

function demoSuite(pageName: string): void {
  describe(`Janus's ${pageName} (unmodified) with lua/videoroom.lua`, function () {
    this.timeout(120000);
    let ts: TestServer;
    let pages: PageServer;
    let browser: Browser;
    const consoleLog: string[] = [];

    before(async function () {
      const missing = missingBrowserParts() ?? (existsSync(join(JANUS_DEMOS_DIR, pageName)) ? undefined : `${pageName} missing (run \`node scripts/test-setup.mjs\`)`);
      if (missing) {
        console.log(`    (skipped: ${missing})`);
        this.skip();
      }
      // The script's defaults: janus.plugin.videoroom, room 1234.
      ts = await startMediaTestServer(createLuaPlugin(scriptConfig(ourScript('videoroom.lua')), silentLogger()), 2);
      pages = await startDemoServer(ts.urls.ws);
      browser = await launchBrowser();
    });

    after(async () => {
      await browser?.close();
      await pages?.close();
      await ts?.close();
    });

    afterEach(function () {
      if (this.currentTest?.state === 'failed') console.log(consoleLog.filter((l) => !l.startsWith('[debug]')).slice(-60).join('\n'));
    });

    /** Opens the page, clicks Start, joins room 1234 as `name` (the page then publishes). */
    async function enterRoom(name: string): Promise<Page> {
      const page = await browser.context.newPage();
      page.on('console', (message) => {
        if (consoleLog.length < 5000) consoleLog.push(`[${message.type()}] ${name}: ${message.text()}`);
      });
      page.on('pageerror', (error) => consoleLog.push(`[pageerror] ${name}: ${error.message}`));
      await page.goto(`${pages.origin}/${pageName}`);
      await page.waitForFunction('typeof Janus === "function" && typeof jQuery === "function"', undefined, { timeout: 15000 });
      await page.click('#start');
      await page.waitForSelector('#register', { state: 'visible', timeout: 15000 });
      await page.fill('#username', name);
      await page.click('#register');
      // Joined and publishing: the local video plays.
      await pollPage<number>(page, `(document.querySelector('#videolocal video') || {}).videoWidth || 0`, (w) => w > 0, 30000, `${name}: local video`);
      return page;
    }

    /** Waits until slot 1 plays a remote video whose time advances. */
    async function expectRemoteVideo(page: Page, who: string): Promise<RemoteVideo> {
      const first = await pollPage<RemoteVideo | null>(page, REMOTE_VIDEO, (v) => v !== null && v.width > 0 && v.time > 0, 45000, `${who}: remote video`);
      return pollPage<RemoteVideo | null>(page, REMOTE_VIDEO, (v) => v !== null && v.time > first!.time + 0.5, 15000, `${who}: remote video advancing`) as Promise<RemoteVideo>;
    }

    it('two pages in room 1234 each play the other\'s video; when one stops, the other drops its feed', async () => {
      const alice = await enterRoom('alice');
      const bob = await enterRoom('bob');
      const atBob = await expectRemoteVideo(bob, 'bob');
      const atAlice = await expectRemoteVideo(alice, 'alice');
      expect(atBob.width).to.be.within(160, 640);
      expect(atAlice.width).to.be.within(160, 640);
      // The name of the remote feed is shown above it.
      expect(await alice.textContent('#remote1')).to.equal('bob');
      expect(await bob.textContent('#remote1')).to.equal('alice');

      // Bob stops (Janus session destroyed): Alice's page removes his feed.
      await bob.click('#start');
      await pollPage<boolean>(alice, `document.querySelector('#videoremote1 video') === null`, (gone) => gone, 20000, 'alice: bob\'s video removed');
      expect(await alice.isVisible('#remote1')).to.equal(false);
    });
  });
}

demoSuite('videoroomtest.html');
demoSuite('mvideoroomtest.html');
