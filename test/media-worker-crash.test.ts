// A mediasoup worker process that dies (SIGKILL here) during live echo sessions: the handle
// whose media was on it gets `hangup` with a reason and its script gets hangupMedia; the
// session on the other worker keeps its media; a replacement worker starts, and a new
// session negotiates and gets media again.

import { expect } from 'chai';
import type { JsonObject } from '../src/plugin/json';
import type { Plugin, PluginHandle } from '../src/plugin/plugin';
import { silentLogger } from '../src/log';
import type { MediasoupMediaPlane } from '../src/media/plane';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { ourScript, scriptConfig } from './lua-fixtures';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { startMediasoup, workerOf } from './support/media-server';
import { type TestServer, startTestServer } from './support/test-server';
import { NodePeer, waitUntil } from './support/wrtc-peer';

interface EchoSession {
  client: JanusWsClient;
  sessionId: number;
  handleId: number;
  peer: NodePeer;
}

async function startEcho(ts: TestServer): Promise<EchoSession> {
  const peer = new NodePeer();
  const client = await JanusWsClient.connect(ts.urls.ws);
  const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.echolua');
  const offer = await peer.offer();
  await client.request({
    janus: 'message', session_id: sessionId, handle_id: handleId,
    body: { audio: true, video: true }, jsep: { type: offer.type, sdp: offer.sdp },
  });
  const event = await client.next((m) => m.janus === 'event' && m.jsep !== undefined, 10000);
  await peer.accept({ type: 'answer', sdp: (event.jsep as JsonObject).sdp as string });
  await client.next((m) => m.janus === 'webrtcup' && m.sender === handleId, 10000);
  await waitUntil(() => peer.videoFrames >= 10, 15000, 'echoed video');
  return { client, sessionId, handleId, peer };
}

describe('media: a mediasoup worker dies during live sessions', function () {
  this.timeout(90000);
  let ts: TestServer;
  let media: MediasoupMediaPlane;
  const hangupMedia: number[] = [];
  const sessions: EchoSession[] = [];

  before(async () => {
    media = await startMediasoup(2);
    const plugin: Plugin = createLuaPlugin(scriptConfig(ourScript('echotest.lua')), silentLogger());
    const original = plugin.hangupMedia.bind(plugin);
    plugin.hangupMedia = async (handle: PluginHandle) => {
      hangupMedia.push(handle.id);
      await original(handle);
    };
    ts = await startTestServer({ plugins: [plugin], mediaPlane: media });
  });

  after(async () => {
    for (const session of sessions) {
      session.peer.close();
      await session.client.close();
    }
    await ts?.close();
    await media?.close();
  });

  it('hangs up the handles on the dead worker, keeps the others, replaces the worker, and negotiates anew', async () => {
    const victim = await startEcho(ts);
    const survivor = await startEcho(ts);
    sessions.push(victim, survivor);
    const victimPid = await workerOf(ts, media, victim);
    const survivorPid = await workerOf(ts, media, survivor);
    expect(victimPid, 'the two sessions are on different workers').to.not.equal(survivorPid);

    const replaced = new Promise<number>((resolve) => media.engine.once('workerReplaced', ({ pid }) => resolve(pid)));
    process.kill(victimPid, 'SIGKILL');

    const hangup = await victim.client.next((m) => m.janus === 'hangup' && m.sender === victim.handleId, 10000);
    expect(hangup.reason).to.equal('Media worker died');
    await waitUntil(() => hangupMedia.includes(victim.handleId), 5000, 'hangupMedia for the victim');
    expect(hangupMedia).to.not.include(survivor.handleId);

    const newPid = await replaced;
    expect(media.engine.workerPids.sort()).to.deep.equal([survivorPid, newPid].sort());
    expect(newPid).to.not.equal(victimPid);

    // The other worker's session still gets media.
    const frames = survivor.peer.videoFrames;
    await waitUntil(() => survivor.peer.videoFrames >= frames + 20, 10000, 'video on the surviving session');

    // A new session lands on the replacement (least loaded) and gets media.
    const fresh = await startEcho(ts);
    sessions.push(fresh);
    expect(await workerOf(ts, media, fresh)).to.equal(newPid);
    await waitUntil(() => fresh.peer.audioChunks >= 50, 10000, 'echoed audio on the new session');

    // The victim's handle is still attached and can negotiate again.
    victim.peer.close();
    const again = new NodePeer();
    victim.peer = again;
    const offer = await again.offer();
    await victim.client.request({
      janus: 'message', session_id: victim.sessionId, handle_id: victim.handleId,
      body: { audio: true, video: true }, jsep: { type: offer.type, sdp: offer.sdp },
    });
    const event = await victim.client.next((m) => m.janus === 'event' && m.jsep !== undefined && m.sender === victim.handleId, 10000);
    await again.accept({ type: 'answer', sdp: (event.jsep as JsonObject).sdp as string });
    await waitUntil(() => again.videoFrames >= 10, 15000, 'video after renegotiating on the same handle');
  });
});
