// Browser test harness: serves the test pages with the real janus.js (Debian
// libjs-janus-gateway 1.1.2) and adapter.js (Debian libjs-webrtc-adapter, the `adapter`
// global janus.js's default dependencies use) from a tiny node:http server on 127.0.0.1,
// launches Debian's /usr/bin/chromium headless through playwright-core (fake camera and
// microphone, fresh user-data-dir), and polls page state with bounded loops.
//
// Page code lives in test/browser/pages/*.js (plain browser JavaScript, not compiled: the
// project builds without the DOM lib); tests drive it through page.evaluate strings.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { FIXTURES_DIR, JANUS_JS } from '../lua-fixtures';

/** dist/test/browser -> repository root */
const ROOT = path.join(__dirname, '..', '..', '..');
export const PAGES_DIR = path.join(ROOT, 'test', 'browser', 'pages');
export const CHROMIUM = '/usr/bin/chromium';
export const ADAPTER_JS = path.join(FIXTURES_DIR, 'adapter.js');

/** Why browser tests cannot run here, or undefined when everything is in place. */
export function missingBrowserParts(): string | undefined {
  for (const file of [CHROMIUM, JANUS_JS, ADAPTER_JS]) {
    if (!fs.existsSync(file)) return `${file} missing (run \`node scripts/test-setup.mjs\`)`;
  }
  return undefined;
}

export interface PageServer {
  /** e.g. http://127.0.0.1:12345 */
  origin: string;
  close(): Promise<void>;
}

const FILES: Record<string, { file: string; type: string }> = {
  '/janus.js': { file: JANUS_JS, type: 'text/javascript' },
  '/adapter.js': { file: ADAPTER_JS, type: 'text/javascript' },
};

/** Serves /janus.js, /adapter.js and /pages/<name> (only files in PAGES_DIR). */
export async function startPageServer(): Promise<PageServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let entry = FILES[url.pathname];
    const page = /^\/pages\/([a-z0-9-]+\.(html|js))$/.exec(url.pathname);
    if (!entry && page) {
      entry = { file: path.join(PAGES_DIR, page[1]), type: page[2] === 'html' ? 'text/html' : 'text/javascript' };
    }
    if (url.pathname === '/favicon.ico') {
      res.statusCode = 204;
      res.end();
      return;
    }
    if (!entry || !fs.existsSync(entry.file)) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    sendFile(res, entry.file, entry.type);
  });
  return listenPages(server);
}

/** Answers with a file's bytes, never cached (the page under test may be rebuilt between runs). */
export function sendFile(res: http.ServerResponse, file: string, type: string): void {
  res.setHeader('content-type', `${type}; charset=utf-8`);
  res.setHeader('cache-control', 'no-store');
  res.end(fs.readFileSync(file));
}

/** Listens on a free port of 127.0.0.1; close() also drops the browser's kept-alive connections. */
export async function listenPages(server: http.Server): Promise<PageServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface Browser {
  context: BrowserContext;
  /** Opens a page at `url` and waits until it has loaded. Console errors are kept in `consoleLog`. */
  open(url: string): Promise<Page>;
  consoleLog: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luasfu-browser-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      '--disable-gpu', '--autoplay-policy=no-user-gesture-required'],
  });
  const consoleLog: string[] = [];
  return {
    context,
    consoleLog,
    async open(url: string): Promise<Page> {
      const page = await context.newPage();
      page.on('console', (message) => {
        if (consoleLog.length < 2000) consoleLog.push(`[${message.type()}] ${message.text()}`);
      });
      page.on('pageerror', (error) => consoleLog.push(`[pageerror] ${error.message}`));
      await page.goto(url);
      await page.waitForFunction('window.lsfu !== undefined && typeof Janus === "function"', undefined, { timeout: 10000 });
      return page;
    },
    async close(): Promise<void> {
      await context.close().catch(() => undefined);
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Evaluates `expression` in the page every `everyMs` until `done(value)`; bounded by `ms`. */
export async function pollPage<T>(page: Page, expression: string, done: (value: T) => boolean, ms: number, what: string, everyMs = 200): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  for (let i = 0; i < Math.ceil(ms / everyMs) + 1; i++) {
    last = (await page.evaluate(expression)) as T;
    if (done(last)) return last;
    if (Date.now() > deadline) break;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
}
