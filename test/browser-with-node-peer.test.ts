// A browser and a libwebrtc peer in Node at the same time, on one luasfu with the real
// mediasoup media plane and our lua/echotest.lua: headless Chromium runs the real janus.js
// echo session (fake camera at 640x480, 4:3) while a NodePeer (@roamhq/wrtc) runs its own
// echo session over a raw Janus WebSocket client (240x160 generated video, 3:2). Both must
// receive their own media back, concurrently: the frame sizes tell the streams apart, so a
// cross-wired relay fails the test.

import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { JsonObject } from '../src/plugin/json';
import { expectAudioArriving, expectVideoPlaying, js, startEchoSession, stats } from './browser/echo-session';
import { pollPage, sleep } from './browser/harness';
import { useBrowserRig } from './browser/rig';
import { ourScript, scriptConfig } from './lua-fixtures';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import type { TestServer } from './support/test-server';
import { NodePeer, waitUntil } from './support/wrtc-peer';

const ECHOTEST = ourScript('echotest.lua');
const PREFIX = '[luasfu echotest] ';

async function startNodeEcho(ts: TestServer, peer: NodePeer): Promise<JanusWsClient> {
  const client = await JanusWsClient.connect(ts.urls.ws);
  const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.echolua');
  const offer = await peer.offer();
  const ack = await client.request({
    janus: 'message', session_id: sessionId, handle_id: handleId,
    body: { audio: true, video: true, data: true },
    jsep: { type: offer.type, sdp: offer.sdp },
  });
  expect(ack.janus).to.equal('ack');
  const event = await client.next((m) => m.janus === 'event' && m.jsep !== undefined, 15000);
  await peer.accept({ type: 'answer', sdp: (event.jsep as JsonObject).sdp as string });
  await client.next((m) => m.janus === 'webrtcup' && m.sender === handleId, 15000);
  return client;
}

describe('browser and Node peer: two echo sessions at the same time', function () {
  this.timeout(120000);
  let peer: NodePeer | undefined;
  let client: JanusWsClient | undefined;
  // Registered before the rig's, so these close first.
  after(async function () {
    peer?.close();
    await client?.close();
  });
  const rig = useBrowserRig({
    script: () => scriptConfig(ECHOTEST),
    mediaWorkers: 2,
  });
  let page: Page;
  before(function () {
    [page] = rig.pages;
  });

  it('both get their own video, audio and data back while the other runs', async () => {
    peer = new NodePeer({ data: true, width: 240, height: 160 });
    // Negotiate both at once.
    const [browserEvent, nodeClient] = await Promise.all([
      startEchoSession(page, rig.ts.urls.ws, 'echo'),
      startNodeEcho(rig.ts, peer),
    ]);
    client = nodeClient;
    expect(browserEvent.msg).to.deep.include({ echotest: 'event', result: 'ok' });

    // Both receive media, checked concurrently.
    const nodeVideo = waitUntil(() => peer!.videoFrames >= 30, 20000, 'video echoed to the Node peer');
    const browserVideo = await expectVideoPlaying(page, 'echo');
    await nodeVideo;
    expect(peer.lastFrameSize).to.deep.equal({ width: 240, height: 160 });
    expect(browserVideo.videoWidth * 3).to.equal(browserVideo.videoHeight * 4); // 4:3: the browser's own camera

    await expectAudioArriving(page, 'echo');
    const audio = peer.audioChunks;
    await sleep(1000);
    expect(peer.audioChunks - audio, 'audio chunks at the Node peer over ~1 s').to.be.greaterThan(30);

    // Both still flowing at the same time: counters rise in the same window, from 2 s up to
    // 10 s (on two cores shared with Chromium, one echo can stall for a key frame's round trip).
    const frames = peer.videoFrames;
    const a = await stats(page, 'echo');
    await sleep(2000);
    let b = await stats(page, 'echo');
    for (let waited = 2000; waited < 10000; waited += 500) {
      if (peer.videoFrames - frames > 20 && b.framesDecoded - a.framesDecoded > 20 && b.audioPacketsReceived - a.audioPacketsReceived > 30) break;
      await sleep(500);
      b = await stats(page, 'echo');
    }
    expect(peer.videoFrames - frames, 'Node peer frames in the window').to.be.greaterThan(20);
    expect(b.framesDecoded - a.framesDecoded, 'browser frames decoded in the same window').to.be.greaterThan(20);
    expect(b.audioPacketsReceived - a.audioPacketsReceived, 'browser audio packets in the same window').to.be.greaterThan(30);

    // Data: each gets its own text back, with the script's prefix.
    await pollPage<{ dataOpen: unknown[] }>(page, `lsfu.state('echo')`, (s) => s.dataOpen.length > 0, 15000, 'browser ondataopen');
    await waitUntil(() => peer!.channel?.readyState === 'open', 15000, 'Node data channel open');
    await page.evaluate(`lsfu.sendData('echo', ${js('from chromium')})`);
    peer.channel!.send('from node');
    const st = await pollPage<{ data: Array<{ data: string }> }>(page, `lsfu.state('echo')`, (s) => s.data.length > 0, 10000, 'data echoed to the browser');
    await waitUntil(() => peer!.dataReceived.length > 0, 10000, 'data echoed to the Node peer');
    expect(st.data.map((d) => d.data)).to.deep.equal([`${PREFIX}from chromium`]);
    expect(peer.dataReceived).to.deep.equal([`${PREFIX}from node`]);
  });
});
