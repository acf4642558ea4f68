// The raw RTP path (docs/contract.md §1: incomingRtp / relayRtp) with real media: a Lua script
// that defines incomingRtp gets a libwebrtc peer's audio and video packets and sends each one
// back with relayRtp; the peer decodes what comes back. The script makes no addRecipient, so
// the built-in relay plays no part: only the raw path can bring the media back.

import { expect } from 'chai';
import { silentLogger } from '../src/log';
import type { JsonObject } from '../src/plugin/json';
import { createLuaPlugin } from '../src/script/lua-plugin';
import type { ScriptPlugin } from '../src/script/script-plugin';
import { FakeHost, fixtureScript, waitFor } from './lua-fixtures';
import type { MediasoupMediaPlane } from '../src/media/plane';
import { raceFirstAnswer } from './support/answer-race';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { closeScene, startMediaScene, workerOf } from './support/media-server';
import type { TestServer } from './support/test-server';
import { NodePeer, waitUntil } from './support/wrtc-peer';

/** Reads until `done` holds or `ms` pass; resolves the last reading (the caller asserts on it). */
async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

/** Sends the peer's offer to the echo script and applies its answer; resolves on webrtcup. */
async function negotiate(client: JanusWsClient, ids: { sessionId: number; handleId: number }, peer: NodePeer, transaction: string): Promise<void> {
  const offer = await peer.offer();
  const ack = await client.request({ janus: 'message', session_id: ids.sessionId, handle_id: ids.handleId, transaction, body: { request: 'offer' }, jsep: offer as unknown as JsonObject });
  expect(ack.janus).to.equal('ack');
  const event = await client.next((m) => m.janus === 'event' && m.transaction === transaction, 8000);
  await peer.accept({ type: 'answer', sdp: (event.jsep as JsonObject).sdp as string });
  await client.next((m) => m.janus === 'webrtcup' && m.sender === ids.handleId, 8000);
}

describe('media: raw RTP through a script (incomingRtp + relayRtp) with a libwebrtc peer', function () {
  this.timeout(60000);
  let media: MediasoupMediaPlane;
  let ts: TestServer;
  let plugin: ScriptPlugin;
  let client: JanusWsClient | undefined;
  let peer: NodePeer | undefined;

  before(async () => {
    plugin = createLuaPlugin(fixtureScript('rtp-echo.lua'), silentLogger());
    ({ media, ts } = await startMediaScene(plugin, 1));
  });

  after(() => closeScene({ peer, client, ts, media }));

  it('echoes audio and video through the script; the peer decodes them', async () => {
    client = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.rtpecho');
    peer = new NodePeer({ audio: true, video: true });
    await negotiate(client, { sessionId, handleId }, peer, 'raw-1');

    await waitUntil(() => peer!.videoFrames >= 30, 20000, 'echoed video frames (raw path)');
    await waitUntil(() => peer!.audioChunks >= 50, 10000, 'echoed audio (raw path)');
    expect(peer.lastFrameSize).to.deep.equal({ width: 320, height: 240 });
    const counts = (await plugin.querySession({ id: handleId, sessionId })) as { audio: number; video: number; relayed: number };
    expect(counts.audio).to.be.greaterThan(50);
    expect(counts.video).to.be.greaterThan(30);
    expect(counts.relayed).to.equal(counts.audio + counts.video);
    expect(plugin.droppedRtpPackets).to.equal(0);
    console.log(`      echoed through the script: ${counts.audio} audio and ${counts.video} video packets`);
  });

  // The tap's Consumer made while a detach closes the DirectTransport (its consume request went
  // out before, its answer is read after): nothing else could close it. Deterministic: the
  // first consume's answer is held until the detach has unregistered the user.
  it('closes a tap whose DirectTransport went while the worker made it', async () => {
    const racer = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId, handleId } = await createAndAttach(racer, 'janus.plugin.rtpecho');
    const users = (media.router as unknown as { users: Map<number, unknown> }).users;
    const race = raceFirstAnswer('transport.consume', async () => {
      racer.send({ janus: 'detach', session_id: sessionId, handle_id: handleId, transaction: 'racing-detach' });
      await waitUntil(() => !users.has(handleId), 5000, 'the user unregistered by detach');
    });
    const racingPeer = new NodePeer({ audio: true, video: true });
    try {
      const offer = await racingPeer.offer();
      await racer.request({ janus: 'message', session_id: sessionId, handle_id: handleId, transaction: 'race', body: { request: 'offer' }, jsep: offer as unknown as JsonObject });
      const event = await racer.next((m) => m.janus === 'event' && m.transaction === 'race', 8000);
      await racingPeer.accept({ type: 'answer', sdp: (event.jsep as JsonObject).sdp as string });
      await racer.next((m) => m.janus === 'detached' && m.sender === handleId, 10000);
      await waitUntil(() => race.made.length > 0 && race.made.every((c) => c.closed), 5000, 'the taps closed');
    } finally {
      race.restore();
      racingPeer.close();
      await racer.close();
    }
    expect(race.held).to.equal(1);
  });

  it('measures what one script thread takes: packets/s through incomingRtp + relayRtp (recording host)', async () => {
    const host = new FakeHost(true);
    const counting = createLuaPlugin(fixtureScript('rtp-echo.lua'), silentLogger());
    await counting.init(host);
    try {
      const handle = { id: 77, sessionId: 1 };
      await counting.createSession(handle);
      // A VP8-sized RTP packet (version 2, SSRC 1234); bursts below the in-flight bound.
      const packet = new Uint8Array(1100);
      packet[0] = 0x80;
      packet[1] = 96;
      new DataView(packet.buffer).setUint32(8, 1234);
      const bursts = 20;
      const burst = 500;
      const relayed = (): number => host.media.calls.filter((c) => c[0] === 'relayRtp').length;
      // One burst to warm up (JIT), not timed.
      for (let j = 0; j < burst; j++) counting.incomingRtp(handle, true, packet);
      await waitFor(() => relayed() >= burst, 30000, 'warm-up burst');
      const started = process.hrtime.bigint();
      for (let i = 1; i <= bursts; i++) {
        for (let j = 0; j < burst; j++) counting.incomingRtp(handle, true, packet);
        await waitFor(() => relayed() >= (i + 1) * burst, 30000, `burst ${i}`);
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rate = Math.round((bursts * burst) / seconds);
      expect(counting.droppedRtpPackets).to.equal(0);
      expect(rate).to.be.greaterThan(500);
      console.log(`      one Lua script thread: ${rate} packets/s of 1100 bytes through incomingRtp + relayRtp (${bursts * burst} in ${seconds.toFixed(2)} s)`);
    } finally {
      await counting.destroy();
    }
  });
});

describe('media: the raw path follows the user onto a new router (its worker died)', function () {
  this.timeout(90000);
  let media: MediasoupMediaPlane;
  let ts: TestServer;
  let plugin: ScriptPlugin;
  let client: JanusWsClient | undefined;
  let peer: NodePeer | undefined;

  before(async () => {
    plugin = createLuaPlugin(fixtureScript('rtp-echo.lua'), silentLogger());
    ({ media, ts } = await startMediaScene(plugin, 2));
  });

  after(() => closeScene({ peer, client, ts, media }));

  it('taps the user again after a new negotiation on the replacement router; the echo comes back', async () => {
    client = await JanusWsClient.connect(ts.urls.ws);
    const ids = await createAndAttach(client, 'janus.plugin.rtpecho');
    peer = new NodePeer({ audio: true, video: true });
    await negotiate(client, ids, peer, 'raw-crash-1');
    await waitUntil(() => peer!.videoFrames >= 10, 20000, 'echoed video before the crash');

    process.kill(await workerOf(ts, media, ids), 'SIGKILL');
    await client.next((m) => m.janus === 'hangup' && m.sender === ids.handleId, 10000);
    const before = (await plugin.querySession({ id: ids.handleId, sessionId: ids.sessionId })) as { video: number };

    peer.close();
    peer = new NodePeer({ audio: true, video: true });
    await negotiate(client, ids, peer, 'raw-crash-2');
    // Only incomingRtp + relayRtp bring media back (the script adds no recipient).
    await waitUntil(() => peer!.videoFrames >= 30, 20000, 'echoed video after renegotiating on another router');
    await waitUntil(() => peer!.audioChunks >= 50, 10000, 'echoed audio after renegotiating on another router');
    const after = (await plugin.querySession({ id: ids.handleId, sessionId: ids.sessionId })) as { video: number };
    expect(after.video).to.be.greaterThan(before.video + 30);
  });
});

describe('media: raw RTCP through a script (incomingRtcp + relayRtcp) with a libwebrtc peer', function () {
  this.timeout(90000);
  let media: MediasoupMediaPlane;
  let ts: TestServer;
  let plugin: ScriptPlugin;
  let client: JanusWsClient | undefined;
  let peer: NodePeer | undefined;
  let ids: { sessionId: number; handleId: number };

  interface RtcpCounts {
    video: number;
    rtcp: number;
    rtcpVideo: number;
    rtcpAudio: number;
    /** "<medium>:<PT>" or "<medium>:<PT>/<FMT>" → parts seen. */
    types: Record<string, number>;
    keyframeRequests: number;
    last: string;
    relayedRtcp: number;
    kicks: number;
  }
  const counts = async (): Promise<RtcpCounts> => (await plugin.querySession({ id: ids.handleId, sessionId: ids.sessionId })) as unknown as RtcpCounts;
  const ask = async (body: JsonObject): Promise<JsonObject> => {
    const reply = await client!.request({ janus: 'message', session_id: ids.sessionId, handle_id: ids.handleId, body });
    return (reply.plugindata as JsonObject).data as JsonObject;
  };
  /** Waits for 1.5 s without key frame requests reaching the peer's video sender; resolves its stats then. */
  const quietSender = async (): Promise<{ pliCount: number; firCount: number; keyFramesEncoded: number }> => {
    let stats = await peer!.outboundVideoStats();
    const quietDeadline = Date.now() + 20000;
    for (let quietSince = Date.now(); Date.now() - quietSince < 1500; ) {
      expect(Date.now(), 'a quiet moment without key frame requests').to.be.below(quietDeadline);
      await new Promise((resolve) => setTimeout(resolve, 250));
      const next = await peer!.outboundVideoStats();
      if (next.pliCount + next.firCount !== stats.pliCount + stats.firCount) quietSince = Date.now();
      stats = next;
    }
    return stats;
  };

  before(async () => {
    plugin = createLuaPlugin(fixtureScript('rtcp-echo.lua'), silentLogger());
    ({ media, ts } = await startMediaScene(plugin, 1));
    client = await JanusWsClient.connect(ts.urls.ws);
    ids = await createAndAttach(client, 'janus.plugin.rtcpecho');
    peer = new NodePeer({ audio: true, video: true });
    await negotiate(client, ids, peer, 'rtcp-1');
    await waitUntil(() => peer!.videoFrames >= 10, 20000, 'echoed video (raw path)');
  });

  after(() => closeScene({ peer, client, ts, media }));

  it("hands the peer's own RTCP to incomingRtcp: its sender reports (PT 200) and receiver reports, per medium", async () => {
    // libwebrtc sends an SR per sending stream about every second (video) / 5 s (audio).
    const start = { at: Date.now(), rtcp: (await counts()).rtcp };
    const now = await pollUntil(counts, (c) => (c.types['video:200'] ?? 0) > 0 && (c.types['audio:200'] ?? 0) > 0, 15000);
    expect(now.types['video:200'], 'SRs of the video stream').to.be.greaterThan(0);
    expect(now.types['audio:200'], 'SRs of the audio stream').to.be.greaterThan(0);
    expect(now.rtcpVideo + now.rtcpAudio).to.equal(now.rtcp);
    const last = Buffer.from(now.last, 'hex');
    expect(last[0]! >> 6, 'RTCP version').to.equal(2);
    expect(last[1]).to.be.within(192, 223);
    expect(plugin.droppedRtcpPackets).to.equal(0);
    // The rate over at least 3 s.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, start.at + 3000 - Date.now())));
    const end = await counts();
    const rate = (end.rtcp - start.rtcp) / ((Date.now() - start.at) / 1000);
    console.log(`      incomingRtcp got ${now.rtcp} compound packets (~${rate.toFixed(0)}/s, one user sending and receiving audio + video): ${JSON.stringify(now.types)}`);
  });

  it("hands the peer's key frame requests to incomingRtcp; relaying them back makes the echo recover", async () => {
    await ask({ request: 'forward', forward: true });
    // After the script's own key frame requests (its first three seconds), so only the peer can ask.
    await pollUntil(counts, (c) => c.kicks >= 3, 10000);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const before = await counts();
    // Lost video packets the peer cannot get back: it asks for a key frame (PLI).
    await ask({ request: 'drop', count: 5 });
    const now = await pollUntil(counts, (c) => c.keyframeRequests > before.keyframeRequests && c.relayedRtcp > before.relayedRtcp, 20000);
    expect(now.keyframeRequests, 'PLI/FIR from the peer reached incomingRtcp').to.be.greaterThan(before.keyframeRequests);
    expect(now.relayedRtcp).to.be.greaterThan(before.relayedRtcp);
    const frames = peer!.videoFrames;
    await waitUntil(() => peer!.videoFrames >= frames + 30, 15000, 'echoed video after the key frame');
  });

  it("sends relayed PLIs to the peer with its video SSRC: five in one compound, five counted by the peer's sender", async () => {
    await ask({ request: 'forward', forward: false });
    const stats = await quietSender();
    const dropped = media.router.droppedRelayedRtcp;
    expect((await ask({ request: 'pli', count: 5 })).result).to.equal(0);
    const after = await pollUntil(
      () => peer!.outboundVideoStats(),
      (s) => s.pliCount >= stats.pliCount + 5 && s.keyFramesEncoded > stats.keyFramesEncoded,
      5000,
    );
    // mediasoup's own key frame requests would be one (a pending request absorbs the others).
    expect(after.pliCount - stats.pliCount, "PLIs the peer's sender got").to.be.at.least(5);
    expect(after.keyFramesEncoded, 'key frames the peer encoded').to.be.greaterThan(stats.keyFramesEncoded);
    expect(media.router.droppedRelayedRtcp).to.equal(dropped);
  });

  it('strips (and counts) what the server makes itself, such as an SR, as Janus does', async () => {
    const dropped = media.router.droppedRelayedRtcp;
    expect((await ask({ request: 'sr' })).result).to.equal(0);
    expect(media.router.droppedRelayedRtcp).to.equal(dropped + 1);
  });

  it("sends a relayed REMB to the peer: its sender's estimate drops to the REMB's 300 kbps and stays there", async () => {
    /** The peer's send-side bandwidth estimate (the selected candidate pair's availableOutgoingBitrate). */
    const estimate = async (): Promise<number> => {
      let bitrate = 0;
      (await peer!.pc.getStats()).forEach((stat) => {
        if (stat.type === 'candidate-pair' && stat.nominated && stat.availableOutgoingBitrate !== undefined) bitrate = Number(stat.availableOutgoingBitrate);
      });
      return bitrate;
    };
    const before = await pollUntil(estimate, (b) => b > 400000, 15000);
    expect(before, 'the estimate before (above the REMB)').to.be.greaterThan(400000);
    const dropped = media.router.droppedRelayedRtcp;
    expect((await ask({ request: 'remb' })).result).to.equal(0);
    expect(media.router.droppedRelayedRtcp).to.equal(dropped);
    const capped = await pollUntil(estimate, (b) => b > 0 && b <= 300000, 5000);
    expect(capped, 'the estimate after the REMB').to.be.within(1, 300000);
    // mediasoup's own REMB every 1.5 s repeats the relayed value instead of undoing it.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(await estimate(), 'the estimate 3.5 s later').to.be.within(1, 300000);
    // The handle's own cap (setBitrate) is not what the script relayed.
    expect(media.router.describe(ids.handleId)?.bitrate).to.equal(0);
  });
});
