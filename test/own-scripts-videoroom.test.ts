// Our own lua/videoroom.lua (legacy requests, then the Janus 1.x API), driven through the real Janus API
// (WebSocket transport, core, Lua plugin on Fengari) with the fake media plane: one
// WebSocket client per participant, real recorded offers (anonymised as the core does).

import { expect } from 'chai';
import type { JsonObject } from '../src/plugin/json';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { OUR_SESSION_LINES, anonymisedOffer, ourChromeAnswerMedia } from './fixtures/sdp/fixtures';
import { ourScript, scriptConfig, LEGACY_VIDEOROOM_CONFIG } from './lua-fixtures';
import { FAKE_MERGE_MARK, type FakeMediaPlane } from './support/fake-media-plane';
import { JanusWsClient, createAndAttach, delay } from './support/janus-ws-client';
import { captureLogger } from './support/log-capture';
import { type TestServer, startTestServer } from './support/test-server';

const VIDEOROOM = ourScript('videoroom.lua');
const PACKAGE = 'janus.plugin.lua';

// The publisher's answer to the anonymised Chromium offer: sendrecv was turned into
// sendonly before answering, so we say recvonly; opus and VP8 (the room's codecs).
const PUBLISHER_ANSWER = [
  ...OUR_SESSION_LINES,
  ...ourChromeAnswerMedia('recvonly'),
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  '',
].join('\r\n');
// What a subscriber is offered with offer_data:false: the same, seen from the sender.
const SUBSCRIBER_OFFER = [...OUR_SESSION_LINES, ...ourChromeAnswerMedia('sendonly'), ''].join('\r\n');

/** One participant: its own WebSocket, Janus session and handle on the videoroom. */
class Participant {
  private counter = 0;
  private constructor(
    readonly client: JanusWsClient,
    readonly sessionId: number,
    readonly handleId: number,
    private readonly pkg: string,
  ) {}

  static async connect(ts: TestServer, pkg = PACKAGE): Promise<Participant> {
    const client = await JanusWsClient.connect(ts.urls.ws);
    const { sessionId, handleId } = await createAndAttach(client, pkg);
    return new Participant(client, sessionId, handleId, pkg);
  }

  private send(body: JsonObject, jsep?: JsonObject): { transaction: string; reply: Promise<JsonObject> } {
    const transaction = `vr-${this.handleId}-${++this.counter}`;
    const reply = this.client.request({
      janus: 'message', session_id: this.sessionId, handle_id: this.handleId, transaction, body, ...(jsep ? { jsep } : {}),
    });
    return { transaction, reply };
  }

  /** A synchronous request: returns plugindata.data of the success. */
  async sync(body: JsonObject): Promise<JsonObject> {
    const reply = await this.send(body).reply;
    expect(reply.janus, JSON.stringify(reply)).to.equal('success');
    expect(reply.sender).to.equal(this.handleId);
    expect((reply.plugindata as JsonObject).plugin).to.equal(this.pkg);
    return (reply.plugindata as JsonObject).data as JsonObject;
  }

  /** An asynchronous request: expects the ack, returns the event on the same transaction. */
  async async(body: JsonObject, jsep?: JsonObject): Promise<{ data: JsonObject; jsep?: JsonObject }> {
    const { transaction, reply } = this.send(body, jsep);
    expect(await reply).to.deep.equal({ janus: 'ack', session_id: this.sessionId, transaction });
    const event = await this.client.next((m) => m.janus === 'event' && m.transaction === transaction);
    expect(event.sender).to.equal(this.handleId);
    return { data: (event.plugindata as JsonObject).data as JsonObject, jsep: event.jsep as JsonObject | undefined };
  }

  /** The next unsolicited plugin event (no transaction). */
  async unsolicited(): Promise<JsonObject> {
    const event = await this.client.next((m) => m.janus === 'event' && m.transaction === undefined);
    return (event.plugindata as JsonObject).data as JsonObject;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Waits (bounded) until the fake router has recorded every call in `calls`. */
async function routerCalls(media: FakeMediaPlane, calls: string[], timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!calls.every((c) => media.routerCalls.includes(c))) {
    if (Date.now() > deadline) throw new Error(`missing ${JSON.stringify(calls)}; calls: ${JSON.stringify(media.routerCalls)}`);
    await delay(10);
  }
}

describe('own scripts: lua/videoroom.lua through the Janus API', function () {
  this.timeout(20000);
  let ts: TestServer;
  let media: FakeMediaPlane;
  const participants: Participant[] = [];

  async function participant(): Promise<Participant> {
    const p = await Participant.connect(ts);
    participants.push(p);
    return p;
  }

  before(async () => {
    ts = await startTestServer({ plugins: [createLuaPlugin(scriptConfig(VIDEOROOM, { config: LEGACY_VIDEOROOM_CONFIG }), captureLogger().logger)] });
    media = ts.mediaPlane as FakeMediaPlane;
  });

  afterEach(async () => {
    await Promise.all(participants.splice(0).map((p) => p.close()));
  });

  after(async () => {
    await ts?.close();
  });

  it('creates, lists, checks and destroys rooms synchronously', async () => {
    const admin = await participant();
    expect(await admin.sync({ request: 'create', room: 4321, description: 'sync', secret: 's3' }))
      .to.deep.equal({ videoroom: 'created', room: 4321, permanent: false });
    expect(await admin.sync({ request: 'create', room: 4321 }))
      .to.deep.equal({ videoroom: 'error', error_code: 427, error: 'Room exists' });
    expect(await admin.sync({ request: 'exists', room: 4321 })).to.deep.equal({ videoroom: 'success', room: 4321, exists: true });
    expect(await admin.sync({ request: 'exists', room: 1 })).to.deep.equal({ videoroom: 'success', room: 1, exists: false });
    expect(await admin.sync({ request: 'list' })).to.deep.equal({
      videoroom: 'success',
      list: [{
        room: 4321, description: 'sync', pin_required: false, is_private: false, max_publishers: 3, bitrate: 0, fir_freq: 0,
        audiocodec: 'opus', videocodec: 'vp8', require_pvtid: false, require_e2ee: false, notify_joining: false,
        record: false, lock_record: false, num_participants: 0,
      }],
    });
    expect(await admin.sync({ request: 'listparticipants', room: 4321 }))
      .to.deep.equal({ videoroom: 'participants', room: 4321, participants: [] });
    expect(await admin.sync({ request: 'listparticipants', room: 1 }))
      .to.deep.equal({ videoroom: 'error', error_code: 426, error: 'No such room' });
    expect(await admin.sync({ request: 'destroy', room: 4321, secret: 'wrong' }))
      .to.deep.equal({ videoroom: 'error', error_code: 433, error: 'Unauthorized (wrong secret)' });
    expect(await admin.sync({ request: 'destroy', room: 4321, secret: 's3' })).to.deep.equal({ videoroom: 'destroyed', room: 4321, permanent: false });
    expect(await admin.sync({ request: 'list' })).to.deep.equal({ videoroom: 'success', list: [] });
    expect(await admin.sync({ request: 'keyframe' }))
      .to.deep.equal({ videoroom: 'error', error_code: 423, error: 'Unknown request' });
  });

  it('generates a room id in the 31-bit range when none is given', async () => {
    const admin = await participant();
    const created = await admin.sync({ request: 'create' });
    expect(created.videoroom).to.equal('created');
    expect(created.room).to.be.a('number').within(1, 2 ** 31 - 1);
    expect(Number.isInteger(created.room)).to.equal(true);
    expect(await admin.sync({ request: 'destroy', room: created.room })).to.deep.equal({ videoroom: 'destroyed', room: created.room, permanent: false });
  });

  it('runs a publisher, a second participant and a subscriber through the legacy flow', async () => {
    const alice = await participant();
    const bob = await participant();
    const carol = await participant();
    expect(await alice.sync({ request: 'create', room: 1234, description: 'demo' })).to.deep.equal({ videoroom: 'created', room: 1234, permanent: false });

    // Publishers join: nobody is publishing yet.
    const aliceJoined = await alice.async({ request: 'join', room: 1234, ptype: 'publisher', display: 'alice', id: 11 });
    expect(aliceJoined.jsep).to.equal(undefined);
    const privateId = aliceJoined.data.private_id;
    expect(privateId).to.be.a('number').within(1, 2 ** 31 - 1);
    expect(aliceJoined.data).to.deep.equal({
      videoroom: 'joined', room: 1234, description: 'demo', id: 11, private_id: privateId, publishers: [],
    });
    const bobJoined = await bob.async({ request: 'join', room: 1234, ptype: 'publisher', display: 'bob', id: 22 });
    expect(bobJoined.data.publishers).to.deep.equal([]);
    expect((await carol.async({ request: 'join', room: 1234, ptype: 'publisher', id: 22 })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 436, error: 'User ID already exists' });
    expect((await bob.async({ request: 'join', room: 1234, ptype: 'publisher' })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 425, error: 'Already in as a publisher on this handle' });

    // Alice publishes: answer with recvonly, codecs in the event.
    const published = await alice.async(
      { request: 'configure', audio: true, video: true },
      { type: 'offer', sdp: anonymisedOffer('chrome-offer.sdp') },
    );
    const aliceStreams = [
      { type: 'audio', mindex: 0, mid: '0', codec: 'opus' },
      { type: 'video', mindex: 1, mid: '1', codec: 'vp8' },
      { type: 'data', mindex: 2, mid: '2' },
    ];
    expect(published.data).to.deep.equal({
      videoroom: 'event', room: 1234, configured: 'ok', audio_codec: 'opus', video_codec: 'vp8', streams: aliceStreams,
    });
    expect(published.jsep).to.deep.equal({ type: 'answer', sdp: `${PUBLISHER_ANSWER}${FAKE_MERGE_MARK}\r\n` });
    expect(media.routerCalls).to.include.members([
      `configureMedium(${alice.handleId},audio,out,true)`,
      `configureMedium(${alice.handleId},video,in,false)`,
      `sendPli(${alice.handleId})`,
    ]);

    // Nobody can subscribe before her PeerConnection is up.
    expect((await carol.async({ request: 'join', room: 1234, ptype: 'subscriber', feed: 11 })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 428, error: 'No such feed' });

    // Her PeerConnection comes up: the others hear about the new publisher.
    media.peer(alice.handleId).events.connected();
    await alice.client.next((m) => m.janus === 'webrtcup');
    expect(await bob.unsolicited()).to.deep.equal({
      videoroom: 'event', room: 1234,
      publishers: [{ id: 11, display: 'alice', audio_codec: 'opus', video_codec: 'vp8', streams: aliceStreams }],
    });
    expect(await bob.sync({ request: 'listparticipants', room: 1234 })).to.deep.equal({
      videoroom: 'participants', room: 1234,
      participants: [{ id: 11, display: 'alice', publisher: true }, { id: 22, display: 'bob', publisher: false }],
    });

    // Carol subscribes without data: offer built from Alice's answer, sendonly.
    const attached = await carol.async({ request: 'join', room: 1234, ptype: 'subscriber', feed: 11, private_id: privateId, offer_data: false });
    const stream = { active: true, ready: false, send: true, feed_id: 11, feed_display: 'alice' };
    expect(attached.data).to.deep.equal({
      videoroom: 'attached', room: 1234, id: 11, display: 'alice',
      streams: [
        { type: 'audio', mindex: 0, mid: '0', feed_mid: '0', codec: 'opus', ...stream },
        { type: 'video', mindex: 1, mid: '1', feed_mid: '1', codec: 'vp8', ...stream },
      ],
    });
    expect(attached.jsep).to.deep.equal({ type: 'offer', sdp: `${SUBSCRIBER_OFFER}${FAKE_MERGE_MARK}\r\n` });
    expect(media.routerCalls).to.include.members([
      `configureMedium(${carol.handleId},audio,in,true)`,
      `configureMedium(${carol.handleId},video,in,true)`,
      `configureMedium(${carol.handleId},data,in,false)`,
      `configureMedium(${carol.handleId},video,out,false)`,
    ]);
    expect((await carol.async({ request: 'publish' })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 423, error: 'Invalid request' });

    // Carol starts with her answer; once her PeerConnection is up she is fed, with a keyframe.
    const answer = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=recvonly\r\n';
    expect((await carol.async({ request: 'start', room: 1234 }, { type: 'answer', sdp: answer })).data)
      .to.deep.equal({ videoroom: 'event', room: 1234, started: 'ok' });
    media.routerCalls.length = 0;
    media.peer(carol.handleId).events.connected();
    await routerCalls(media, [`addRecipient(${alice.handleId},${carol.handleId})`, `sendPli(${alice.handleId})`]);
    expect(media.routerCalls.indexOf(`addRecipient(${alice.handleId},${carol.handleId})`))
      .to.be.below(media.routerCalls.indexOf(`sendPli(${alice.handleId})`));

    // Alice leaves: Bob hears she unpublished and left; Carol is unlinked; Alice's PC closes.
    media.routerCalls.length = 0;
    expect((await alice.async({ request: 'leave' })).data).to.deep.equal({ videoroom: 'event', room: 1234, leaving: 'ok' });
    expect(await bob.unsolicited()).to.deep.equal({ videoroom: 'event', room: 1234, unpublished: 11 });
    expect(await bob.unsolicited()).to.deep.equal({ videoroom: 'event', room: 1234, leaving: 11 });
    expect(media.routerCalls).to.include(`removeRecipient(${alice.handleId},${carol.handleId})`);
    const hangup = await alice.client.next((m) => m.janus === 'hangup');
    expect(hangup).to.deep.equal({ janus: 'hangup', session_id: alice.sessionId, sender: alice.handleId, reason: 'Close PC' });
    expect(await bob.sync({ request: 'listparticipants', room: 1234 }))
      .to.deep.equal({ videoroom: 'participants', room: 1234, participants: [{ id: 22, display: 'bob', publisher: false }] });
    // No duplicate notifications when the core then calls hangupMedia.
    await delay(100);
    expect(bob.client.untaken().filter((m) => m.janus === 'event')).to.deep.equal([]);

    // Destroying the room tells who is left.
    expect(await alice.sync({ request: 'destroy', room: 1234 })).to.deep.equal({ videoroom: 'destroyed', room: 1234, permanent: false });
    expect(await bob.unsolicited()).to.deep.equal({ videoroom: 'destroyed', room: 1234 });
    expect(await carol.unsolicited()).to.deep.equal({ videoroom: 'destroyed', room: 1234 });
  });

  it('keeps client-chosen ids beyond 32 bits intact (Fengari integers are 32-bit)', async () => {
    const p = await participant();
    const room = 4294967295;
    expect(await p.sync({ request: 'create', room })).to.deep.equal({ videoroom: 'created', room, permanent: false });
    expect(await p.sync({ request: 'exists', room })).to.deep.equal({ videoroom: 'success', room, exists: true });
    const joined = await p.async({ request: 'join', room, ptype: 'publisher', id: 5_000_000_000, display: 'big' });
    expect(joined.data).to.deep.equal({
      videoroom: 'joined', room, id: 5_000_000_000, private_id: joined.data.private_id, publishers: [],
    });
    expect((await p.async({ request: 'leave' })).data).to.deep.equal({ videoroom: 'event', room, leaving: 'ok' });
    expect(await p.sync({ request: 'destroy', room })).to.deep.equal({ videoroom: 'destroyed', room, permanent: false });
  });

  it('lists attendees and announces joins with notify_joining', async () => {
    const first = await participant();
    const second = await participant();
    expect(await first.sync({ request: 'create', room: 55, notify_joining: true })).to.deep.equal({ videoroom: 'created', room: 55, permanent: false });
    const joined = await first.async({ request: 'join', room: 55, ptype: 'publisher', id: 1, display: 'one' });
    expect(joined.data).to.deep.equal({
      videoroom: 'joined', room: 55, id: 1, private_id: joined.data.private_id, publishers: [], attendees: [],
    });
    const joined2 = await second.async({ request: 'join', room: 55, ptype: 'publisher', id: 2, display: 'two' });
    expect(joined2.data).to.deep.equal({
      videoroom: 'joined', room: 55, id: 2, private_id: joined2.data.private_id, publishers: [],
      attendees: [{ id: 1, display: 'one' }],
    });
    expect(await first.unsolicited()).to.deep.equal({ videoroom: 'event', event: 'joining', room: 55, id: 2, display: 'two' });
    // Detaching a participant tells the others it left.
    const detached = await second.client.request({ janus: 'detach', session_id: second.sessionId, handle_id: second.handleId });
    expect(detached.janus).to.equal('success');
    expect(await first.unsolicited()).to.deep.equal({ videoroom: 'event', room: 55, leaving: 2 });
    expect(await first.sync({ request: 'destroy', room: 55 })).to.deep.equal({ videoroom: 'destroyed', room: 55, permanent: false });
  });

  it('switches a started subscriber to another publisher', async () => {
    const a = await participant();
    const b = await participant();
    const sub = await participant();
    expect(await a.sync({ request: 'create', room: 66 })).to.deep.equal({ videoroom: 'created', room: 66, permanent: false });
    for (const [p, id] of [[a, 1], [b, 2]] as const) {
      await p.async({ request: 'join', room: 66, ptype: 'publisher', id });
      await p.async({ request: 'publish' }, { type: 'offer', sdp: anonymisedOffer('chrome-offer.sdp') });
      media.peer(p.handleId).events.connected();
      await p.client.next((m) => m.janus === 'webrtcup');
    }
    const attached = await sub.async({ request: 'join', room: 66, ptype: 'subscriber', feed: 1 });
    expect(attached.data).to.deep.include({ videoroom: 'attached', room: 66, id: 1 });
    expect((attached.data.streams as JsonObject[]).map((st) => st.type)).to.deep.equal(['audio', 'video', 'data']);
    await sub.async({ request: 'start' }, { type: 'answer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' });
    media.peer(sub.handleId).events.connected();
    await routerCalls(media, [`addRecipient(${a.handleId},${sub.handleId})`]);
    media.routerCalls.length = 0;
    expect((await sub.async({ request: 'switch', feed: 2 })).data)
      .to.deep.equal({ videoroom: 'event', room: 66, switched: 'ok', id: 2 });
    expect(media.routerCalls).to.deep.equal([
      `removeRecipient(${a.handleId},${sub.handleId})`,
      `addRecipient(${b.handleId},${sub.handleId})`,
      `sendPli(${b.handleId})`,
    ]);
    expect((await sub.async({ request: 'switch', feed: 3 })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 428, error: 'No such feed' });
    expect(await a.sync({ request: 'destroy', room: 66 })).to.deep.equal({ videoroom: 'destroyed', room: 66, permanent: false });
  });

  it('reports join and request errors as events', async () => {
    const p = await participant();
    expect(await p.sync({ request: 'create', room: 77, require_pvtid: true })).to.deep.equal({ videoroom: 'created', room: 77, permanent: false });
    expect((await p.async({ request: 'join', room: 999, ptype: 'publisher' })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 426, error: 'No such room' });
    expect((await p.async({ request: 'join', room: 77, ptype: 'viewer' })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 430, error: 'Invalid element (ptype)' });
    expect((await p.async({ request: 'join', room: 77, ptype: 'subscriber' })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 429, error: 'Missing element (feed)' });
    expect((await p.async({ request: 'configure', audio: true })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 424, error: 'Join first' });
    expect((await p.async({ request: 'start' })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 423, error: 'Invalid request' });
    // A room requiring private ids refuses subscribers without one.
    const pub = await participant();
    await pub.async({ request: 'join', room: 77, ptype: 'publisher', id: 5 });
    await pub.async({ request: 'publish', videocodec: 'vp8' }, { type: 'offer', sdp: anonymisedOffer('firefox-offer.sdp') });
    media.peer(pub.handleId).events.connected();
    await pub.client.next((m) => m.janus === 'webrtcup');
    expect((await p.async({ request: 'join', room: 77, ptype: 'subscriber', feed: 5 })).data).to.deep.equal({
      videoroom: 'event', error_code: 433, error: 'Unauthorized (this room requires a valid private_id)',
    });
    expect((await pub.async({ request: 'configure', audiocodec: 'pcmu' }, { type: 'offer', sdp: anonymisedOffer('firefox-offer.sdp') })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 430, error: 'Audio codec unavailable in this room' });
    expect((await pub.async({ request: 'unpublish' })).data).to.deep.equal({ videoroom: 'event', room: 77, unpublished: 'ok' });
    expect((await pub.async({ request: 'unpublish' })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 435, error: "Can't unpublish, not published" });
    expect(await p.sync({ request: 'destroy', room: 77 })).to.deep.equal({ videoroom: 'destroyed', room: 77, permanent: false });
  });
});

describe('own scripts: lua/videoroom.lua, the Janus 1.x VideoRoom API (default config)', function () {
  this.timeout(20000);
  let ts: TestServer;
  let media: FakeMediaPlane;
  const participants: Participant[] = [];

  async function participant(): Promise<Participant> {
    const p = await Participant.connect(ts, 'janus.plugin.videoroom');
    participants.push(p);
    return p;
  }

  /** Joins room 1234 as a publisher with `id`, publishes the Chromium offer, PeerConnection up. */
  async function publisher(id: number, display: string): Promise<Participant> {
    const p = await participant();
    const joined = await p.async(
      { request: 'joinandconfigure', room: 1234, ptype: 'publisher', id, display, audio: true, video: true },
      { type: 'offer', sdp: anonymisedOffer('chrome-offer.sdp') },
    );
    expect(joined.data).to.deep.include({ videoroom: 'joined', room: 1234, id, audio_codec: 'opus', video_codec: 'vp8' });
    expect((joined.data.streams as JsonObject[]).map((st) => [st.type, st.mid])).to.deep.equal([['audio', '0'], ['video', '1'], ['data', '2']]);
    expect(joined.jsep?.type).to.equal('answer');
    media.peer(p.handleId).events.connected();
    await p.client.next((m) => m.janus === 'webrtcup');
    return p;
  }

  before(async () => {
    ts = await startTestServer({ plugins: [createLuaPlugin(scriptConfig(VIDEOROOM), captureLogger().logger)] });
    media = ts.mediaPlane as FakeMediaPlane;
  });

  afterEach(async () => {
    await Promise.all(participants.splice(0).map((p) => p.close()));
  });

  after(async () => {
    await ts?.close();
  });

  it('registers as janus.plugin.videoroom with room 1234 as in Janus\'s sample config', async () => {
    const admin = await participant();
    const list = await admin.sync({ request: 'list' });
    expect(list.list).to.deep.equal([{
      room: 1234, description: 'Demo Room', pin_required: false, is_private: false, max_publishers: 6, bitrate: 128000, fir_freq: 10,
      audiocodec: 'opus', videocodec: 'vp8', require_pvtid: false, require_e2ee: false, notify_joining: false,
      record: false, lock_record: false, num_participants: 0,
    }]);
    expect(await admin.sync({ request: 'edit', room: 1234, new_description: 'x' }))
      .to.deep.equal({ videoroom: 'error', error_code: 433, error: 'Unauthorized (wrong secret)' });
    expect(await admin.sync({ request: 'edit', room: 1234, secret: 'adminpwd', new_description: 'Renamed' }))
      .to.deep.equal({ videoroom: 'edited', room: 1234, permanent: false });
    expect(((await admin.sync({ request: 'list' })).list as JsonObject[])[0].description).to.equal('Renamed');
    await admin.sync({ request: 'edit', room: 1234, secret: 'adminpwd', new_description: 'Demo Room' });
  });

  it('subscribes by streams, pauses, sends per stream, switches and updates; one feed per handle', async () => {
    const alice = await publisher(1, 'alice');
    const bob = await publisher(2, 'bob');
    expect(await alice.unsolicited()).to.deep.include({ videoroom: 'event', room: 1234 });
    const carol = await participant();
    expect((await carol.async({ request: 'join', room: 1234, ptype: 'subscriber', streams: [{ feed: 1 }, { feed: 2 }] })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 428, error: "One publisher per subscriber handle: the Lua plugin contract gives a recipient one sender; attach one subscriber handle per feed (luasfu's videoroom.lua)" });

    // Only alice's video (her mid 1).
    media.routerCalls.length = 0;
    const attached = await carol.async({ request: 'join', room: 1234, ptype: 'subscriber', streams: [{ feed: 1, mid: '1' }] });
    expect(attached.data).to.deep.equal({
      videoroom: 'attached', room: 1234,
      streams: [{ type: 'video', active: true, mindex: 0, mid: '0', ready: false, send: true, feed_id: 1, feed_display: 'alice', feed_mid: '1', codec: 'vp8' }],
    });
    expect(attached.jsep?.sdp as string).to.match(/\r\nm=video /).and.not.to.match(/\r\nm=audio /);
    expect(media.routerCalls).to.include.members([
      `configureMedium(${carol.handleId},audio,in,false)`,
      `configureMedium(${carol.handleId},video,in,true)`,
    ]);
    const answer = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\n';
    expect((await carol.async({ request: 'start', room: 1234 }, { type: 'answer', sdp: answer })).data)
      .to.deep.equal({ videoroom: 'event', room: 1234, started: 'ok' });
    media.peer(carol.handleId).events.connected();
    await routerCalls(media, [`addRecipient(${alice.handleId},${carol.handleId})`]);

    // pause / start: nothing relayed in between, a keyframe on resume.
    media.routerCalls.length = 0;
    expect((await carol.async({ request: 'pause' })).data).to.deep.equal({ videoroom: 'event', room: 1234, paused: 'ok' });
    expect(media.routerCalls).to.include(`configureMedium(${carol.handleId},video,in,false)`);
    media.routerCalls.length = 0;
    expect((await carol.async({ request: 'start' })).data).to.deep.equal({ videoroom: 'event', room: 1234, started: 'ok' });
    expect(media.routerCalls).to.include.members([`configureMedium(${carol.handleId},video,in,true)`, `sendPli(${alice.handleId})`]);

    // Per-stream send, simulcast targets.
    media.routerCalls.length = 0;
    await carol.async({ request: 'configure', streams: [{ mid: '0', send: false }] });
    expect(media.routerCalls).to.include(`configureMedium(${carol.handleId},video,in,false)`);
    media.routerCalls.length = 0;
    await carol.async({ request: 'configure', mid: '0', send: true, substream: 1, temporal: 0 });
    expect(media.routerCalls).to.include.members([
      `configureMedium(${carol.handleId},video,in,true)`, `setSubstream(${carol.handleId},1)`, `setTemporalLayer(${carol.handleId},0)`,
    ]);

    // update: the subscribed feed's streams go off and on; another feed is refused.
    const off = await carol.async({ request: 'update', unsubscribe: [{ feed: 1 }] });
    expect(off.data).to.deep.include({ videoroom: 'updated', room: 1234 });
    expect((off.data.streams as JsonObject[])[0].active).to.equal(false);
    const on = await carol.async({ request: 'update', subscribe: [{ feed: 1, mid: '1' }] });
    expect((on.data.streams as JsonObject[])[0].active).to.equal(true);
    expect((await carol.async({ request: 'update', subscribe: [{ feed: 2 }] })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 428, error: "One publisher per subscriber handle: the Lua plugin contract gives a recipient one sender; attach one subscriber handle per feed (luasfu's videoroom.lua)" });

    // switch to bob's video.
    media.routerCalls.length = 0;
    const switched = await carol.async({ request: 'switch', streams: [{ feed: 2, mid: '1', sub_mid: '0' }] });
    expect(switched.data).to.deep.include({ videoroom: 'event', room: 1234, switched: 'ok', changes: 1 });
    expect((switched.data.streams as JsonObject[])[0]).to.deep.include({ feed_id: 2, feed_display: 'bob' });
    expect(media.routerCalls).to.include.members([
      `removeRecipient(${alice.handleId},${carol.handleId})`, `addRecipient(${bob.handleId},${carol.handleId})`,
    ]);
    await alice.async({ request: 'leave' });
    await bob.async({ request: 'leave' });
  });

  it('allowed tokens, kick, listparticipants', async () => {
    const admin = await participant();
    expect(await admin.sync({ request: 'allowed', room: 1234, secret: 'adminpwd', action: 'enable' }))
      .to.deep.equal({ videoroom: 'success', room: 1234, allowed: [] });
    expect(await admin.sync({ request: 'allowed', room: 1234, secret: 'adminpwd', action: 'add', allowed: ['tok'] }))
      .to.deep.equal({ videoroom: 'success', room: 1234, allowed: ['tok'] });
    const dave = await participant();
    expect((await dave.async({ request: 'join', room: 1234, ptype: 'publisher', display: 'dave' })).data)
      .to.deep.equal({ videoroom: 'event', error_code: 433, error: 'Unauthorized (not in the allowed list)' });
    expect((await dave.async({ request: 'join', room: 1234, ptype: 'publisher', display: 'dave', id: 7, token: 'tok' })).data)
      .to.deep.include({ videoroom: 'joined', id: 7 });
    expect(await admin.sync({ request: 'allowed', room: 1234, secret: 'adminpwd', action: 'disable' }))
      .to.deep.equal({ videoroom: 'success', room: 1234 });
    const erin = await participant();
    await erin.async({ request: 'join', room: 1234, ptype: 'publisher', display: 'erin', id: 8 });
    expect(await admin.sync({ request: 'listparticipants', room: 1234 })).to.deep.equal({
      videoroom: 'participants', room: 1234,
      participants: [{ id: 7, display: 'dave', publisher: false }, { id: 8, display: 'erin', publisher: false }],
    });
    expect(await admin.sync({ request: 'kick', room: 1234, id: 7 }))
      .to.deep.equal({ videoroom: 'error', error_code: 433, error: 'Unauthorized (wrong secret)' });
    expect(await admin.sync({ request: 'kick', room: 1234, secret: 'adminpwd', id: 7 })).to.deep.equal({ videoroom: 'success' });
    expect(await dave.unsolicited()).to.deep.equal({ videoroom: 'event', room: 1234, leaving: 'ok', reason: 'kicked' });
    expect(await erin.unsolicited()).to.deep.equal({ videoroom: 'event', room: 1234, leaving: 7 });
    expect(((await admin.sync({ request: 'listparticipants', room: 1234 })).participants as JsonObject[]).map((p) => p.id)).to.deep.equal([8]);
  });
});
