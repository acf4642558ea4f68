// Serves Janus's own demo pages (Debian janus-demos 1.1.2, extracted with the libraries they
// load by scripts/test-setup.mjs into test/.fixtures/janus-demos, unmodified) from a tiny
// node:http server on 127.0.0.1. The one file replaced is settings.js, which the demos expect
// each deployment to edit: ours points the pages at the luasfu under test.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { FIXTURES_DIR } from '../lua-fixtures';
import { type PageServer, listenPages, sendFile } from './harness';

/** Where janus-demos keeps its pages, inside the extracted /usr/share tree. */
export const JANUS_DEMOS_DIR = path.join(FIXTURES_DIR, 'janus-demos', 'usr', 'share', 'janus', 'demos');

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.ico': 'image/x-icon',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.svg': 'image/svg+xml', '.map': 'application/json',
};

/** The settings.js of a deployment: the Janus API address, no ICE servers, no auth. */
export function settingsJs(server: string): string {
  return `var server = ${JSON.stringify(server)};\nvar iceServers = null;\nvar token = null;\nvar apisecret = null;\n`;
}

/** Serves JANUS_DEMOS_DIR (symlinks into the extracted libraries followed), settings.js replaced. */
export async function startDemoServer(janusServer: string): Promise<PageServer> {
  const root = fs.realpathSync(path.join(FIXTURES_DIR, 'janus-demos'));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/settings.js') {
      res.setHeader('content-type', 'text/javascript; charset=utf-8');
      res.end(settingsJs(janusServer));
      return;
    }
    let file: string | undefined;
    try {
      file = fs.realpathSync(path.join(JANUS_DEMOS_DIR, decodeURIComponent(url.pathname)));
    } catch {
      file = undefined;
    }
    // Only files of the extracted tree (the demos link into ../../javascript and the fonts).
    if (!file || !file.startsWith(root + path.sep) || !fs.statSync(file).isFile()) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    sendFile(res, file, TYPES[path.extname(file)] ?? 'application/octet-stream');
  });
  return listenPages(server);
}
