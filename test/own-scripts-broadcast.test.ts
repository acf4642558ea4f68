// lua/broadcast.lua (the example of docs/scripts.md) with real media: a libwebrtc publisher
// sends audio, video and data; two libwebrtc viewers receive them through mediasoup and talk
// back on their data channels. Everything goes through the Janus API over WebSocket.

import { expect } from 'chai';
import { silentLogger } from '../src/log';
import type { JsonObject } from '../src/plugin/json';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { ourScript, scriptConfig } from './lua-fixtures';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { startMediaTestServer } from './support/media-server';
import type { TestServer } from './support/test-server';
import { NodePeer, waitUntil } from './support/wrtc-peer';

const PACKAGE = 'janus.plugin.broadcast.test';

interface Attached {
  client: JanusWsClient;
  sessionId: number;
  handleId: number;
}

const dataOf = (message: JsonObject): JsonObject => (message.plugindata as JsonObject).data as JsonObject;

describe('own scripts: lua/broadcast.lua with real media (libwebrtc peers)', function () {
  this.timeout(90000);
  let ts: TestServer;
  const peers: NodePeer[] = [];
  const clients: JanusWsClient[] = [];

  before(async () => {
    // The package name comes from the script config.
    const plugin = createLuaPlugin(scriptConfig(ourScript('broadcast.lua'), { config: JSON.stringify({ package: PACKAGE }) }), silentLogger());
    ts = await startMediaTestServer(plugin, 1);
  });

  after(async () => {
    for (const peer of peers) peer.close();
    for (const client of clients) await client.close();
    await ts?.close();
  });

  async function attach(): Promise<Attached> {
    const client = await JanusWsClient.connect(ts.urls.ws);
    clients.push(client);
    return { client, ...(await createAndAttach(client, PACKAGE)) };
  }

  async function sync(p: Attached, body: JsonObject): Promise<JsonObject> {
    const reply = await p.client.request({ janus: 'message', session_id: p.sessionId, handle_id: p.handleId, body });
    expect(reply.janus).to.equal('success');
    return dataOf(reply);
  }

  /** Sends a message; returns its event (after the ack). */
  async function ask(p: Attached, body: JsonObject, jsep?: { type: string; sdp: string }): Promise<JsonObject> {
    const transaction = `b-${Math.random().toString(36).slice(2)}`;
    const ack = await p.client.request({
      janus: 'message', session_id: p.sessionId, handle_id: p.handleId, transaction, body, ...(jsep ? { jsep } : {}),
    });
    expect(ack.janus).to.equal('ack');
    return p.client.next((m) => m.janus === 'event' && m.transaction === transaction, 10000);
  }

  async function watch(): Promise<{ viewer: Attached; peer: NodePeer }> {
    const viewer = await attach();
    const offered = await ask(viewer, { request: 'watch' });
    expect(dataOf(offered)).to.deep.equal({ broadcast: 'offer' });
    const jsep = offered.jsep as JsonObject;
    expect(jsep.type).to.equal('offer');
    for (const kind of ['audio', 'video', 'application']) expect(jsep.sdp as string).to.match(new RegExp(`\r\nm=${kind} `));
    const peer = new NodePeer({ audio: false, video: false, data: true });
    peers.push(peer);
    const answer = await peer.answer({ type: 'offer', sdp: jsep.sdp as string });
    const started = await ask(viewer, { request: 'start' }, answer);
    expect(dataOf(started)).to.deep.equal({ broadcast: 'started' });
    await viewer.client.next((m) => m.janus === 'webrtcup', 10000);
    return { viewer, peer };
  }

  it('relays one publisher to two viewers, data both ways; viewers hear when it ends', async () => {
    const pub = await attach();
    expect(await sync(pub, { request: 'status' })).to.deep.equal({ broadcast: 'status', live: false, viewers: 0 });
    const early = await attach();
    expect(dataOf(await ask(early, { request: 'watch' }))).to.deep.equal({ broadcast: 'event', error_code: 481, error: 'Not live' });

    const publisher = new NodePeer({ audio: true, video: true, data: true });
    peers.push(publisher);
    const published = await ask(pub, { request: 'publish' }, await publisher.offer());
    expect(dataOf(published)).to.deep.equal({ broadcast: 'publishing' });
    await publisher.accept({ type: 'answer', sdp: (published.jsep as JsonObject).sdp as string });
    await pub.client.next((m) => m.janus === 'webrtcup', 10000);
    const second = await attach();
    expect(dataOf(await ask(second, { request: 'publish' }))).to.deep.equal({ broadcast: 'event', error_code: 480, error: 'Already live' });

    const a = await watch();
    const b = await watch();
    await pub.client.next((m) => m.janus === 'event' && dataOf(m).broadcast === 'viewers' && dataOf(m).viewers === 2, 10000);
    expect(await sync(pub, { request: 'status' })).to.deep.equal({ broadcast: 'status', live: true, viewers: 2 });

    for (const v of [a, b]) {
      await waitUntil(() => v.peer.videoFrames >= 30, 20000, 'video frames at a viewer');
      await waitUntil(() => v.peer.audioChunks >= 50, 10000, 'audio at a viewer');
    }
    expect(a.peer.lastFrameSize).to.deep.equal({ width: 320, height: 240 });

    // Publisher -> viewers (relayed by the script's incomingTextData), repeated until every
    // viewer's data channel is up (bounded).
    await waitUntil(() => publisher.channel?.readyState === 'open', 10000, "the publisher's data channel");
    for (let i = 0; i < 100 && (a.peer.dataReceived.length === 0 || b.peer.dataReceived.length === 0); i++) {
      publisher.channel!.send('hello viewers');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(a.peer.dataReceived[0]).to.equal('hello viewers');
    expect(b.peer.dataReceived[0]).to.equal('hello viewers');

    // Viewer -> publisher, tagged with the viewer's number.
    await waitUntil(() => a.peer.channel?.readyState === 'open', 10000, "a viewer's data channel");
    for (let i = 0; i < 100 && publisher.dataReceived.length === 0; i++) {
      a.peer.channel!.send('hi from a');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(publisher.dataReceived[0]).to.match(/^\[viewer \d+\] hi from a$/);

    // A viewer stops: the publisher hears the new count.
    expect(dataOf(await ask(b.viewer, { request: 'stop' }))).to.deep.equal({ broadcast: 'stopped' });
    await pub.client.next((m) => m.janus === 'event' && dataOf(m).broadcast === 'viewers' && dataOf(m).viewers === 1, 10000);

    // The publisher stops: the remaining viewer is told, its media stops.
    expect(dataOf(await ask(pub, { request: 'stop' }))).to.deep.equal({ broadcast: 'stopped' });
    await a.viewer.client.next((m) => m.janus === 'event' && dataOf(m).broadcast === 'ended', 10000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const frames = a.peer.videoFrames;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(a.peer.videoFrames - frames).to.be.below(3);
    expect(await sync(pub, { request: 'status' })).to.deep.equal({ broadcast: 'status', live: false, viewers: 0 });
  });
});
