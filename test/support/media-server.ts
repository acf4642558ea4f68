// The real mediasoup media plane for tests (every address 127.0.0.1), and the test server
// with one plugin on it.

import { defaultConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { MediasoupMediaPlane } from '../../src/media/plane';
import type { Plugin } from '../../src/plugin/plugin';
import { type TestServer, startTestServer } from './test-server';

/** mediasoup with `workers` workers on 127.0.0.1. */
export function startMediasoup(workers: number): Promise<MediasoupMediaPlane> {
  return MediasoupMediaPlane.start({ ...defaultConfig().media, workers, listenIps: [{ ip: '127.0.0.1' }] }, silentLogger());
}

/**
 * The test server with `plugin` as its only plugin, on mediasoup with `workers` workers (which
 * ts.close() leaves running, as for any media plane passed in).
 */
export async function startMediaTestServer(plugin: Plugin, workers: number): Promise<TestServer> {
  const media = await startMediasoup(workers);
  return startTestServer({ plugins: [plugin], mediaPlane: media });
}
