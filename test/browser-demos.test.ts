// Our demo pages (demos/, served by luasfu itself under /demos/ on the Janus HTTP listener when
// demos are enabled) in headless Chromium, with Debian's janus.js and adapter.js, against
// lua/echotest.lua and lua/videoroom.lua on the real mediasoup media plane, over the HTTP API
// (long polls) as the pages use it.

import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { silentLogger } from '../src/log';
import type { MediasoupMediaPlane } from '../src/media/plane';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { ADAPTER_JS, type Browser, launchBrowser, missingBrowserParts, pollPage } from './browser/harness';
import { JANUS_JS, ourScript, scriptConfig } from './lua-fixtures';
import { startMediasoup } from './support/media-server';
import { type TestServer, startTestServer } from './support/test-server';

/** A <video>'s size and time, or null when the element is missing. */
const videoState = (selector: string): string => `(() => {
  const v = document.querySelector(${JSON.stringify(selector)});
  return v ? { width: v.videoWidth, time: v.currentTime } : null;
})()`;

interface VideoState {
  width: number;
  time: number;
}

describe('demo pages (demos/, --demos) in Chromium', function () {
  this.timeout(120000);
  let ts: TestServer;
  let media: MediasoupMediaPlane;
  let browser: Browser;
  let origin: string;
  const consoleLog: string[] = [];

  before(async function () {
    const missing = missingBrowserParts();
    if (missing) {
      console.log(`    (skipped: ${missing})`);
      this.skip();
    }
    media = await startMediasoup(2);
    ts = await startTestServer({
      plugins: [
        createLuaPlugin(scriptConfig(ourScript('echotest.lua')), silentLogger()),
        createLuaPlugin(scriptConfig(ourScript('videoroom.lua')), silentLogger()),
      ],
      mediaPlane: media,
      config: { demos: { enabled: true, janusJs: JANUS_JS, adapterJs: ADAPTER_JS } },
    });
    origin = `http://127.0.0.1:${ts.ports.http}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await ts?.close();
    await media?.close();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(consoleLog.slice(-60).join('\n'));
  });

  async function open(path: string, who: string): Promise<Page> {
    const page = await browser.context.newPage();
    page.on('console', (message) => {
      if (consoleLog.length < 5000) consoleLog.push(`[${message.type()}] ${who}: ${message.text()}`);
    });
    page.on('pageerror', (error) => consoleLog.push(`[pageerror] ${who}: ${error.message}`));
    const response = await page.goto(`${origin}${path}`);
    expect(response?.status(), path).to.equal(200);
    return page;
  }

  async function expectPlaying(page: Page, selector: string, what: string): Promise<VideoState> {
    const first = await pollPage<VideoState | null>(page, videoState(selector), (v) => v !== null && v.width > 0 && v.time > 0, 45000, what);
    return (await pollPage<VideoState | null>(page, videoState(selector), (v) => v !== null && v.time > first!.time + 0.5, 15000, `${what} advancing`))!;
  }

  it('serves the index, the pages and Debian\'s janus.js/adapter.js; nothing outside demos/', async () => {
    for (const path of ['/demos', '/demos/', '/demos/echotest.html', '/demos/janus.js', '/demos/adapter.js']) {
      const response = await fetch(`${origin}${path}`);
      expect(response.status, path).to.equal(200);
    }
    expect(await (await fetch(`${origin}/demos/`)).text()).to.contain('luasfu demos');
    expect((await fetch(`${origin}/demos/janus.js`)).headers.get('content-type')).to.match(/^text\/javascript/);
    for (const path of ['/demos/nope.html', '/demos/..%2Fpackage.json', '/demos/%2e%2e/package.json']) {
      expect((await fetch(`${origin}${path}`)).status, path).to.equal(404);
    }
    // The Janus API on the same listener still answers.
    expect(((await (await fetch(`${origin}/janus/info`)).json()) as { janus: string }).janus).to.equal('server_info');
  });

  it('echo test: the echoed video plays and data comes back with the script\'s prefix', async () => {
    const page = await open('/demos/echotest.html', 'echo');
    await page.click('#start');
    const echoed = await expectPlaying(page, '#remote', 'echoed video');
    expect(echoed.width).to.be.within(160, 640);
    await page.waitForSelector('#send:not([disabled])', { timeout: 20000 });
    await page.fill('#text', 'hello demo');
    await page.click('#send');
    await pollPage<string>(page, `document.getElementById('received').textContent`, (t) => t.length > 0, 10000, 'echoed data');
    expect(await page.textContent('#received')).to.equal('[luasfu echotest] hello demo');
  });

  it('video room: two pages see each other; when one leaves, the other drops its feed', async () => {
    const alice = await open('/demos/videoroom.html', 'alice');
    await alice.fill('#name', 'alice');
    await alice.click('#join');
    await expectPlaying(alice, '#local', 'alice: local video');
    const bob = await open('/demos/videoroom.html', 'bob');
    await bob.fill('#name', 'bob');
    await bob.click('#join');
    await expectPlaying(bob, '#feeds .feed:nth-child(2) video', 'bob: alice\'s video');
    await expectPlaying(alice, '#feeds .feed:nth-child(2) video', 'alice: bob\'s video');
    expect(await alice.textContent('#feeds .feed:nth-child(2) p')).to.equal('bob');
    await bob.click('#leave');
    await pollPage<number>(alice, `document.querySelectorAll('#feeds .feed').length`, (n) => n === 1, 20000, 'alice: bob\'s feed removed');
  });
});
