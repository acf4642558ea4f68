// A videoroom with real media between libwebrtc peers in Node: a publisher and a subscriber
// placed on different mediasoup workers (so the publisher's media crosses workers through
// pipeToRouter), driven through the Janus API on Janus's own unmodified videoroom.lua and on
// ours. The subscriber answers the script's offer (the plugin-offer path of the SDP merge).

import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../src/log';
import { MediasoupMediaPlane } from '../src/media/plane';
import type { JsonObject } from '../src/plugin/json';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { JANUS_LUA_DIR, ourScript, scriptConfig, LEGACY_VIDEOROOM_CONFIG } from './lua-fixtures';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { startMediasoup } from './support/media-server';
import { type TestServer, startTestServer } from './support/test-server';
import { NodePeer, waitUntil } from './support/wrtc-peer';

const SCRIPTS: Array<[string, string]> = [
  ['our lua/videoroom.lua', ourScript('videoroom.lua')],
  ["Janus's videoroom.lua (unmodified)", join(JANUS_LUA_DIR, 'videoroom.lua')],
];

class Participant {
  private constructor(
    readonly client: JanusWsClient,
    readonly sessionId: number,
    readonly handleId: number,
  ) {}

  static async join(ts: TestServer): Promise<Participant> {
    const client = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.lua');
    return new Participant(client, sessionId, handleId);
  }

  async sync(body: JsonObject): Promise<JsonObject> {
    const reply = await this.client.request({ janus: 'message', session_id: this.sessionId, handle_id: this.handleId, body });
    expect(reply.janus, JSON.stringify(reply)).to.equal('success');
    return (reply.plugindata as JsonObject).data as JsonObject;
  }

  /** An async request: the ack, then the event on the same transaction. */
  async async(body: JsonObject, jsep?: JsonObject): Promise<JsonObject> {
    const message: JsonObject = { janus: 'message', session_id: this.sessionId, handle_id: this.handleId, body };
    if (jsep) message.jsep = jsep;
    const ack = await this.client.request(message);
    expect(ack.janus, JSON.stringify(ack)).to.equal('ack');
    return this.client.next((m) => m.janus === 'event' && m.transaction === ack.transaction, 8000);
  }
}

for (const [name, script] of SCRIPTS) {
  describe(`media: videoroom with libwebrtc peers on ${name}`, function () {
    this.timeout(60000);
    let ts: TestServer;
    let media: MediasoupMediaPlane;
    const peers: NodePeer[] = [];
    const participants: Participant[] = [];

    before(async function () {
      if (!existsSync(script)) throw new Error(`${script} missing: run node scripts/test-setup.mjs`);
      media = await startMediasoup(2);
      ts = await startTestServer({
        plugins: [createLuaPlugin(scriptConfig(script, { config: LEGACY_VIDEOROOM_CONFIG }), silentLogger())],
        mediaPlane: media,
      });
    });

    after(async () => {
      for (const peer of peers) peer.close();
      for (const p of participants) await p.client.close();
      await ts?.close();
    });

    it('relays the publisher to a subscriber on another worker, and tells of the leave', async () => {
      const publisher = await Participant.join(ts);
      const subscriber = await Participant.join(ts);
      const observer = await Participant.join(ts);
      participants.push(publisher, subscriber, observer);
      expect((await publisher.sync({ request: 'create', room: 1234 })).videoroom).to.equal('created');
      // Another participant of the room (joined, not publishing) sees alice come and go.
      const observerJoined = await observer.async({ request: 'join', room: 1234, ptype: 'publisher', display: 'bob' });
      expect(((observerJoined.plugindata as JsonObject).data as JsonObject).videoroom).to.equal('joined');

      const joined = await publisher.async({ request: 'join', room: 1234, ptype: 'publisher', display: 'alice' });
      const joinedData = (joined.plugindata as JsonObject).data as JsonObject;
      expect(joinedData.videoroom).to.equal('joined');
      const publisherId = joinedData.id as number;

      const pubPeer = new NodePeer({ audio: true, video: true, data: true });
      peers.push(pubPeer);
      const offer = await pubPeer.offer();
      const configured = await publisher.async({ request: 'configure', audio: true, video: true, data: true }, { type: 'offer', sdp: offer.sdp });
      const answer = configured.jsep as JsonObject;
      expect(answer.type).to.equal('answer');
      await pubPeer.accept({ type: 'answer', sdp: answer.sdp as string });
      await publisher.client.next((m) => m.janus === 'webrtcup', 8000);

      const attached = await subscriber.async({ request: 'join', room: 1234, ptype: 'subscriber', feed: publisherId });
      expect(((attached.plugindata as JsonObject).data as JsonObject).videoroom).to.equal('attached');
      const subOffer = attached.jsep as JsonObject;
      expect(subOffer.type).to.equal('offer');
      expect(subOffer.sdp as string).to.match(/m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/);
      const subPeer = new NodePeer({ audio: false, video: false });
      peers.push(subPeer);
      const subAnswer = await subPeer.answer({ type: 'offer', sdp: subOffer.sdp as string });
      const started = await subscriber.async({ request: 'start', room: 1234 }, { type: 'answer', sdp: subAnswer.sdp });
      expect(((started.plugindata as JsonObject).data as JsonObject).started).to.equal('ok');
      await subscriber.client.next((m) => m.janus === 'webrtcup', 8000);

      await waitUntil(() => subPeer.videoFrames >= 30, 20000, "the publisher's video at the subscriber");
      await waitUntil(() => subPeer.audioChunks >= 50, 10000, "the publisher's audio at the subscriber");
      expect(subPeer.lastFrameSize).to.deep.equal({ width: 320, height: 240 });
      // Least-loaded placement put the two PeerConnections on different workers.
      const loaded = await Promise.all(media.engine.routers.map(async (r) => (await r.dump()).transportIds.length));
      expect(loaded.filter((n) => n > 0).length).to.equal(2);

      // The scripts define no incoming data hook, so the core relays alice's data channel
      // messages to her subscribers (docs/contract.md §3.2), on a channel the server opens.
      await waitUntil(() => pubPeer.channel?.readyState === 'open', 10000, "the publisher's data channel");
      pubPeer.channel!.send('hello room');
      await waitUntil(() => subPeer.dataReceived.length > 0, 10000, 'relayed data at the subscriber');
      expect(subPeer.dataReceived).to.deep.equal(['hello room']);

      // The observer was told of alice's stream once it was up.
      const announced = await observer.client.next((m) => {
        const data = (m.plugindata as JsonObject | undefined)?.data as JsonObject | undefined;
        return m.janus === 'event' && Array.isArray(data?.publishers) && (data.publishers as JsonObject[]).some((p) => p.id === publisherId);
      }, 8000);
      expect(announced.sender).to.equal(observer.handleId);

      await publisher.async({ request: 'leave' });
      const left = await observer.client.next((m) => {
        const data = (m.plugindata as JsonObject | undefined)?.data as JsonObject | undefined;
        return m.janus === 'event' && data !== undefined && (data.leaving === publisherId || data.unpublished === publisherId);
      }, 8000);
      expect(left.sender).to.equal(observer.handleId);
      // Alice's media stops reaching the subscriber.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const frames = subPeer.videoFrames;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(subPeer.videoFrames - frames).to.be.lessThan(3);
    });
  });
}
