// Key frame requests with real media (libwebrtc peers, mediasoup): a subscriber that starts
// gets its sender asked for a key frame until one has reached it, not once (mediasoup holds a
// request while an earlier one is pending, and libwebrtc ignores a PLI within 300 ms of the
// last it took, so one request was often lost and the subscriber waited ~1 s for the retry);
// and a script's sendPli reaches the user's PeerConnection even when none of its video is
// being relayed. What reaches the publisher is read from its own sender's pliCount.

import { expect } from 'chai';
import { silentLogger } from '../src/log';
import type { JsonObject } from '../src/plugin/json';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { ourScript, scriptConfig } from './lua-fixtures';
import { JanusWsClient, createAndAttach, delay } from './support/janus-ws-client';
import type { MediasoupMediaPlane } from '../src/media/plane';
import { closeScene, startMediasoup } from './support/media-server';
import { type TestServer, startTestServer } from './support/test-server';
import { NodePeer, waitUntil } from './support/wrtc-peer';

interface Handle {
  client: JanusWsClient;
  sessionId: number;
  handleId: number;
}

/** Sends a message and returns its event (after the ack). */
async function ask(h: Handle, body: JsonObject, jsep?: JsonObject): Promise<JsonObject> {
  const message: JsonObject = { janus: 'message', session_id: h.sessionId, handle_id: h.handleId, body };
  if (jsep) message.jsep = jsep;
  const ack = await h.client.request(message);
  expect(ack.janus, JSON.stringify(ack)).to.equal('ack');
  return h.client.next((m) => m.janus === 'event' && m.transaction === ack.transaction, 8000);
}

/** A synchronous request: the plugin's data in the `success` reply. */
async function sync(h: Handle, body: JsonObject): Promise<JsonObject> {
  const reply = await h.client.request({ janus: 'message', session_id: h.sessionId, handle_id: h.handleId, body });
  expect(reply.janus, JSON.stringify(reply)).to.equal('success');
  return dataOf(reply);
}

function dataOf(event: JsonObject): JsonObject {
  return (event.plugindata as JsonObject).data as JsonObject;
}

/** PLIs the peer's video sender has received (its outbound-rtp stats), kept fresh for waitUntil. */
class PliCounter {
  count = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(peer: NodePeer) {
    this.timer = setInterval(() => {
      void peer.outboundVideoStats().then((s) => (this.count = s.pliCount), () => undefined);
    }, 100);
  }

  async settled(peer: NodePeer): Promise<number> {
    this.count = (await peer.outboundVideoStats()).pliCount;
    return this.count;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

describe('media: key frame requests with libwebrtc peers', function () {
  this.timeout(60000);
  const peers: NodePeer[] = [];
  const clients: JanusWsClient[] = [];
  const counters: PliCounter[] = [];
  let ts: TestServer | undefined;
  let media: MediasoupMediaPlane | undefined;

  /** The test server with this script on a mediasoup plane of one worker. */
  async function start(script: string): Promise<void> {
    media = await startMediasoup(1);
    ts = await startTestServer({ plugins: [createLuaPlugin(scriptConfig(ourScript(script)), silentLogger())], mediaPlane: media });
  }

  async function attach(plugin: string): Promise<Handle> {
    const client = await JanusWsClient.connect(ts!.urls.ws);
    clients.push(client);
    return { client, ...(await createAndAttach(client, plugin)) };
  }

  afterEach(async () => {
    for (const counter of counters.splice(0)) counter.stop();
    for (const peer of peers.splice(0)) peer.close();
    for (const client of clients.splice(0)) await client.close();
    await closeScene({ ts, media });
    ts = undefined;
    media = undefined;
  });

  it('keeps asking the publisher for a key frame until a starting subscriber has one (lua/videoroom.lua)', async () => {
    await start('videoroom.lua');
    const pub = await attach('janus.plugin.videoroom');
    // A room of our own: no fir_freq, so no periodic PLIs.
    expect((await sync(pub, { request: 'create', room: 77 })).videoroom).to.equal('created');
    const feed = dataOf(await ask(pub, { request: 'join', room: 77, ptype: 'publisher', display: 'pub' })).id as number;
    const pubPeer = new NodePeer({ audio: true, video: true });
    peers.push(pubPeer);
    const published = await ask(pub, { request: 'publish', audio: true, video: true }, { ...(await pubPeer.offer()) });
    await pubPeer.accept({ type: 'answer', sdp: (published.jsep as JsonObject).sdp as string });
    await pub.client.next((m) => m.janus === 'webrtcup', 8000);
    await waitUntil(() => pubPeer.pc.connectionState === 'connected', 8000, 'the publisher connected');

    // The publisher's encoder gets no frames from now on: whatever is asked, no key frame can
    // come, so the subscriber below keeps waiting for its first one.
    pubPeer.videoStalled = true;
    await delay(300);
    const plis = new PliCounter(pubPeer);
    counters.push(plis);
    const before = await plis.settled(pubPeer);

    const sub = await attach('janus.plugin.videoroom');
    const attached = await ask(sub, { request: 'join', room: 77, ptype: 'subscriber', streams: [{ feed }] });
    expect(dataOf(attached).videoroom).to.equal('attached');
    const subPeer = new NodePeer({ audio: false, video: false });
    peers.push(subPeer);
    const answer = await subPeer.answer({ type: 'offer', sdp: (attached.jsep as JsonObject).sdp as string });
    expect(dataOf(await ask(sub, { request: 'start', room: 77 }, { ...answer })).started).to.equal('ok');
    await sub.client.next((m) => m.janus === 'webrtcup', 8000);

    // Asked again and again (mediasoup alone sent two PLIs here, its request and one retry).
    await waitUntil(() => plis.count >= before + 5, 15000, 'five PLIs at the publisher while the subscriber has no key frame');

    // Frames again: the next key frame reaches the subscriber, which decodes from it on.
    pubPeer.videoStalled = false;
    await waitUntil(() => subPeer.videoFrames >= 10, 15000, "the publisher's video at the subscriber");
    expect(subPeer.lastFrameSize).to.deep.equal({ width: 320, height: 240 });
  });

  it("sends a script's sendPli to the user while none of its video is relayed (lua/echotest.lua)", async () => {
    await start('echotest.lua');
    const user = await attach('janus.plugin.echolua');
    const peer = new NodePeer({ audio: true, video: true });
    peers.push(peer);
    const answered = await ask(user, { audio: true, video: true }, { ...(await peer.offer()) });
    await peer.accept({ type: 'answer', sdp: (answered.jsep as JsonObject).sdp as string });
    await user.client.next((m) => m.janus === 'webrtcup', 8000);
    await waitUntil(() => peer.videoFrames >= 5, 15000, 'the echoed video');

    // Video no longer echoed: the only Consumer of the user's video is paused.
    expect((await sync(user, { video: false })).result).to.equal('ok');
    await delay(500);
    const plis = new PliCounter(peer);
    counters.push(plis);
    const before = await plis.settled(peer);
    // echotest.lua answers `keyframe` with sendPli(id).
    expect((await sync(user, { keyframe: true })).result).to.equal('ok');
    await waitUntil(() => plis.count >= before + 1, 10000, "a PLI at the user's sender after sendPli");
  });
});
