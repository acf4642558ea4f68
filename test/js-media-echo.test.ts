// Real media through the whole stack with Janus's unmodified echotest.js: Janus API over
// WebSocket → echotest.js in the JavaScript runtime → mediasoup → back to a libwebrtc peer
// in Node (@roamhq/wrtc): video frames come back, and data comes back with the script's prefix
// (its incomingTextData hook relays it with relayTextData).

import { expect } from 'chai';
import { silentLogger } from '../src/log';
import type { JsonObject } from '../src/plugin/json';
import { createJsPlugin } from '../src/script/js-plugin';
import { janusEchotestJs } from './fixtures/js/fixtures';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { startMediaTestServer } from './support/media-server';
import type { TestServer } from './support/test-server';
import { NodePeer, waitUntil } from './support/wrtc-peer';

describe('media: echotest.js with a libwebrtc peer', function () {
  this.timeout(60000);
  let ts: TestServer;
  let peer: NodePeer | undefined;
  let client: JanusWsClient | undefined;

  before(async () => {
    ts = await startMediaTestServer(createJsPlugin(janusEchotestJs(), silentLogger()), 1);
  });

  after(async () => {
    peer?.close();
    await client?.close();
    await ts?.close();
  });

  it('echoes video and audio, and data with the "[echotest.js] --> " prefix', async () => {
    peer = new NodePeer({ data: true });
    client = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.echojs');
    const offer = await peer.offer();
    const ack = await client.request({
      janus: 'message', session_id: sessionId, handle_id: handleId,
      body: { audio: true, video: true, data: true }, jsep: { type: offer.type, sdp: offer.sdp },
    });
    expect(ack.janus).to.equal('ack');
    const event = await client.next((m) => m.janus === 'event' && m.jsep !== undefined, 5000);
    expect((event.plugindata as JsonObject).data).to.deep.equal({ echotest: 'event', result: 'ok' });
    await peer.accept({ type: 'answer', sdp: (event.jsep as JsonObject).sdp as string });
    await client.next((m) => m.janus === 'webrtcup' && m.sender === handleId, 10000);
    await waitUntil(() => peer!.videoFrames >= 30, 15000, 'echoed video frames');
    expect(peer.lastFrameSize).to.deep.equal({ width: 320, height: 240 });
    await waitUntil(() => peer!.audioChunks >= 50, 10000, 'echoed audio');
    await waitUntil(() => peer!.channel?.readyState === 'open', 10000, 'data channel open');
    peer.channel!.send('hello luasfu');
    await waitUntil(() => peer!.dataReceived.length > 0, 5000, 'echoed data');
    expect(peer.dataReceived[0]).to.equal('[echotest.js] --> hello luasfu');
  });
});
