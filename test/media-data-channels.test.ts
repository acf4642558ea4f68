// Data channels over mediasoup SCTP with a libwebrtc peer: the client's own channel, and one
// the server opens on a stream of its parity. The client's messages reach Node without a
// DataProducer per stream (worker edit 080), so the only DataProducers are our ways out.

import { expect } from 'chai';
import type { JsonObject } from '../src/plugin/json';
import { silentLogger } from '../src/log';
import type { MediasoupMediaPlane } from '../src/media/plane';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { fixtureScript } from './lua-fixtures';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { closeScene, startMediaScene } from './support/media-server';
import type { TestServer } from './support/test-server';
import { NodePeer, waitUntil } from './support/wrtc-peer';

/** DataProducers on every router (the WebRtcTransport's and the DirectTransport's). */
async function dataProducers(media: MediasoupMediaPlane): Promise<number> {
  const dumps = (await Promise.all(media.engine.routers.map((router) => router.dump()))) as Array<{
    mapDataProducerIdDataConsumerIds: Record<string, string[]>;
  }>;
  return dumps.reduce((sum, dump) => sum + Object.keys(dump.mapDataProducerIdDataConsumerIds).length, 0);
}

/**
 * The DataProducer count once it reaches `atLeast` (or after 5 s): libwebrtc opens its channel
 * without waiting for our ACK, so the way out that carries the ACK may still be on its way.
 */
async function dataProducersOnceAtLeast(media: MediasoupMediaPlane, atLeast: number): Promise<number> {
  const deadline = Date.now() + 5000;
  let count = await dataProducers(media);
  while (count < atLeast && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    count = await dataProducers(media);
  }
  return count;
}

describe('media: data channels with a libwebrtc peer', function () {
  this.timeout(60000);
  let media: MediasoupMediaPlane;
  let ts: TestServer;
  let client: JanusWsClient | undefined;
  let peer: NodePeer | undefined;

  before(async () => {
    ({ media, ts } = await startMediaScene(createLuaPlugin(fixtureScript('data-labels.lua'), silentLogger()), 1));
  });

  after(() => closeScene({ peer, client, ts, media }));

  it("a channel the server opens carries the client's replies back to the script", async () => {
    peer = new NodePeer({ audio: false, video: false, data: true });
    client = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.datalabels');
    const offer = await peer.offer();
    await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: {}, jsep: { type: offer.type, sdp: offer.sdp } });
    const event = await client.next((m) => m.janus === 'event' && m.jsep !== undefined, 10000);
    await peer.accept({ type: 'answer', sdp: (event.jsep as JsonObject).sdp as string });
    await waitUntil(() => peer!.channel?.readyState === 'open', 10000, "the client's channel open");
    // Only the way out on its channel (opened for the ACK): none to hear the client.
    expect(await dataProducersOnceAtLeast(media, 1)).to.equal(1);

    peer.channel!.send('ping');
    await waitUntil(() => peer!.channelLabeled('server')?.readyState === 'open', 10000, 'the server-opened channel');
    await waitUntil(() => peer!.dataReceived.includes('ping'), 5000, 'ping on the server channel');
    // And the way out for the new label.
    expect(await dataProducersOnceAtLeast(media, 2)).to.equal(2);

    peer.channelLabeled('server')!.send('pong');
    await waitUntil(() => peer!.dataReceived.includes('got pong'), 5000, "the script's answer to a message on its own channel");
  });
});
