// Renegotiating an established PeerConnection: a second offer on the same PC (the script sees
// `update`), and an ICE restart (new local ICE credentials in the answer), with media still
// echoed afterwards.

import { expect } from 'chai';
import { silentLogger } from '../src/log';
import type { JsonObject } from '../src/plugin/json';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { ourScript, scriptConfig } from './lua-fixtures';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { startMediaTestServer } from './support/media-server';
import { adminPost } from './support/admin-http';
import { TEST_ADMIN_SECRET, type TestServer } from './support/test-server';
import { NodePeer, waitUntil } from './support/wrtc-peer';

const ECHOTEST = ourScript('echotest.lua');

function iceUfrag(sdp: string): string {
  return /a=ice-ufrag:(\S+)/.exec(sdp)?.[1] ?? '';
}

describe('media: renegotiation and ICE restart', function () {
  this.timeout(60000);
  let ts: TestServer;
  let peer: NodePeer | undefined;
  let client: JanusWsClient | undefined;

  before(async () => {
    ts = await startMediaTestServer(createLuaPlugin(scriptConfig(ECHOTEST), silentLogger()), 1);
  });

  after(async () => {
    peer?.close();
    await client?.close();
    await ts?.close();
  });

  it('answers an update and an ICE restart on the same PeerConnection, media keeps flowing', async () => {
    client = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.echolua');
    peer = new NodePeer();
    const negotiate = async (options?: { iceRestart?: boolean }): Promise<string> => {
      const offer = await peer!.offer(undefined, options);
      const ack = await client!.request({
        janus: 'message', session_id: sessionId, handle_id: handleId,
        body: { audio: true, video: true }, jsep: { type: offer.type, sdp: offer.sdp },
      });
      const event = await client!.next((m) => m.janus === 'event' && m.transaction === ack.transaction && m.jsep !== undefined, 5000);
      const sdp = (event.jsep as JsonObject).sdp as string;
      await peer!.accept({ type: 'answer', sdp });
      return sdp;
    };

    const first = await negotiate();
    await client.next((m) => m.janus === 'webrtcup', 8000);
    await waitUntil(() => peer!.videoFrames >= 20, 15000, 'echoed video');

    // A plain renegotiation keeps the transport: same ICE credentials, same SSRCs.
    const second = await negotiate();
    expect(iceUfrag(second)).to.equal(iceUfrag(first));
    expect(second.match(/a=ssrc:\d+ cname/g)).to.deep.equal(first.match(/a=ssrc:\d+ cname/g));
    // Admin handle_info shows the media routing: the echo is this handle's own sender, both
    // kinds flow through consumers on the mids and SSRCs of our answer.
    const info = (await adminPost(`${ts.urls.adminHttp}/${sessionId}/${handleId}`, {
      janus: 'handle_info', transaction: 'hi', admin_secret: TEST_ADMIN_SECRET,
    })).info as JsonObject;
    const routing = info.routing as JsonObject;
    expect(routing.sender).to.equal(handleId);
    expect(routing.recipients).to.deep.equal([handleId]);
    const consumers = routing.consumers as Record<string, JsonObject>;
    expect(Object.keys(consumers).sort()).to.deep.equal(['audio', 'video']);
    expect(consumers.video!.paused).to.equal(false);
    expect(second).to.include(`a=ssrc:${consumers.video!.ssrc as number} cname`);

    // An ICE restart gets new credentials; media resumes over the restarted ICE.
    const third = await negotiate({ iceRestart: true });
    expect(iceUfrag(third)).to.not.equal(iceUfrag(first));
    const frames = peer.videoFrames;
    await waitUntil(() => peer!.videoFrames >= frames + 30, 15000, 'echoed video after the ICE restart');
  });
});
