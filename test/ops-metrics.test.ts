// The operations listener: Prometheus metrics that follow a session's life (sessions, handles,
// a real PeerConnection with a libwebrtc peer, RTP counters, script callback timings, request
// outcomes), a media worker that dies and is replaced, and /health and /ready.

import { expect } from 'chai';
import type { JsonObject } from '../src/plugin/json';
import { MediasoupMediaPlane } from '../src/media/plane';
import { silentLogger } from '../src/log';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { ourScript, scriptConfig } from './lua-fixtures';
import { adminPost } from './support/admin-http';
import { JanusWsClient } from './support/janus-ws-client';
import { startMediasoup } from './support/media-server';
import { type Sample, sampleValue, scrape } from './support/prometheus';
import { TEST_ADMIN_SECRET, type TestServer, startTestServer, testConfig } from './support/test-server';
import { NodePeer, waitUntil } from './support/wrtc-peer';

const ECHO = 'janus.plugin.echolua';

async function getJson(port: number, path: string): Promise<{ status: number; body: JsonObject }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: (await response.json()) as JsonObject };
}

/** Scrapes until `check` holds (bounded), returning the last samples. */
async function scrapeUntil(port: number, check: (samples: Sample[]) => boolean, what: string, timeoutMs = 10_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape(port);
    if (check(samples)) return samples;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('ops: Prometheus metrics follow a session', function () {
  this.timeout(60_000);
  let media: MediasoupMediaPlane;
  let ts: TestServer;
  let port: number;
  let client: JanusWsClient | undefined;
  let peer: NodePeer | undefined;
  const script = ourScript('echotest.lua');

  before(async () => {
    media = await startMediasoup(1);
    const config = testConfig();
    ts = await startTestServer({
      plugins: [createLuaPlugin(scriptConfig(script), silentLogger())],
      mediaPlane: media,
      config: { metrics: { ...config.metrics, enabled: true }, sessionTimeout: 0 },
    });
    port = ts.server.ports.metrics!;
  });

  after(async () => {
    peer?.close();
    await client?.close();
    await ts?.close();
    await media?.close();
  });

  it('serves the metrics on their own listener, with Node default metrics', async () => {
    expect(port).to.be.a('number').and.not.equal(ts.ports.websocket);
    const samples = await scrape(port);
    expect(sampleValue(samples, 'luasfu_sessions')).to.equal(0);
    expect(sampleValue(samples, 'luasfu_handles', { plugin: ECHO })).to.equal(0);
    expect(sampleValue(samples, 'luasfu_peerconnections', { plugin: ECHO })).to.equal(0);
    expect(sampleValue(samples, 'luasfu_media_worker_restarts_total')).to.equal(0);
    expect(sampleValue(samples, 'luasfu_script_restarts_total', { script })).to.equal(0);
    expect(sampleValue(samples, 'luasfu_event_loop_lag_seconds')).to.be.a('number');
    expect(sampleValue(samples, 'process_cpu_user_seconds_total')).to.be.greaterThan(0);
    expect(sampleValue(samples, 'nodejs_heap_size_used_bytes')).to.be.greaterThan(0);
    expect(sampleValue(samples, 'luasfu_rtp_packets_total', { direction: 'in' })).to.equal(0);
    const missing = await fetch(`http://127.0.0.1:${port}/nothing`);
    expect(missing.status).to.equal(404);
  });

  it('counts sessions, handles, PeerConnections, RTP, callbacks and requests through a session', async () => {
    client = await JanusWsClient.connect(ts.urls.ws);
    const created = await client.request({ janus: 'create' });
    const sessionId = (created.data as JsonObject).id as number;
    let samples = await scrape(port);
    expect(sampleValue(samples, 'luasfu_sessions')).to.equal(1);
    expect(sampleValue(samples, 'luasfu_handles', { plugin: ECHO })).to.equal(0);

    const attached = await client.request({ janus: 'attach', session_id: sessionId, plugin: ECHO });
    const handleId = (attached.data as JsonObject).id as number;
    const missing = await client.request({ janus: 'attach', session_id: sessionId, plugin: 'janus.plugin.nothing' });
    expect((missing.error as JsonObject).code).to.equal(460);
    samples = await scrape(port);
    expect(sampleValue(samples, 'luasfu_handles', { plugin: ECHO })).to.equal(1);
    expect(sampleValue(samples, 'luasfu_peerconnections', { plugin: ECHO })).to.equal(0);
    expect(sampleValue(samples, 'luasfu_janus_requests_total', { api: 'janus', verb: 'create', error_code: '0' })).to.equal(1);
    expect(sampleValue(samples, 'luasfu_janus_requests_total', { api: 'janus', verb: 'attach', error_code: '0' })).to.equal(1);
    expect(sampleValue(samples, 'luasfu_janus_requests_total', { api: 'janus', verb: 'attach', error_code: '460' })).to.equal(1);
    const callbacks = { script, callback: 'createSession' };
    expect(sampleValue(samples, 'luasfu_script_callback_duration_seconds_count', callbacks)).to.equal(1);

    // Three synchronous messages: the histogram counts exactly three handleMessage calls.
    const messages = { script, callback: 'handleMessage' };
    const before = sampleValue(samples, 'luasfu_script_callback_duration_seconds_count', messages) ?? 0;
    for (let i = 0; i < 3; i++) {
      const reply = await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { audio: true } });
      expect(reply.janus).to.equal('success');
    }
    samples = await scrape(port);
    expect(sampleValue(samples, 'luasfu_script_callback_duration_seconds_count', messages)).to.equal(before + 3);
    expect(sampleValue(samples, 'luasfu_script_callback_duration_seconds_sum', messages)).to.be.greaterThan(0);
    expect(sampleValue(samples, 'luasfu_script_callback_duration_seconds_bucket', { ...messages, le: '+Inf' })).to.equal(before + 3);

    // A real PeerConnection: the echo test sends our media back.
    peer = new NodePeer();
    const offer = await peer.offer();
    const ack = await client.request({
      janus: 'message', session_id: sessionId, handle_id: handleId, body: { audio: true, video: true }, jsep: { ...offer },
    });
    expect(ack.janus).to.equal('ack');
    const event = await client.next((m) => m.janus === 'event' && m.jsep !== undefined, 5000);
    await peer.accept({ type: 'answer', sdp: (event.jsep as JsonObject).sdp as string });
    await client.next((m) => m.janus === 'webrtcup' && m.sender === handleId, 10_000);
    await waitUntil(() => peer!.videoFrames >= 10, 15_000, 'echoed video');
    samples = await scrapeUntil(port, (s) => (sampleValue(s, 'luasfu_rtp_packets_total', { direction: 'out' }) ?? 0) > 0, 'RTP out');
    expect(sampleValue(samples, 'luasfu_peerconnections', { plugin: ECHO })).to.equal(1);
    expect(sampleValue(samples, 'luasfu_script_callback_duration_seconds_count', { script, callback: 'setupMedia' })).to.equal(1);
    const packetsIn = sampleValue(samples, 'luasfu_rtp_packets_total', { direction: 'in' })!;
    expect(packetsIn).to.be.greaterThan(10);
    expect(sampleValue(samples, 'luasfu_rtp_bytes_total', { direction: 'in' })).to.be.greaterThan(packetsIn * 12);
    expect(sampleValue(samples, 'luasfu_rtp_bytes_total', { direction: 'out' })).to.be.greaterThan(0);
    expect(sampleValue(samples, 'luasfu_rtp_packets_lost_total', { direction: 'in' })).to.be.a('number');
    // Counters only grow while media flows.
    const later = await scrapeUntil(port, (s) => sampleValue(s, 'luasfu_rtp_packets_total', { direction: 'in' })! > packetsIn, 'more RTP');
    expect(sampleValue(later, 'luasfu_rtp_packets_total', { direction: 'out' })).to.be.at.least(
      sampleValue(samples, 'luasfu_rtp_packets_total', { direction: 'out' })!,
    );

    const hangup = await client.request({ janus: 'hangup', session_id: sessionId, handle_id: handleId });
    expect(hangup.janus).to.equal('success');
    await client.next((m) => m.janus === 'hangup' && m.sender === handleId, 5000);
    samples = await scrapeUntil(port, (s) => sampleValue(s, 'luasfu_peerconnections', { plugin: ECHO }) === 0, 'PeerConnection gone');
    expect(sampleValue(samples, 'luasfu_handles', { plugin: ECHO })).to.equal(1);

    await client.request({ janus: 'detach', session_id: sessionId, handle_id: handleId });
    samples = await scrapeUntil(port, (s) => sampleValue(s, 'luasfu_handles', { plugin: ECHO }) === 0, 'handle gone');
    expect(sampleValue(samples, 'luasfu_sessions')).to.equal(1);
    expect(sampleValue(samples, 'luasfu_script_callback_duration_seconds_count', { script, callback: 'destroySession' })).to.equal(1);

    await client.request({ janus: 'destroy', session_id: sessionId });
    samples = await scrapeUntil(port, (s) => sampleValue(s, 'luasfu_sessions') === 0, 'session gone');
    expect(sampleValue(samples, 'luasfu_janus_requests_total', { api: 'janus', verb: 'destroy', error_code: '0' })).to.equal(1);

    await adminPost(ts.urls.adminHttp, { janus: 'get_status', transaction: 'gs', admin_secret: TEST_ADMIN_SECRET });
    await adminPost(ts.urls.adminHttp, { janus: 'get_status', transaction: 'gs', admin_secret: 'wrong' });
    samples = await scrape(port);
    expect(sampleValue(samples, 'luasfu_janus_requests_total', { api: 'admin', verb: 'get_status', error_code: '0' })).to.equal(1);
    expect(sampleValue(samples, 'luasfu_janus_requests_total', { api: 'admin', verb: 'get_status', error_code: '403' })).to.equal(1);
  });

  it('answers /health and /ready, counts a media worker that died, and is not ready until it is replaced', async () => {
    expect(await getJson(port, '/health')).to.deep.include({ status: 200 });
    expect((await getJson(port, '/health')).body).to.deep.include({ status: 'up' });
    expect(await getJson(port, '/ready')).to.deep.equal({ status: 200, body: { ready: true } });

    const [pid] = media.engine.workerPids;
    // Asked as soon as the engine sees the death: its replacement (a process spawn, then the
    // worker's first message) cannot be running before this request is answered. Polling
    // instead could miss the window on a fast host.
    const whileDown = new Promise<{ status: number; body: JsonObject }>((resolve, reject) => {
      media.engine.once('workerDied', () => getJson(port, '/ready').then(resolve, reject));
    });
    process.kill(pid!, 'SIGKILL');
    const notReady = await whileDown;
    expect(notReady.status, 'a 503 while the worker was down').to.equal(503);
    expect(notReady.body.reasons).to.deep.equal(['mediasoup workers: 0 of 1 running']);
    // Ready again once its replacement runs.
    let ready = await getJson(port, '/ready');
    const deadline = Date.now() + 15_000;
    while (ready.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      ready = await getJson(port, '/ready');
    }
    expect(ready).to.deep.equal({ status: 200, body: { ready: true } });
    expect(media.engine.workerPids[0]).to.not.equal(pid);
    const samples = await scrape(port);
    expect(sampleValue(samples, 'luasfu_media_worker_restarts_total')).to.equal(1);
  });
});
