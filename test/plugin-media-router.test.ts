// Each plugin's MediaRouter (PluginHost.media) reaches only the handles attached to that
// plugin: two plugins on one core, plugin A naming plugin B's handle is refused with a
// warning, and B's media state stays as it was. Once against the fake media plane (no call
// reaches the plane's router at all), once against real mediasoup (the relay's state of B's
// handle is unchanged).

import { expect } from 'chai';
import type { TransportConnection } from '../src/janus/connection';
import { JanusCore } from '../src/janus/core';
import type { MediasoupMediaPlane } from '../src/media/plane';
import type { JsonObject } from '../src/plugin/json';
import type { MediaPlane } from '../src/plugin/media-plane';
import type { MediaRouter } from '../src/plugin/media';
import { FakeMediaPlane } from './support/fake-media-plane';
import { type CapturedLog, captureLogger } from './support/log-capture';
import { startMediasoup } from './support/media-server';
import { TestPlugin } from './support/test-plugin';

const PACKAGE_A = 'janus.plugin.testa';
const PACKAGE_B = 'janus.plugin.testb';
const REFUSED = 'media call refused';

const connection: TransportConnection = {
  id: 'embedded',
  transport: 'janus.transport.embedded',
  send: () => undefined,
  sessionOver: () => undefined,
};

interface TwoPlugins {
  core: JanusCore;
  log: CapturedLog;
  a: TestPlugin;
  b: TestPlugin;
  /** A handle attached to plugin A, and one attached to plugin B (same session). */
  handleA: number;
  handleB: number;
}

async function twoPlugins(mediaPlane: MediaPlane): Promise<TwoPlugins> {
  const log = captureLogger();
  const core = new JanusCore({ logger: log.logger, mediaPlane });
  const a = new TestPlugin(PACKAGE_A);
  const b = new TestPlugin(PACKAGE_B);
  await core.addPlugin(a);
  await core.addPlugin(b);
  const created = await core.handleRequest(connection, { janus: 'create', transaction: 'c' });
  const sessionId = (created.data as JsonObject).id as number;
  const attach = async (plugin: string): Promise<number> => {
    const reply = await core.handleRequest(connection, { janus: 'attach', session_id: sessionId, plugin, transaction: plugin });
    expect(reply.janus, JSON.stringify(reply)).to.equal('success');
    return (reply.data as JsonObject).id as number;
  };
  return { core, log, a, b, handleA: await attach(PACKAGE_A), handleB: await attach(PACKAGE_B) };
}

function mediaOf(plugin: TestPlugin): MediaRouter {
  if (!plugin.host) throw new Error('plugin not initialised');
  return plugin.host.media;
}

/** Every MediaRouter method, called by `media` on `foreign` (paired with `own` where a pair is taken). */
function everyCall(media: MediaRouter, foreign: number, own: number): Array<[string, boolean]> {
  const packet = new Uint8Array(12);
  return [
    ['configureMedium', media.configureMedium(foreign, 'audio', 'out', true)],
    ['addRecipient (foreign sender)', media.addRecipient(foreign, own)],
    ['addRecipient (foreign recipient)', media.addRecipient(own, foreign)],
    ['removeRecipient', media.removeRecipient(foreign, own)],
    ['setBitrate', media.setBitrate(foreign, 64000)],
    ['setPliFreq', media.setPliFreq(foreign, 3)],
    ['setSubstream', media.setSubstream(foreign, 1)],
    ['setTemporalLayer', media.setTemporalLayer(foreign, 1)],
    ['sendPli', media.sendPli(foreign)],
    ['startRecording', media.startRecording(foreign, [{ type: 'audio', codec: 'opus', filename: 'refused' }])],
    ['stopRecording', media.stopRecording(foreign, ['audio'])],
    ['relayRtp', media.relayRtp(foreign, false, packet)],
    ['relayRtcp', media.relayRtcp(foreign, false, packet)],
    ['relayData', media.relayData(foreign, { binary: false, payload: 'x', label: '', protocol: '' })],
  ];
}

describe('per-plugin MediaRouter, fake media plane', () => {
  let plane: FakeMediaPlane;
  let setup: TwoPlugins;

  beforeEach(async () => {
    plane = new FakeMediaPlane();
    setup = await twoPlugins(plane);
  });

  afterEach(async () => {
    await setup.core.stop();
  });

  it("refuses every call naming another plugin's handle; nothing reaches the plane's router", () => {
    const { a, handleA, handleB, log } = setup;
    const results = everyCall(mediaOf(a), handleB, handleA);
    expect(results.filter(([, accepted]) => accepted)).to.deep.equal([]);
    expect(plane.routerCalls).to.deep.equal([]);
    const warnings = log.find(REFUSED);
    expect(warnings).to.have.length(results.length);
    expect(warnings[0]).to.include({ level: 'warn', method: 'configureMedium', handle: handleB, plugin: PACKAGE_A, owner: PACKAGE_B });
  });

  it('passes calls on its own handles through, and B reaches its own', () => {
    const { a, b, handleA, handleB, log } = setup;
    expect(mediaOf(a).configureMedium(handleA, 'video', 'in', true)).to.equal(true);
    expect(mediaOf(b).setBitrate(handleB, 128000)).to.equal(true);
    expect(plane.routerCalls).to.deep.equal([`configureMedium(${handleA},video,in,true)`, `setBitrate(${handleB},128000)`]);
    expect(log.find(REFUSED)).to.deep.equal([]);
  });

  it('answers false without a warning for a handle nobody has (gone)', () => {
    const { a, handleA, log } = setup;
    const gone = handleA + 1 === setup.handleB ? handleA + 2 : handleA + 1;
    expect(mediaOf(a).sendPli(gone)).to.equal(false);
    expect(plane.routerCalls).to.deep.equal([]);
    expect(log.find(REFUSED)).to.deep.equal([]);
  });

  it("offers tapRtp and tapRtcp only when the plane's router has them", () => {
    expect(mediaOf(setup.a).tapRtp).to.equal(undefined);
    expect(mediaOf(setup.a).tapRtcp).to.equal(undefined);
  });
});

describe('per-plugin MediaRouter, mediasoup media plane', function () {
  this.timeout(60000);
  let plane: MediasoupMediaPlane;
  let setup: TwoPlugins;

  before(async () => {
    plane = await startMediasoup(1);
  });

  after(async () => {
    await plane.close();
  });

  beforeEach(async () => {
    setup = await twoPlugins(plane);
  });

  afterEach(async () => {
    await setup.core.stop();
  });

  it("leaves B's relay state untouched when A names B's handle", () => {
    const { a, b, handleA, handleB, log } = setup;
    const before = plane.router.describe(handleB);
    expect(before).to.not.equal(undefined);
    const results = everyCall(mediaOf(a), handleB, handleA);
    expect(mediaOf(a).tapRtp?.(handleB, () => undefined)).to.equal(false);
    expect(mediaOf(a).tapRtcp?.(handleB, () => undefined)).to.equal(false);
    expect(results.filter(([, accepted]) => accepted)).to.deep.equal([]);
    expect(plane.router.describe(handleB)).to.deep.equal(before);
    expect(plane.router.describe(handleA)).to.deep.include({ sender: null, recipients: [] });
    expect(log.find(REFUSED)).to.have.length(results.length + 2);
    // The same calls from B itself do change B's state: the comparison above can fail.
    expect(mediaOf(b).configureMedium(handleB, 'audio', 'out', true)).to.equal(true);
    expect(mediaOf(b).setBitrate(handleB, 64000)).to.equal(true);
    expect(plane.router.describe(handleB)).to.not.deep.equal(before);
    expect(plane.router.describe(handleB)).to.deep.include({ bitrate: 64000 });
  });
});
