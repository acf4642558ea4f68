// Recording real media: echotest.lua's `record` request records the libwebrtc peer's opus and
// VP8 through mediasoup into .mjr files, and Janus's own janus-pp-rec turns them into media
// files.

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/log';
import type { JsonObject } from '../src/plugin/json';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { ourScript, scriptConfig } from './lua-fixtures';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { startMediaTestServer } from './support/media-server';
import type { TestServer } from './support/test-server';
import { NodePeer, waitUntil } from './support/wrtc-peer';

const PP_REC = '/usr/bin/janus-pp-rec';
const ECHOTEST = ourScript('echotest.lua');

describe('media: recording an echo session to .mjr', function () {
  this.timeout(60000);
  let ts: TestServer;
  let dir: string;
  let peer: NodePeer | undefined;
  let client: JanusWsClient | undefined;

  before(async () => {
    if (!existsSync(PP_REC)) throw new Error(`${PP_REC} missing: run node scripts/test-setup.mjs`);
    dir = mkdtempSync(join(tmpdir(), 'luasfu-rec-'));
    ts = await startMediaTestServer(createLuaPlugin(scriptConfig(ECHOTEST), silentLogger()), 1);
  });

  after(async () => {
    peer?.close();
    await client?.close();
    await ts?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes audio and video recordings that janus-pp-rec converts', async () => {
    client = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.echolua');
    peer = new NodePeer();
    const offer = await peer.offer();
    const base = join(dir, 'echo');
    await client.request({
      janus: 'message', session_id: sessionId, handle_id: handleId,
      body: { audio: true, video: true, record: true, filename: base },
      jsep: { type: offer.type, sdp: offer.sdp },
    });
    const event = await client.next((m) => m.janus === 'event' && m.jsep !== undefined, 5000);
    await peer.accept({ type: 'answer', sdp: (event.jsep as JsonObject).sdp as string });
    await waitUntil(() => peer!.videoFrames >= 60, 15000, 'two seconds of echoed video');
    const stopped = await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { record: false } });
    expect(stopped.janus).to.equal('success');
    await waitUntil(() => existsSync(`${base}-video.mjr`) && existsSync(`${base}-audio.mjr`), 5000, 'recording files');
    await new Promise((resolve) => setTimeout(resolve, 500));

    const video = readFileSync(`${base}-video.mjr`);
    expect(video.subarray(0, 8).toString('latin1')).to.equal('MJR00002');
    const header = JSON.parse(video.subarray(10, 10 + video.readUInt16BE(8)).toString('utf8')) as JsonObject;
    expect([header.t, header.c]).to.deep.equal(['v', 'vp8']);

    const webm = join(dir, 'echo.webm');
    execFileSync(PP_REC, [`${base}-video.mjr`, webm], { stdio: 'pipe', timeout: 30000 });
    expect(statSync(webm).size).to.be.greaterThan(10_000);
    expect(readFileSync(webm).subarray(0, 4).toString('hex')).to.equal('1a45dfa3');

    const opus = join(dir, 'echo.opus');
    execFileSync(PP_REC, [`${base}-audio.mjr`, opus], { stdio: 'pipe', timeout: 30000 });
    const ogg = readFileSync(opus);
    expect(ogg.subarray(0, 4).toString('latin1')).to.equal('OggS');
    expect(ogg.length).to.be.greaterThan(5_000);
  });
});
