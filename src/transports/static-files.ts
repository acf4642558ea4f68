// Static files served on the Janus HTTP listener beside the API: the demo pages (`--demos`).
// Only GETs under one URL prefix; only files inside the folder (or the few named extra files);
// nothing is listed.

import { readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';

export interface StaticFile {
  contentType: string;
  body: Buffer;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

export class StaticFiles {
  private readonly root: string;

  /**
   * `prefix` e.g. "/demos": "/demos" and "/demos/" serve index.html; `extra` maps file names
   * under the prefix to files elsewhere (e.g. "janus.js" to Debian's copy).
   */
  constructor(
    readonly prefix: string,
    folder: string,
    private readonly extra: Readonly<Record<string, string>> = {},
  ) {
    this.root = realpathSync(folder);
  }

  /** undefined: not under the prefix (not ours); null: ours but no such file (404). */
  lookup(url: string): StaticFile | null | undefined {
    if (url !== this.prefix && !url.startsWith(`${this.prefix}/`)) return undefined;
    let name = url.slice(this.prefix.length + 1);
    try {
      name = decodeURIComponent(name);
    } catch {
      return null;
    }
    if (name === '') name = 'index.html';
    const mapped = this.extra[name];
    const file = mapped ?? this.inRoot(name);
    if (file === undefined) return null;
    try {
      if (!statSync(file).isFile()) return null;
      return { contentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', body: readFileSync(file) };
    } catch {
      return null;
    }
  }

  /** The real path of `name` inside the folder, or undefined (missing, or outside it). */
  private inRoot(name: string): string | undefined {
    try {
      const file = realpathSync(join(this.root, name));
      return file.startsWith(this.root + sep) ? file : undefined;
    } catch {
      return undefined;
    }
  }
}
