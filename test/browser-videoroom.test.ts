// Acceptance with a real browser: a publisher page and a subscriber page (headless Chromium,
// fake camera and microphone, the real janus.js 1.1.2 with Debian's webrtc-adapter, SDP never
// touched) in a video room run by our lua/videoroom.lua and by Janus's own unmodified
// videoroom.lua (legacy pre-1.0 API, plugin janus.plugin.lua), with the real mediasoup
// media plane.
//
// Publisher page: create room 1234 (sync), join as publisher → joined; configure with an
// offer → configured + answer. Subscriber page: handle "part" joins as a (non-publishing)
// publisher participant, as the demo pages do, so it gets the room's events; handle "sub"
// joins as subscriber of the publisher's feed → attached + offer → createAnswer → start.
// The subscriber's video must play and its audio arrive; when the publisher leaves, the
// participant gets `unpublished` and (on leave or when the publisher's session goes)
// `leaving`, and the subscriber's video stops.

import { expect } from 'chai';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ScriptConfig } from '../src/config';
import {
  type PageMessage, type PageState, expectAudioArriving, expectVideoPlaying, js, send, stats,
} from './browser/echo-session';
import { pollPage, sleep } from './browser/harness';
import { useBrowserRig } from './browser/rig';
import { JANUS_LUA_DIR, ourScript, scriptConfig, LEGACY_VIDEOROOM_CONFIG } from './lua-fixtures';

const OUR_VIDEOROOM = ourScript('videoroom.lua');
const JANUS_VIDEOROOM = join(JANUS_LUA_DIR, 'videoroom.lua');
const PLUGIN = 'janus.plugin.lua';
const ROOM = 1234;

type Msg = Record<string, unknown>;

/** Waits for a message on `handle` (not among `skip`) matching `match`; returns it. */
async function waitMessage(page: Page, handle: string, match: (m: PageMessage) => boolean, what: string, ms = 15000): Promise<PageMessage> {
  const st = await pollPage<PageState>(page, `lsfu.state(${js(handle)})`, (s) => s.messages.some(match), ms, `${handle}: ${what}`);
  return st.messages.find(match)!;
}

async function messages(page: Page, handle: string): Promise<Msg[]> {
  return ((await page.evaluate(`lsfu.state(${js(handle)})`)) as PageState).messages.map((m) => m.msg);
}

function videoroomSuite(title: string, script: () => ScriptConfig): void {
  describe(title, function () {
    this.timeout(120000);
    const rig = useBrowserRig({ script, mediaWorkers: 2, pages: 2 });
    let publisher: Page;
    let subscriber: Page;
    let publisherId: number;
    let participantId: number;
    before(function () {
      [publisher, subscriber] = rig.pages;
    });

    it('publisher page: creates room 1234 (sync), joins as publisher, publishes with an offer and gets the answer', async () => {
      await publisher.evaluate(`lsfu.connect(${js(rig.ts.urls.ws)})`);
      await publisher.evaluate(`lsfu.attach('pub', ${js(PLUGIN)})`);
      const created = await send(publisher, 'pub', { request: 'create', room: ROOM });
      expect(created).to.deep.include({ videoroom: 'created', room: ROOM });

      await send(publisher, 'pub', { request: 'join', room: ROOM, ptype: 'publisher', display: 'alice' });
      const joined = await waitMessage(publisher, 'pub', (m) => m.msg.videoroom === 'joined', 'joined');
      expect(joined.msg).to.deep.include({ videoroom: 'joined', room: ROOM, publishers: [] });
      publisherId = joined.msg.id as number;
      expect(publisherId).to.be.a('number');

      await publisher.evaluate(`(async () => {
        const jsep = await lsfu.offer('pub', [
          { type: 'audio', capture: true, recv: false },
          { type: 'video', capture: true, recv: false },
          { type: 'data' },
        ]);
        await lsfu.send('pub', { request: 'configure', audio: true, video: true }, jsep);
        return true;
      })()`);
      const configured = await waitMessage(publisher, 'pub', (m) => m.jsep !== null, 'configured with the answer');
      expect(configured.msg).to.deep.include({ videoroom: 'event', room: ROOM, configured: 'ok', audio_codec: 'opus', video_codec: 'vp8' });
      expect(configured.jsep!.type).to.equal('answer');
      await publisher.evaluate(`lsfu.remoteJsep('pub', ${js(configured.jsep)})`);
      await pollPage<PageState>(publisher, `lsfu.state('pub')`, (s) => s.webrtc.some((w) => w.on), 15000, 'publisher webrtcup');
      // The browser really sends.
      await pollPage<{ framesEncoded: number }>(publisher, `lsfu.stats('pub')`, (s) => s.framesEncoded > 10, 10000, 'publisher encoding video');
    });

    it('subscriber page: a participant sees the publisher; a subscriber gets attached + offer, answers, starts; video plays and audio arrives', async () => {
      await subscriber.evaluate(`lsfu.connect(${js(rig.ts.urls.ws)})`);
      await subscriber.evaluate(`lsfu.attach('part', ${js(PLUGIN)})`);
      await send(subscriber, 'part', { request: 'join', room: ROOM, ptype: 'publisher', display: 'bob' });
      const joined = await waitMessage(subscriber, 'part', (m) => m.msg.videoroom === 'joined', 'joined');
      participantId = joined.msg.id as number;
      const listed = joined.msg.publishers as Msg[];
      expect(listed).to.have.length(1);
      expect(listed[0]).to.deep.include({ id: publisherId, display: 'alice', audio_codec: 'opus', video_codec: 'vp8' });

      await subscriber.evaluate(`lsfu.attach('sub', ${js(PLUGIN)})`);
      await send(subscriber, 'sub', { request: 'join', room: ROOM, ptype: 'subscriber', feed: publisherId, private_id: joined.msg.private_id });
      const attached = await waitMessage(subscriber, 'sub', (m) => m.msg.videoroom === 'attached', 'attached');
      expect(attached.msg).to.deep.include({ videoroom: 'attached', room: ROOM, id: publisherId, display: 'alice' });
      expect(attached.jsep!.type).to.equal('offer');
      expect(attached.jsep!.sdp).to.match(/^m=video /m);
      expect(attached.jsep!.sdp).to.match(/^m=audio /m);

      await subscriber.evaluate(`(async () => {
        const jsep = await lsfu.answer('sub', ${js(attached.jsep)}, [{ type: 'data' }]);
        await lsfu.send('sub', { request: 'start', room: ${ROOM} }, jsep);
        return true;
      })()`);
      const started = await waitMessage(subscriber, 'sub', (m) => m.msg.started !== undefined, 'started');
      expect(started.msg).to.deep.include({ videoroom: 'event', room: ROOM, started: 'ok' });
      await pollPage<PageState>(subscriber, `lsfu.state('sub')`, (s) => s.webrtc.some((w) => w.on), 15000, 'subscriber webrtcup');

      const video = await expectVideoPlaying(subscriber, 'sub');
      expect(video.videoWidth).to.be.within(160, 640);
      await expectAudioArriving(subscriber, 'sub');
    });

    it('publisher leaves: the participant gets unpublished and leaving for it; the subscriber stops receiving video', async () => {
      await send(publisher, 'pub', { request: 'leave' });
      const left = await waitMessage(publisher, 'pub', (m) => m.msg.leaving === 'ok', 'leaving ok');
      expect(left.msg).to.deep.include({ videoroom: 'event', room: ROOM, leaving: 'ok' });

      const unpublished = await waitMessage(subscriber, 'part', (m) => m.msg.unpublished !== undefined, 'unpublished');
      expect(unpublished.msg).to.deep.include({ videoroom: 'event', room: ROOM, unpublished: publisherId });

      // The subscriber's video stops.
      await sleep(1000);
      const a = await stats(subscriber, 'sub');
      await sleep(2000);
      const b = await stats(subscriber, 'sub');
      expect(b.framesDecoded - a.framesDecoded, 'subscriber frames decoded over 2 s after the publisher left').to.be.lessThan(3);
      expect(b.audioPacketsReceived - a.audioPacketsReceived, 'subscriber audio packets over 2 s after the publisher left').to.be.lessThan(5);

      // `leaving` comes on leave (our script) or when the publisher's session goes (Janus's).
      await publisher.evaluate('lsfu.destroy()');
      const leaving = await waitMessage(subscriber, 'part', (m) => m.msg.leaving !== undefined, 'leaving');
      expect(leaving.msg).to.deep.include({ videoroom: 'event', room: ROOM, leaving: publisherId });
      // Nothing the participant got is about itself.
      for (const m of await messages(subscriber, 'part')) {
        expect(m.unpublished ?? m.leaving ?? publisherId).to.not.equal(participantId);
      }
    });
  });
}

describe('browser: janus.js video room in headless Chromium (publisher and subscriber pages)', function () {
  videoroomSuite('with our lua/videoroom.lua', () => scriptConfig(OUR_VIDEOROOM, { config: LEGACY_VIDEOROOM_CONFIG }));
  videoroomSuite("with Janus's unmodified videoroom.lua",
    () => scriptConfig(JANUS_VIDEOROOM, { modulesPath: JANUS_LUA_DIR }));
});
