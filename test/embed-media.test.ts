// The embedding API with real media: the example service (node:http + ws, luasfu mounted
// through the transport adapter) on real mediasoup; libwebrtc peers in Node; janode as the
// client of a second session. A hot reload of echotest.lua under a live echo session keeps
// its packets arriving while new sessions get the new version.

import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Service, startService } from '../examples/http-ws-service';
import type { ScriptReloadEvent } from '../src/events/server-events';
import type { JsonObject } from '../src/plugin/json';
import { ourScript } from './lua-fixtures';
import { type Janode, type JanodeConnection, type JanodeHandle, loadJanode } from './support/janode';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { captureLogger } from './support/log-capture';
import { NodePeer, waitUntil } from './support/wrtc-peer';

const ECHO = 'janus.plugin.echolua';

interface EchoReply {
  data: JsonObject;
  jsep?: JsonObject;
}

/** A janode handle for echotest.lua: a message resolves with the plugin data (and JSEP) of its reply or event. */
function echoHandleClass(janode: Janode): unknown {
  const Base = janode.Handle as unknown as new (...args: unknown[]) => JanodeHandle;
  return class EchoHandle extends Base {
    handleMessage(message: JsonObject): EchoReply | null {
      const plugindata = message.plugindata as JsonObject | undefined;
      if (!plugindata || plugindata.plugin !== ECHO) return null;
      const reply: EchoReply = { data: plugindata.data as JsonObject };
      if (message.jsep) reply.jsep = message.jsep as JsonObject;
      const transaction = message.transaction;
      if (typeof transaction === 'string' && this.ownsTransaction(transaction)) this.closeTransactionWithSuccess(transaction, reply);
      return reply;
    }
  };
}

/** Counts, every 20 ms, when the peer last got a new video frame and audio chunk: the longest silences. */
class ArrivalWatch {
  maxVideoGapMs = 0;
  maxAudioGapMs = 0;
  private lastVideo: { count: number; at: number };
  private lastAudio: { count: number; at: number };
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly peer: NodePeer) {
    const now = Date.now();
    this.lastVideo = { count: peer.videoFrames, at: now };
    this.lastAudio = { count: peer.audioChunks, at: now };
    this.timer = setInterval(() => this.sample(), 20);
  }

  private sample(): void {
    const now = Date.now();
    if (this.peer.videoFrames !== this.lastVideo.count) this.lastVideo = { count: this.peer.videoFrames, at: now };
    if (this.peer.audioChunks !== this.lastAudio.count) this.lastAudio = { count: this.peer.audioChunks, at: now };
    this.maxVideoGapMs = Math.max(this.maxVideoGapMs, now - this.lastVideo.at);
    this.maxAudioGapMs = Math.max(this.maxAudioGapMs, now - this.lastAudio.at);
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

describe('embedding with media: hot reload under a live echo session, janode through the embedded transport', function () {
  this.timeout(90000);
  let service: Service;
  let dir: string;
  let janode: Janode;
  const peers: NodePeer[] = [];
  const clients: JanusWsClient[] = [];
  let connection: JanodeConnection | undefined;
  const original = readFileSync(ourScript('echotest.lua'), 'utf8');
  const version2 = original
    .replace('function getVersionString() return "0.1.0" end', 'function getVersionString() return "0.2.0" end')
    .replace(`return 0, '{"echotest":"response","result":"ok"}'`, `return 0, '{"echotest":"response","result":"ok","reloaded":true}'`)
    .replace('local DATA_PREFIX = "[luasfu echotest] "', 'local DATA_PREFIX = "[reloaded echotest] "');

  before(async () => {
    expect(version2.match(/reloaded/g)).to.have.length(2);
    janode = await loadJanode();
    dir = mkdtempSync(join(tmpdir(), 'luasfu-embed-media-'));
    writeFileSync(join(dir, 'echotest.lua'), original);
    service = await startService({
      sfu: { scripts: [join(dir, 'echotest.lua')], media: { workers: 1, listenIps: [{ ip: '127.0.0.1' }] }, logger: captureLogger().logger },
    });
  });

  after(async () => {
    for (const peer of peers) peer.close();
    for (const client of clients) await client.close();
    await connection?.close().catch(() => undefined);
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps echoing the live session across the reload; new sessions (janode) get the new version with media', async () => {
    // Session A, on the script as it was.
    const client = await JanusWsClient.connect(`${service.url.replace('http', 'ws')}/sfu/janus`);
    clients.push(client);
    const a = await createAndAttach(client, ECHO);
    const peerA = new NodePeer({ data: true });
    peers.push(peerA);
    const offer = await peerA.offer();
    await client.request({
      janus: 'message', session_id: a.sessionId, handle_id: a.handleId, transaction: 'a-offer',
      body: { audio: true, video: true, data: true }, jsep: { type: offer.type, sdp: offer.sdp },
    });
    const answer = await client.next((m) => m.janus === 'event' && m.transaction === 'a-offer', 10000);
    await peerA.accept({ type: 'answer', sdp: (answer.jsep as JsonObject).sdp as string });
    await client.next((m) => m.janus === 'webrtcup' && m.sender === a.handleId, 10000);
    await waitUntil(() => peerA.videoFrames >= 30 && peerA.audioChunks >= 50, 20000, 'echoed media before the reload');

    // The reload, while A's media flows.
    const watch = new ArrivalWatch(peerA);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const framesBefore = peerA.videoFrames;
    const audioBefore = peerA.audioChunks;
    const reloads: ScriptReloadEvent[] = [];
    service.sfu.on('scriptReload', (event) => reloads.push(event));
    writeFileSync(join(dir, 'echotest.lua'), version2);
    const info = await service.sfu.reloadScript(ECHO);
    expect(info.versionString).to.equal('0.2.0');
    expect(reloads).to.have.length(1);

    // Session B, through janode on the same embedded transport, gets the new version.
    connection = await janode.janode.connect({ address: { url: `${service.url.replace('http', 'ws')}/sfu/janus` }, retry_time_secs: 1, max_retries: 1 });
    const serverInfo = await connection.getInfo();
    expect(((serverInfo.plugins as JsonObject)[ECHO] as JsonObject).version_string).to.equal('0.2.0');
    const session = await connection.create();
    const handle = await session.attach({ id: ECHO, Handle: echoHandleClass(janode) });
    const sync = (await handle.message({ audio: true, video: true })) as EchoReply;
    expect(sync.data).to.deep.equal({ echotest: 'response', result: 'ok', reloaded: true });
    const peerB = new NodePeer({ data: true });
    peers.push(peerB);
    const offerB = await peerB.offer();
    const event = (await handle.message({ audio: true, video: true, data: true }, { type: offerB.type, sdp: offerB.sdp })) as EchoReply;
    expect(event.data).to.deep.equal({ echotest: 'event', result: 'ok' });
    await peerB.accept({ type: 'answer', sdp: event.jsep!.sdp as string });
    await waitUntil(() => peerB.videoFrames >= 30 && peerB.audioChunks >= 50, 20000, 'echoed media on the new version');
    await waitUntil(() => peerB.channel?.readyState === 'open', 10000, 'B data channel open');
    peerB.channel!.send('hi');
    await waitUntil(() => peerB.dataReceived.length > 0, 5000, 'B echoed data');
    expect(peerB.dataReceived[0]).to.equal('[reloaded echotest] hi');

    // A never stopped, and is still served by the old version.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    watch.stop();
    expect(peerA.videoFrames - framesBefore).to.be.above(30);
    expect(peerA.audioChunks - audioBefore).to.be.above(100);
    expect(watch.maxVideoGapMs, 'longest gap between video frames').to.be.below(1500);
    expect(watch.maxAudioGapMs, 'longest gap between audio chunks').to.be.below(1500);
    const old = await client.request({ janus: 'message', session_id: a.sessionId, handle_id: a.handleId, body: { audio: true, video: true } });
    expect((old.plugindata as JsonObject).data).to.deep.equal({ echotest: 'response', result: 'ok' });
    await waitUntil(() => peerA.channel?.readyState === 'open', 10000, 'A data channel open');
    peerA.channel!.send('hello');
    await waitUntil(() => peerA.dataReceived.length > 0, 5000, 'A echoed data');
    expect(peerA.dataReceived[0]).to.equal('[luasfu echotest] hello');
    console.log(`      (reload under media: longest gaps video ${watch.maxVideoGapMs} ms, audio ${watch.maxAudioGapMs} ms)`);
    await session.destroy();
  });
});
