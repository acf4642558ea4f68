// Our own lua/echotest.lua, driven through the real Janus API (WebSocket transport, core,
// Lua plugin on Fengari in its worker) with the fake media plane, which passes the offer
// through to the script and marks the script's answer when it "merges" it. The router calls
// the script makes (configureMedium, addRecipient, ...) are recorded by the fake.

import { expect } from 'chai';
import type { JsonObject } from '../src/plugin/json';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { OUR_SESSION_LINES, anonymisedOffer, ourChromeAnswerMedia } from './fixtures/sdp/fixtures';
import { ourScript, scriptConfig } from './lua-fixtures';
import { FAKE_MERGE_MARK, type FakeMediaPlane } from './support/fake-media-plane';
import { JanusWsClient, createAndAttach, delay } from './support/janus-ws-client';
import { captureLogger } from './support/log-capture';
import { TEST_ADMIN_SECRET, type TestServer, startTestServer } from './support/test-server';

const ECHOTEST = ourScript('echotest.lua');
const PACKAGE = 'janus.plugin.echolua';

/** Waits (bounded) until the fake router has recorded `call`. */
async function routerCall(media: FakeMediaPlane, call: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!media.routerCalls.includes(call)) {
    if (Date.now() > deadline) throw new Error(`no ${call}; calls: ${JSON.stringify(media.routerCalls)}`);
    await delay(10);
  }
}

// Our answer to the anonymised Chromium offer: sendrecv audio and video, the data m-line.
const CHROME_ANSWER = [
  ...OUR_SESSION_LINES,
  ...ourChromeAnswerMedia('sendrecv'),
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  '',
].join('\r\n');

describe('own scripts: lua/echotest.lua through the Janus API', function () {
  this.timeout(20000);
  let ts: TestServer;
  let media: FakeMediaPlane;
  let client: JanusWsClient;
  let sessionId: number;
  let handleId: number;

  before(async () => {
    const plugin = createLuaPlugin(scriptConfig(ECHOTEST), captureLogger().logger);
    ts = await startTestServer({ plugins: [plugin] });
    media = ts.mediaPlane as FakeMediaPlane;
  });

  after(async () => {
    await ts?.close();
  });

  beforeEach(async () => {
    client = await JanusWsClient.connect(ts.urls.ws);
    ({ sessionId, handleId } = await createAndAttach(client, PACKAGE));
    media.routerCalls.length = 0;
  });

  afterEach(async () => {
    await client?.close();
  });

  function message(body: JsonObject, jsep?: JsonObject, transaction = `tx-${Math.random()}`): Promise<JsonObject> {
    return client.request({
      janus: 'message', session_id: sessionId, handle_id: handleId, transaction, body, ...(jsep ? { jsep } : {}),
    });
  }

  it('registers as janus.plugin.echolua with its own name and version', async () => {
    const info = await client.request({ janus: 'info' });
    const plugins = info.plugins as JsonObject;
    expect(plugins[PACKAGE]).to.deep.equal({
      name: 'luasfu Lua EchoTest',
      author: 'luasfu',
      description: "luasfu's echo test in Lua: echoes audio, video and data back",
      version_string: '0.1.0',
      version: 1,
    });
  });

  it('answers a request without JSEP synchronously and applies it', async () => {
    const reply = await message({ audio: true, video: false, bitrate: 256000 });
    expect(reply).to.deep.equal({
      janus: 'success',
      session_id: sessionId,
      transaction: reply.transaction,
      sender: handleId,
      plugindata: { plugin: PACKAGE, data: { echotest: 'response', result: 'ok' } },
    });
    expect(media.routerCalls).to.deep.equal([
      `configureMedium(${handleId},audio,in,true)`,
      `configureMedium(${handleId},audio,out,true)`,
      `configureMedium(${handleId},video,in,false)`,
      `configureMedium(${handleId},video,out,false)`,
      `setBitrate(${handleId},256000)`,
    ]);
  });

  it('acks an offer, then pushes the event with a minimal answer', async () => {
    const transaction = 'offer-1';
    const ack = await message({ audio: true, video: true }, { type: 'offer', sdp: anonymisedOffer('chrome-offer.sdp') }, transaction);
    expect(ack).to.deep.equal({ janus: 'ack', session_id: sessionId, transaction });
    const event = await client.next((m) => m.janus === 'event' && m.transaction === transaction);
    expect(event).to.deep.equal({
      janus: 'event',
      session_id: sessionId,
      transaction,
      sender: handleId,
      plugindata: { plugin: PACKAGE, data: { echotest: 'event', result: 'ok' } },
      jsep: { type: 'answer', sdp: `${CHROME_ANSWER}${FAKE_MERGE_MARK}\r\n` },
    });
    expect(media.routerCalls).to.deep.equal([
      `configureMedium(${handleId},audio,in,true)`,
      `configureMedium(${handleId},audio,out,true)`,
      `configureMedium(${handleId},video,in,true)`,
      `configureMedium(${handleId},video,out,true)`,
      `sendPli(${handleId})`,
    ]);
  });

  it('answers with the requested video codec and profile', async () => {
    await message({ videocodec: 'vp9', videoprofile: '2' }, { type: 'offer', sdp: anonymisedOffer('chrome-offer.sdp') }, 'vp9');
    const event = await client.next((m) => m.janus === 'event' && m.transaction === 'vp9');
    const sdp = (event.jsep as JsonObject).sdp as string;
    expect(sdp).to.match(/\r\nm=video 9 UDP\/TLS\/RTP\/SAVPF 100\r\n/);
    expect(sdp).to.contain('a=rtpmap:100 VP9/90000\r\na=rtcp-fb:100 goog-remb');
    expect(sdp).to.contain('a=fmtp:100 profile-id=2\r\n');
    expect(sdp).not.to.contain('VP8');
  });

  it('answers static payload types, profiles, directions and extra m-lines as Janus does', async () => {
    const offer = [
      'v=0', 'o=- 42 2 IN IP4 1.1.1.1', 's=-', 't=0 0', 'a=extmap-allow-mixed',
      'm=audio 9 UDP/TLS/RTP/SAVPF 0 101', 'c=IN IP4 1.1.1.1', 'a=mid:a', 'a=sendonly',
      'a=extmap:5/sendonly urn:ietf:params:rtp-hdrext:sdes:mid',
      'a=extmap:6 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
      'a=rtpmap:101 telephone-event/8000', 'a=rtcp-mux',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 1.1.1.1', 'a=mid:b', 'a=sendrecv', 'a=rtpmap:111 opus/48000/2',
      'm=video 9 UDP/TLS/RTP/SAVPF 102 108', 'c=IN IP4 1.1.1.1', 'a=mid:v', 'a=recvonly',
      'a=rtpmap:102 H264/90000', 'a=rtcp-fb:102 nack', 'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
      'a=rtpmap:108 H264/90000', 'a=rtcp-fb:108 nack pli', 'a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42E01F',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 1.1.1.1', 'a=mid:d',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 1.1.1.1', 'a=mid:d2',
      '',
    ].join('\r\n');
    await message({ videocodec: 'h264', videoprofile: '42e01f' }, { type: 'offer', sdp: offer }, 'crafted');
    const event = await client.next((m) => m.janus === 'event' && m.transaction === 'crafted');
    expect((event.jsep as JsonObject).sdp).to.equal([
      'v=0', 'o=- 42 2 IN IP4 1.1.1.1', 's=-', 't=0 0', 'a=extmap-allow-mixed',
      'm=audio 9 UDP/TLS/RTP/SAVPF 0', 'a=recvonly', 'a=extmap:5/recvonly urn:ietf:params:rtp-hdrext:sdes:mid', 'a=rtcp-mux',
      'm=audio 0 UDP/TLS/RTP/SAVPF 0', 'a=inactive',
      'm=video 9 UDP/TLS/RTP/SAVPF 108', 'a=sendonly', 'a=rtpmap:108 H264/90000', 'a=rtcp-fb:108 nack pli',
      'a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42E01F',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'm=application 0 UDP/DTLS/SCTP webrtc-datachannel', 'a=inactive',
      FAKE_MERGE_MARK, '',
    ].join('\r\n'));
    // Recording uses what was negotiated, with the H.264 fmtp for the .mjr header.
    media.routerCalls.length = 0;
    await message({ record: true, filename: '/tmp/luasfu-own-crafted' });
    expect(media.routerCalls).to.deep.equal([
      `startRecording(${handleId},[{"type":"audio","codec":"pcmu","filename":"/tmp/luasfu-own-crafted-audio"},` +
        '{"type":"video","codec":"h264","fmtp":"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42E01F",' +
        '"filename":"/tmp/luasfu-own-crafted-video"},{"type":"data","codec":"text","filename":"/tmp/luasfu-own-crafted-data"}])',
    ]);
    await message({ record: false });
  });

  it('answers an offer without m-lines with the session lines only', async () => {
    await message({}, { type: 'offer', sdp: 'v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n' }, 'empty');
    const event = await client.next((m) => m.janus === 'event' && m.transaction === 'empty');
    expect((event.plugindata as JsonObject).data).to.deep.equal({ echotest: 'event', result: 'ok' });
    expect((event.jsep as JsonObject).sdp).to.equal(`v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n${FAKE_MERGE_MARK}\r\n`);
  });

  it('echoes media to itself once the PeerConnection is up, and stops on hangup', async () => {
    await message({ audio: true, video: true }, { type: 'offer', sdp: anonymisedOffer('firefox-offer.sdp') }, 'ff');
    await client.next((m) => m.janus === 'event' && m.transaction === 'ff');
    media.routerCalls.length = 0;
    media.peer(handleId).events.connected();
    await client.next((m) => m.janus === 'webrtcup' && m.sender === handleId);
    await routerCall(media, `addRecipient(${handleId},${handleId})`);
    const hangup = await client.request({ janus: 'hangup', session_id: sessionId, handle_id: handleId });
    expect(hangup.janus).to.equal('success');
    await routerCall(media, `removeRecipient(${handleId},${handleId})`);
    // The core unlinks the handle's recipients itself before hangupMedia; the script's
    // own removeRecipient comes last.
    const links = media.routerCalls.filter((c) => c.includes('Recipient('));
    expect(links[0]).to.equal(`addRecipient(${handleId},${handleId})`);
    expect(links[links.length - 1]).to.equal(`removeRecipient(${handleId},${handleId})`);
    expect(links.filter((c) => c.startsWith('addRecipient'))).to.have.length(1);
  });

  it('echoes text data with a prefix and binary data as is', async () => {
    await message({ data: true }, { type: 'offer', sdp: anonymisedOffer('chrome-offer.sdp') }, 'dc');
    await client.next((m) => m.janus === 'event' && m.transaction === 'dc');
    media.peer(handleId).events.connected();
    await client.next((m) => m.janus === 'webrtcup' && m.sender === handleId);
    // Relaying data is refused until the data channel is ready.
    media.peer(handleId).events.dataReady();
    media.peer(handleId).events.data({ binary: false, payload: 'hello', label: 'chat', protocol: '' });
    media.peer(handleId).events.data({ binary: true, payload: new Uint8Array([1, 2, 255]), label: 'bin', protocol: 'p' });
    await routerCall(media, `relayData(${handleId},{"binary":true,"payload":{"0":1,"1":2,"2":255},"label":"bin","protocol":"p"})`);
    expect(media.routerCalls).to.include(
      `relayData(${handleId},{"binary":false,"payload":"[luasfu echotest] hello","label":"chat","protocol":""})`,
    );
    // With data turned off nothing comes back.
    await message({ data: false });
    media.routerCalls.length = 0;
    media.peer(handleId).events.data({ binary: false, payload: 'quiet', label: 'chat', protocol: '' });
    await delay(100);
    expect(media.routerCalls.filter((c) => c.startsWith('relayData'))).to.deep.equal([]);
  });

  it('shows its session state in Admin handle_info and echoes message_plugin requests', async () => {
    await message({ audio: true, video: false, bitrate: 128000, substream: 2 });
    const admin = await JanusWsClient.connect(ts.urls.adminWs, 'janus-admin-protocol');
    try {
      const info = await admin.request({
        janus: 'handle_info', session_id: sessionId, handle_id: handleId, admin_secret: TEST_ADMIN_SECRET,
      });
      expect((info.info as JsonObject).plugin_specific).to.deep.equal({
        script: 'echotest.lua (luasfu)',
        audio_active: true, video_active: false, data_active: false,
        bitrate: 128000, recording: false, started: false, substream: 2,
      });
      const reply = await admin.request({
        janus: 'message_plugin', plugin: PACKAGE, request: { ping: 'x', n: [1, 2] }, admin_secret: TEST_ADMIN_SECRET,
      });
      expect(reply.response).to.deep.equal({ ping: 'x', n: [1, 2] });
    } finally {
      await admin.close();
    }
  });

  it('sends PLIs for keyframe, substream and temporal requests, and records on request', async () => {
    await message({ keyframe: true, substream: 1, temporal: 0 });
    expect(media.routerCalls).to.deep.equal([
      `setSubstream(${handleId},1)`,
      `sendPli(${handleId})`,
      `setTemporalLayer(${handleId},0)`,
      `sendPli(${handleId})`,
      `sendPli(${handleId})`,
    ]);
    media.routerCalls.length = 0;
    await message({ record: true, filename: '/tmp/luasfu-own-echotest' });
    await message({ record: false });
    expect(media.routerCalls).to.deep.equal([
      `startRecording(${handleId},[{"type":"audio","codec":"opus","filename":"/tmp/luasfu-own-echotest-audio"},` +
        `{"type":"video","codec":"vp8","filename":"/tmp/luasfu-own-echotest-video"},` +
        `{"type":"data","codec":"text","filename":"/tmp/luasfu-own-echotest-data"}])`,
      `stopRecording(${handleId},["audio","video","data"])`,
    ]);
    // Without a filename: luasfu-echotest-<script id>-<epoch ms>, in the server's folder.
    media.routerCalls.length = 0;
    await message({ record: true });
    expect(media.routerCalls).to.have.length(1);
    const match = /^startRecording\(\d+,\[\{"type":"audio","codec":"opus","filename":"luasfu-echotest-(\d+)-(\d+)-audio"\}/.exec(media.routerCalls[0]!);
    expect(match, media.routerCalls[0]).to.not.equal(null);
    expect(Math.abs(Number(match![2]) - Date.now())).to.be.below(10_000);
    await message({ record: false });
  });
});
