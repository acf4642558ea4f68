// The setup every browser suite shares: one Lua script as the test server's only plugin, with
// the real mediasoup media plane, the page server and headless Chromium with janus-page.html
// open in some pages. Skips the suite when the browser parts or the script are missing; logs
// the browser console when a test fails.

import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import type { ScriptConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { createLuaPlugin } from '../../src/script/lua-plugin';
import { startMediaTestServer } from '../support/media-server';
import type { TestServer } from '../support/test-server';
import { type Browser, type PageServer, launchBrowser, missingBrowserParts, startPageServer } from './harness';

export interface BrowserRigOptions {
  /** The script the one Lua plugin runs. */
  script: () => ScriptConfig;
  /** mediasoup workers. */
  mediaWorkers: number;
  /** How many janus-page.html pages to open (default 1). */
  pages?: number;
  /** More to log when a test fails, after the browser console. */
  onFailure?: () => Promise<void>;
  /** Another server for the pages (e.g. luasfu embedded in a service) instead of the test server. */
  server?: (script: ScriptConfig, mediaWorkers: number) => Promise<RigServer>;
}

/** A server other than the test server: the Janus API's WebSocket URL, and how to close it. */
export interface RigServer {
  wsUrl: string;
  close(): Promise<void>;
}

export class BrowserRig {
  private server: TestServer | undefined;
  private other: RigServer | undefined;
  private pageServer: PageServer | undefined;
  private chromium: Browser | undefined;
  /** The pages open at janus-page.html, in order. */
  readonly pages: Page[] = [];

  get ts(): TestServer {
    if (!this.server) throw new Error('browser rig not started');
    return this.server;
  }

  /** The Janus API WebSocket URL the pages use. */
  get wsUrl(): string {
    return this.other?.wsUrl ?? this.ts.urls.ws;
  }

  async start(options: BrowserRigOptions): Promise<void> {
    if (options.server) this.other = await options.server(options.script(), options.mediaWorkers);
    else this.server = await startMediaTestServer(createLuaPlugin(options.script(), silentLogger()), options.mediaWorkers);
    this.pageServer = await startPageServer();
    this.chromium = await launchBrowser();
    for (let i = 0; i < (options.pages ?? 1); i++) this.pages.push(await this.chromium.open(`${this.pageServer.origin}/pages/janus-page.html`));
  }

  async close(): Promise<void> {
    await this.chromium?.close();
    await this.pageServer?.close();
    await this.server?.close();
    await this.other?.close();
  }

  /** The last lines of the browser console, when there is a browser. */
  consoleTail(): string | undefined {
    return this.chromium?.consoleLog.slice(-40).join('\n');
  }
}

/** Registers the suite's before/after/afterEach hooks for a rig; the rig is started in before(). */
export function useBrowserRig(options: BrowserRigOptions): BrowserRig {
  const rig = new BrowserRig();
  before(async function () {
    const path = options.script().path;
    const missing = missingBrowserParts() ?? (existsSync(path) ? undefined : `${path} missing`);
    if (missing) {
      console.log(`    (skipped: ${missing})`);
      this.skip();
    }
    await rig.start(options);
  });
  after(async function () {
    await rig.close();
  });
  afterEach(async function () {
    const tail = this.currentTest?.state === 'failed' ? rig.consoleTail() : undefined;
    if (tail === undefined) return;
    console.log(tail);
    await options.onFailure?.();
  });
  return rig;
}
