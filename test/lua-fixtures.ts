// Paths of the real Janus parts that scripts/test-setup.mjs extracts (never committed), and
// of our own small test scripts (tests fail with a clear message when setup was not run);
// a recording PluginHost for plugin-level tests; a bounded waitFor.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScriptConfig } from '../src/config';
import type { JsonObject, JsonValue } from '../src/plugin/json';
import type { MediaRouter, MediumDirection, MediumKind, RecordingRequest } from '../src/plugin/media';
import type { DataMessage, PluginHost, PluginJsep } from '../src/plugin/plugin';

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

/** A script under the limits the tests give whole scripts: 50M instructions, 256 MB. */
/**
 * The string a fetched Janus script's getAuthor() returns, read from the script itself, so
 * tests check the plugin reports the script's own getter without us repeating its text.
 */
export function scriptAuthor(path: string): string {
  const found = /function getAuthor\(\)\s*\{?\s*return\s*"([^"]+)"/.exec(readFileSync(path, 'utf8'));
  if (!found) throw new Error(`${path} has no getAuthor() returning a string literal`);
  return found[1]!;
}

export function scriptConfig(path: string, extra: Partial<ScriptConfig> = {}): ScriptConfig {
  return { path, instructionLimit: 50_000_000, memoryLimitMb: 256, ...extra };
}

/** One of Janus's own Lua scripts (janusLua), with its folder for require(). */
export function janusScript(name: string, extra: Partial<ScriptConfig> = {}): ScriptConfig {
  return scriptConfig(janusLua(name), { modulesPath: JANUS_LUA_DIR, ...extra });
}

/** A Lua test fixture (test/fixtures/lua); require('sdp') finds the built-in module. */
export function fixtureScript(name: string): ScriptConfig {
  return scriptConfig(ourLua(name));
}

/** One of our own scripts in lua/ (echotest.lua, videoroom.lua). */
export function ourScript(name: string): string {
  return join(ROOT, 'lua', name);
}

/**
 * The script config that runs our lua/videoroom.lua where Janus's videoroom.lua runs, for the
 * legacy-API tests: package janus.plugin.lua, no startup room (the tests create their rooms).
 */
export const LEGACY_VIDEOROOM_CONFIG = JSON.stringify({ package: 'janus.plugin.lua', rooms: [] });

/** One of our own test scripts in test/fixtures/lua. */
export function ourLua(name: string): string {
  return join(OUR_LUA_DIR, name);
}

// ---- a recording PluginHost for plugin-level tests ------------------------------------------


export interface RecordedEvent {
  handleId: number;
  transaction: string | undefined;
  event: JsonObject;
  jsep?: PluginJsep;
}

/** Every call, in order, as [name, ...args]. */
export type RecordedCall = [string, ...unknown[]];

/** A MediaRouter that records calls and answers true. */
export class RecordingRouter implements MediaRouter {
  readonly calls: RecordedCall[] = [];
  constructor(private readonly sink: RecordedCall[]) {}
  private rec(name: string, ...args: unknown[]): boolean {
    const call: RecordedCall = [name, ...args];
    this.calls.push(call);
    this.sink.push(call);
    return true;
  }
  configureMedium(h: number, m: MediumKind, d: MediumDirection, e: boolean): boolean { return this.rec('configureMedium', h, m, d, e); }
  addRecipient(s: number, r: number): boolean { return this.rec('addRecipient', s, r); }
  removeRecipient(s: number, r: number): boolean { return this.rec('removeRecipient', s, r); }
  setBitrate(h: number, b: number): boolean { return this.rec('setBitrate', h, b); }
  setPliFreq(h: number, s: number): boolean { return this.rec('setPliFreq', h, s); }
  setSubstream(h: number, s: number): boolean { return this.rec('setSubstream', h, s); }
  setTemporalLayer(h: number, l: number): boolean { return this.rec('setTemporalLayer', h, l); }
  sendPli(h: number): boolean { return this.rec('sendPli', h); }
  startRecording(h: number, r: RecordingRequest[]): boolean { return this.rec('startRecording', h, r); }
  stopRecording(h: number, t: MediumKind[]): boolean { return this.rec('stopRecording', h, t); }
  relayRtp(h: number, v: boolean, p: Uint8Array): boolean { return this.rec('relayRtp', h, v, Buffer.from(p).toString('latin1')); }
  relayRtcp(h: number, v: boolean, p: Uint8Array): boolean { return this.rec('relayRtcp', h, v, Buffer.from(p).toString('latin1')); }
  relayData(h: number, m: DataMessage): boolean { return this.rec('relayData', h, m); }
}

export class FakeHost implements PluginHost {
  /** Everything, in order (events, notifications, closePc/endSession, media calls). */
  readonly sequence: RecordedCall[] = [];
  readonly events: RecordedEvent[] = [];
  readonly notifications: Array<{ handleId: number; event: JsonValue }> = [];
  readonly closed: number[] = [];
  readonly ended: number[] = [];
  readonly media: RecordingRouter;
  /** Called for endSession (e.g. to drive hangupMedia/destroySession like the core). */
  onEndSession: ((handleId: number) => void) | undefined;

  constructor(private readonly eventsEnabled = true) {
    this.media = new RecordingRouter(this.sequence);
  }

  pushEvent(handleId: number, transaction: string | undefined, event: JsonObject, jsep?: PluginJsep): number {
    this.events.push({ handleId, transaction, event, ...(jsep ? { jsep } : {}) });
    this.sequence.push(['pushEvent', handleId, event]);
    return 0;
  }
  closePc(handleId: number): void {
    this.closed.push(handleId);
    this.sequence.push(['closePc', handleId]);
  }
  endSession(handleId: number): void {
    this.ended.push(handleId);
    this.sequence.push(['endSession', handleId]);
    this.onEndSession?.(handleId);
  }
  eventsIsEnabled(): boolean {
    return this.eventsEnabled;
  }
  notifyEvent(handleId: number, event: JsonValue): void {
    this.notifications.push({ handleId, event });
    this.sequence.push(['notifyEvent', handleId, event]);
  }
}

/** Polls `check` every 5 ms until it returns true; at most `ms` (bounded loop). */
export async function waitFor(check: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
