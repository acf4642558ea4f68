// Paths of the real Janus parts that scripts/test-setup.mjs extracts (never committed), and
// of our own small test scripts. Tests fail with a clear message when setup was not run.

import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** dist/test -> repository root */
const ROOT = join(__dirname, '..', '..');

export const FIXTURES_DIR = join(ROOT, 'test', '.fixtures');
export const JANUS_LUA_DIR = join(FIXTURES_DIR, 'janus', 'lua');
export const JANUS_DUKTAPE_DIR = join(FIXTURES_DIR, 'janus', 'duktape');
export const JANUS_JS = join(FIXTURES_DIR, 'janus.js');
export const OUR_LUA_DIR = join(ROOT, 'test', 'fixtures', 'lua');
export const SDP_FIXTURES_DIR = join(ROOT, 'test', 'fixtures', 'sdp');

/** A Janus script from Debian's package, e.g. janusLua('echotest.lua'). */
export function janusLua(name: string): string {
  const path = join(JANUS_LUA_DIR, name);
  if (!existsSync(path)) throw new Error(`${path} missing: run \`node scripts/test-setup.mjs\` first`);
  return path;
}

/** One of our own test scripts in test/fixtures/lua. */
export function ourLua(name: string): string {
  return join(OUR_LUA_DIR, name);
}
