// Real media through the whole stack with libwebrtc in Node (@roamhq/wrtc): Janus API over
// WebSocket → echotest.lua in Fengari → mediasoup with our worker edits → back to the peer.
// The offers are the peer's own, unmodified, except the one peer that imitates Firefox's
// payload type numbering.

import { expect } from 'chai';
import type { JsonObject } from '../src/plugin/json';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { silentLogger } from '../src/log';
import { ourScript, scriptConfig } from './lua-fixtures';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { startMediaTestServer } from './support/media-server';
import type { TestServer } from './support/test-server';
import { NodePeer, renumberLikeFirefox, waitUntil } from './support/wrtc-peer';

const ECHOTEST = ourScript('echotest.lua');

interface EchoSession {
  client: JanusWsClient;
  sessionId: number;
  handleId: number;
  peer: NodePeer;
}

async function startEcho(ts: TestServer, peer: NodePeer, rewrite?: (sdp: string) => string): Promise<EchoSession> {
  const client = await JanusWsClient.connect(ts.urls.ws);
  const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.echolua');
  const offer = await peer.offer(rewrite);
  const ack = await client.request({
    janus: 'message',
    session_id: sessionId,
    handle_id: handleId,
    body: { audio: true, video: true, data: true },
    jsep: { type: offer.type, sdp: offer.sdp },
  });
  expect(ack.janus).to.equal('ack');
  const event = await client.next((m) => m.janus === 'event' && m.jsep !== undefined, 5000);
  const jsep = event.jsep as JsonObject;
  expect(jsep.type).to.equal('answer');
  await peer.accept({ type: 'answer', sdp: jsep.sdp as string });
  await client.next((m) => m.janus === 'webrtcup' && m.sender === handleId, 5000);
  return { client, sessionId, handleId, peer };
}

describe('media: echo test with libwebrtc peers', function () {
  this.timeout(60000);
  let ts: TestServer;
  const peers: NodePeer[] = [];
  const clients: JanusWsClient[] = [];

  before(async () => {
    ts = await startMediaTestServer(createLuaPlugin(scriptConfig(ECHOTEST), silentLogger()), 2);
  });

  after(async () => {
    for (const peer of peers) peer.close();
    for (const client of clients) await client.close();
    await ts?.close();
  });

  it('echoes video, audio and data back to an unmodified libwebrtc offer', async () => {
    const peer = new NodePeer({ data: true });
    peers.push(peer);
    const session = await startEcho(ts, peer);
    clients.push(session.client);
    await waitUntil(() => peer.videoFrames >= 30, 15000, 'echoed video frames');
    await waitUntil(() => peer.audioChunks >= 50, 10000, 'echoed audio');
    expect(peer.lastFrameSize).to.deep.equal({ width: 320, height: 240 });
    await waitUntil(() => peer.channel?.readyState === 'open', 10000, 'data channel open');
    peer.channel!.send('hello luasfu');
    await waitUntil(() => peer.dataReceived.length > 0, 5000, 'echoed data');
    expect(peer.dataReceived[0]).to.match(/hello luasfu$/);
    expect(peer.dataReceived[0]).to.not.equal('hello luasfu');
  });

  it('stops echoing video on {video:false} and keeps audio', async () => {
    const peer = new NodePeer();
    peers.push(peer);
    const session = await startEcho(ts, peer);
    clients.push(session.client);
    await waitUntil(() => peer.videoFrames >= 10, 15000, 'echoed video frames');
    const reply = await session.client.request({
      janus: 'message',
      session_id: session.sessionId,
      handle_id: session.handleId,
      body: { video: false },
    });
    expect(reply.janus).to.be.oneOf(['success', 'ack']);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const frames = peer.videoFrames;
    const audio = peer.audioChunks;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(peer.videoFrames - frames).to.be.lessThan(3);
    expect(peer.audioChunks - audio).to.be.greaterThan(50);
  });

  it('echoes for a peer with Firefox payload type numbers beside another peer', async () => {
    const chromeLike = new NodePeer();
    const firefoxLike = new NodePeer();
    peers.push(chromeLike, firefoxLike);
    const a = await startEcho(ts, chromeLike);
    const b = await startEcho(ts, firefoxLike, renumberLikeFirefox);
    clients.push(a.client, b.client);
    const answer = (firefoxLike.pc as unknown as { remoteDescription: { sdp: string } }).remoteDescription.sdp;
    expect(answer).to.match(/a=rtpmap:120 VP8\/90000/);
    expect(answer).to.match(/a=rtpmap:109 opus\/48000/);
    await waitUntil(() => firefoxLike.videoFrames >= 30 && chromeLike.videoFrames >= 30, 15000, 'video on both peers');
    await waitUntil(() => firefoxLike.audioChunks >= 50, 10000, 'audio on the Firefox-numbered peer');
  });
});
