// Real media through our lua/videoroom.lua: a libwebrtc publisher (@roamhq/wrtc) sends
// audio and video, libwebrtc subscribers receive them through mediasoup. Everything goes
// through the Janus API over WebSocket, exactly as a legacy VideoRoom client would do it.

import { expect } from 'chai';
import { join } from 'node:path';
import { silentLogger } from '../src/log';
import type { JsonObject } from '../src/plugin/json';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { ourScript, scriptConfig, LEGACY_VIDEOROOM_CONFIG } from './lua-fixtures';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { startMediaTestServer } from './support/media-server';
import type { TestServer } from './support/test-server';
import { NodePeer, waitUntil } from './support/wrtc-peer';

const VIDEOROOM = ourScript('videoroom.lua');
const PACKAGE = 'janus.plugin.lua';

describe('own scripts: lua/videoroom.lua with real media (libwebrtc peers)', function () {
  this.timeout(60000);
  let ts: TestServer;
  const peers: NodePeer[] = [];
  const clients: JanusWsClient[] = [];

  before(async () => {
    ts = await startMediaTestServer(createLuaPlugin(scriptConfig(VIDEOROOM, { config: LEGACY_VIDEOROOM_CONFIG }), silentLogger()), 1);
  });

  after(async () => {
    for (const peer of peers) peer.close();
    for (const client of clients) await client.close();
    await ts?.close();
  });

  async function attach(): Promise<{ client: JanusWsClient; sessionId: number; handleId: number }> {
    const client = await JanusWsClient.connect(ts.urls.ws);
    clients.push(client);
    return { client, ...(await createAndAttach(client, PACKAGE)) };
  }

  /** Sends a message and returns its event (after the ack). */
  async function ask(p: { client: JanusWsClient; sessionId: number; handleId: number }, body: JsonObject, jsep?: JsonObject) {
    const transaction = `m-${Math.random().toString(36).slice(2)}`;
    const ack = await p.client.request({
      janus: 'message', session_id: p.sessionId, handle_id: p.handleId, transaction, body, ...(jsep ? { jsep } : {}),
    });
    expect(ack.janus).to.equal('ack');
    return p.client.next((m) => m.janus === 'event' && m.transaction === transaction, 8000);
  }

  it('relays a publisher to subscribers, with and without audio', async () => {
    const pub = await attach();
    const created = await pub.client.request({
      janus: 'message', session_id: pub.sessionId, handle_id: pub.handleId, body: { request: 'create', room: 42 },
    });
    expect((created.plugindata as JsonObject).data).to.deep.equal({ videoroom: 'created', room: 42, permanent: false });
    const joined = await ask(pub, { request: 'join', room: 42, ptype: 'publisher', display: 'node' });
    const feed = ((joined.plugindata as JsonObject).data as JsonObject).id as number;

    // Publish audio and video.
    const publisher = new NodePeer();
    peers.push(publisher);
    const offer = await publisher.offer();
    const configured = await ask(pub, { request: 'configure', audio: true, video: true }, offer as unknown as JsonObject);
    expect((configured.plugindata as JsonObject).data).to.deep.include({
      videoroom: 'event', room: 42, configured: 'ok', audio_codec: 'opus', video_codec: 'vp8',
    });
    await publisher.accept({ type: 'answer', sdp: (configured.jsep as JsonObject).sdp as string });
    await pub.client.next((m) => m.janus === 'webrtcup', 8000);

    // Two subscribers: one takes everything, one declines audio.
    const subscribe = async (body: JsonObject) => {
      const sub = await attach();
      const attached = await ask(sub, { request: 'join', room: 42, ptype: 'subscriber', feed, ...body });
      expect((attached.plugindata as JsonObject).data).to.deep.include({ videoroom: 'attached', room: 42, id: feed, display: 'node' });
      const jsep = attached.jsep as JsonObject;
      expect(jsep.type).to.equal('offer');
      const peer = new NodePeer({ audio: false, video: false });
      peers.push(peer);
      const answer = await peer.answer({ type: 'offer', sdp: jsep.sdp as string });
      const started = await ask(sub, { request: 'start', room: 42 }, answer as unknown as JsonObject);
      expect((started.plugindata as JsonObject).data).to.deep.equal({ videoroom: 'event', room: 42, started: 'ok' });
      await sub.client.next((m) => m.janus === 'webrtcup', 8000);
      return { sub, peer, offerSdp: jsep.sdp as string };
    };
    const all = await subscribe({});
    const videoOnly = await subscribe({ offer_audio: false, offer_data: false });
    expect(all.offerSdp).to.match(/\r\nm=audio /);
    expect(videoOnly.offerSdp).not.to.match(/\r\nm=audio /);

    await waitUntil(() => all.peer.videoFrames >= 30, 20000, 'video frames at the first subscriber');
    await waitUntil(() => all.peer.audioChunks >= 50, 10000, 'audio at the first subscriber');
    await waitUntil(() => videoOnly.peer.videoFrames >= 30, 20000, 'video frames at the second subscriber');
    expect(all.peer.lastFrameSize).to.deep.equal({ width: 320, height: 240 });
    expect(videoOnly.peer.audioChunks).to.equal(0);

    // The publisher leaves: media stops reaching the subscribers.
    const left = await ask(pub, { request: 'leave' });
    expect((left.plugindata as JsonObject).data).to.deep.equal({ videoroom: 'event', room: 42, leaving: 'ok' });
    await pub.client.next((m) => m.janus === 'hangup', 8000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const frames = all.peer.videoFrames;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(all.peer.videoFrames - frames).to.be.below(3);
  });
});
