// The real mediasoup media plane for tests (every address 127.0.0.1), and the test server
// with one plugin on it.

import { defaultConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { MediasoupMediaPlane } from '../../src/media/plane';
import type { JsonObject, JsonValue } from '../../src/plugin/json';
import type { Plugin } from '../../src/plugin/plugin';
import { TEST_ADMIN_SECRET, type TestServer, startTestServer } from './test-server';
import type { JanusWsClient } from './janus-ws-client';
import type { NodePeer } from './wrtc-peer';

/** mediasoup with `workers` workers on 127.0.0.1. */
export function startMediasoup(workers: number): Promise<MediasoupMediaPlane> {
  return MediasoupMediaPlane.start({ ...defaultConfig().media, workers, listenIps: [{ ip: '127.0.0.1' }] }, silentLogger());
}

/**
 * The test server with `plugin` as its only plugin, on mediasoup with `workers` workers (which
 * ts.close() leaves running, as for any media plane passed in).
 */
export async function startMediaTestServer(plugin: Plugin, workers: number): Promise<TestServer> {
  return (await startMediaScene(plugin, workers)).ts;
}

/** The same, with the media plane too (for tests that close it or look into its workers). */
export async function startMediaScene(plugin: Plugin, workers: number): Promise<{ media: MediasoupMediaPlane; ts: TestServer }> {
  const media = await startMediasoup(workers);
  return { media, ts: await startTestServer({ plugins: [plugin], mediaPlane: media }) };
}

/** The pid of the worker whose router holds this handle's transport (Admin handle_info). */
export async function workerOf(ts: TestServer, media: MediasoupMediaPlane, handle: { sessionId: number; handleId: number }): Promise<number> {
  const response = await fetch(`${ts.urls.adminHttp}/${handle.sessionId}/${handle.handleId}`, {
    method: 'POST',
    body: JSON.stringify({ janus: 'handle_info', transaction: 'hi', admin_secret: TEST_ADMIN_SECRET } satisfies JsonValue),
  });
  const info = ((await response.json()) as JsonObject).info as JsonObject;
  const transportId = (info.webrtc as JsonObject)['transport-id'] as string;
  const routers = media.engine.routers;
  for (let i = 0; i < routers.length; i++) {
    if ((await routers[i]!.dump()).transportIds.includes(transportId)) return media.engine.workerPids[i]!;
  }
  throw new Error(`no router holds transport ${transportId}`);
}

/** What a media test started, any part possibly not (yet) there. */
export interface MediaScene {
  peer?: NodePeer;
  client?: JanusWsClient;
  ts?: TestServer;
  media?: MediasoupMediaPlane;
}

/** Closes a media test's peer, client, server and media plane, in that order. */
export async function closeScene(scene: MediaScene): Promise<void> {
  scene.peer?.close();
  await scene.client?.close();
  await scene.ts?.close();
  await scene.media?.close();
}
