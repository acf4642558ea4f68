// One janus.js echo test session in a page (shared by the browser echotest tests): the
// steps a janus.js echotest page takes, and the checks on what comes back.

import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { pollPage, sleep } from './harness';

export interface PageStats {
  audioPacketsReceived: number;
  audioBytesReceived: number;
  videoPacketsReceived: number;
  videoBytesReceived: number;
  framesDecoded: number;
  frameWidth: number;
  videoBytesSent: number;
  audioBytesSent: number;
  framesEncoded: number;
  sendWidth: number;
  qualityLimitation: string | null;
  timestamp: number;
}

export interface PageVideo {
  id: string;
  videoWidth: number;
  videoHeight: number;
  currentTime: number;
  paused: boolean;
  readyState: number;
}

export interface PageMessage {
  msg: Record<string, unknown>;
  jsep: { type: string; sdp: string } | null;
}

export interface PageState {
  messages: PageMessage[];
  data: Array<{ data: string; label: string }>;
  dataOpen: Array<{ label: string; protocol: string | null }>;
  webrtc: Array<{ on: boolean; reason: string | null }>;
  remoteTracks: Array<{ kind: string; mid: string; on: boolean }>;
  cleanups: number;
  detached: boolean;
}

export const js = (value: unknown): string => JSON.stringify(value);

export function stats(page: Page, handle: string): Promise<PageStats> {
  return page.evaluate(`lsfu.stats(${js(handle)})`) as Promise<PageStats>;
}

export function state(page: Page, handle: string): Promise<PageState> {
  return page.evaluate(`lsfu.state(${js(handle)})`) as Promise<PageState>;
}

/** Sends a message without a JSEP; resolves with janus.js's success argument (the sync reply). */
export function send(page: Page, handle: string, body: object): Promise<unknown> {
  return page.evaluate(`lsfu.send(${js(handle)}, ${js(body)})`);
}

/** Waits for a remote video element of `handle` that has a size and whose currentTime advances. */
export async function expectVideoPlaying(page: Page, handle: string, ms = 20000): Promise<PageVideo> {
  const expr = `lsfu.videos(${js(handle)})`;
  const first = await pollPage<PageVideo[]>(page, expr, (v) => v.some((x) => x.videoWidth > 0 && x.currentTime > 0), ms, `remote video of ${handle} playing`);
  const video = first.find((x) => x.videoWidth > 0)!;
  const later = await pollPage<PageVideo[]>(page, expr, (v) => v.some((x) => x.id === video.id && x.currentTime >= video.currentTime + 1), 8000, `currentTime of ${video.id} advancing`);
  const now = later.find((x) => x.id === video.id)!;
  expect(now.videoWidth).to.be.greaterThan(0);
  expect(now.videoHeight).to.be.greaterThan(0);
  expect(now.paused).to.equal(false);
  expect(now.currentTime).to.be.greaterThan(video.currentTime);
  return now;
}

/** Inbound audio packets keep increasing (two samples `gapMs` apart). */
export async function expectAudioArriving(page: Page, handle: string, ms = 15000): Promise<void> {
  const a = await pollPage<PageStats>(page, `lsfu.stats(${js(handle)})`, (s) => s.audioPacketsReceived > 0, ms, `inbound audio on ${handle}`);
  await sleep(1000);
  const b = await stats(page, handle);
  // Opus at 20 ms: ~50 packets a second; demand a clear fraction of that.
  expect(b.audioPacketsReceived - a.audioPacketsReceived, 'inbound-rtp audio packetsReceived increase over ~1 s').to.be.greaterThan(15);
}

/** Outbound video bitrate (bits/s) from bytesSent over a window. */
export async function outboundVideoBitrate(page: Page, handle: string, windowMs: number): Promise<number> {
  const a = await stats(page, handle);
  await sleep(windowMs);
  const b = await stats(page, handle);
  return ((b.videoBytesSent - a.videoBytesSent) * 8 * 1000) / (b.timestamp - a.timestamp);
}

/**
 * Connects, attaches to the echo test plugin, offers audio+video(+data) with janus.js's
 * `tracks` API (video `capture` true: the fake camera's default 640x480; or a janus.js
 * preset such as 'lowres'), sends {audio:true, video:true} with the offer, and applies the answer
 * (handleRemoteJsep). Returns the event that carried the answer.
 */
export async function startEchoSession(page: Page, wsUrl: string, handle: string, videoCapture: true | string = true, plugin = 'janus.plugin.echolua'): Promise<PageMessage> {
  await page.evaluate(`lsfu.connect(${js(wsUrl)})`);
  await page.evaluate(`lsfu.attach(${js(handle)}, ${js(plugin)})`);
  await page.evaluate(`(async () => {
    const jsep = await lsfu.offer(${js(handle)}, [
      { type: 'audio', capture: true, recv: true },
      { type: 'video', capture: ${js(videoCapture)}, recv: true },
      { type: 'data' },
    ]);
    await lsfu.send(${js(handle)}, { audio: true, video: true }, jsep);
    return true;
  })()`);
  const st = await pollPage<PageState>(page, `lsfu.state(${js(handle)})`, (s) => s.messages.some((m) => m.jsep !== null), 15000, 'the echotest answer');
  const event = st.messages.find((m) => m.jsep !== null)!;
  expect(event.jsep!.type).to.equal('answer');
  await page.evaluate(`lsfu.remoteJsep(${js(handle)}, ${js(event.jsep)})`);
  await pollPage<PageState>(page, `lsfu.state(${js(handle)})`, (s) => s.webrtc.some((w) => w.on), 15000, 'webrtcup (janus.js webrtcState true)');
  return event;
}
