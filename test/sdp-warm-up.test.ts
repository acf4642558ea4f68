// The main thread's SDP warm-up (src/media/sdp/warm-up.ts): one pass is a real negotiation of
// the offer the script thread warms up on, with the answer lua/echotest.lua really gives to it;
// the passes run between events, within their bounds, and stop with the plane.

import { expect } from 'chai';
import * as path from 'node:path';
import { Status, type LoadTask } from '../src/common/bridge';
import { WARM_UP_OFFER } from '../src/common/warm-up-offer';
import { anonymiseClientSdp } from '../src/media/sdp/anonymise';
import { SdpWarmUp, WARM_UP_ANSWER, WARM_UP_CLIENT_OFFER, warmUpSdpPass } from '../src/media/sdp/warm-up';
import { LuaRuntime } from '../workers/lua/lua-runtime';

const ECHOTEST = path.resolve(__dirname, '..', '..', 'lua', 'echotest.lua');

describe('the main thread SDP warm-up (src/media/sdp/warm-up.ts)', () => {
  it('a pass negotiates audio and video both ways, and data', () => {
    const negotiation = warmUpSdpPass();
    expect(negotiation.media.map((m) => [m.kind, m.codecs[0]?.mimeType, m.clientSends, m.clientReceives])).to.deep.equal([
      ['audio', 'audio/opus', true, true],
      ['video', 'video/VP8', true, true],
    ]);
    expect(negotiation.media.map((m) => m.encodings.length)).to.deep.equal([1, 1]);
    expect(negotiation.data?.mid).to.equal('2');
  });

  it('its browser offer is the script thread\'s offer with the transport lines anonymising removes', () => {
    expect(WARM_UP_CLIENT_OFFER).to.match(/a=fingerprint:sha-256 /).and.match(/a=ice-ufrag:/).and.match(/a=ssrc:1001 cname:/);
    expect(anonymiseClientSdp(WARM_UP_CLIENT_OFFER)).to.equal(anonymiseClientSdp(WARM_UP_OFFER));
  });

  it('its answer is what lua/echotest.lua answers to that offer', () => {
    const runtime = new LuaRuntime();
    const load: LoadTask = {
      runtime: 'lua', scriptPath: ECHOTEST, instructionLimit: 50_000_000, logLevel: 4,
      eventsEnabled: false, memoryLimitBytes: 256 * 1024 * 1024, maxResumeRounds: 16, warmUp: false,
    };
    expect(runtime.load(load).status).to.equal(Status.OK);
    expect(runtime.call({ session: 7, createSession: {} }).status).to.equal(Status.OK);
    const jsep = Buffer.from(JSON.stringify({ type: 'offer', sdp: WARM_UP_OFFER }));
    const outcome = runtime.call({ session: 7, handleMessage: { transaction: 't', message: Buffer.from('{"audio":true,"video":true}'), jsep } });
    expect(outcome.status).to.equal(Status.OK);
    const pushed = (outcome.followupCalls ?? []).flatMap((c) => (c.pushEvent?.jsep ? [c.pushEvent.jsep] : []));
    expect(pushed).to.have.length(1);
    expect(JSON.parse(Buffer.from(pushed[0] as Uint8Array).toString())).to.deep.equal({ type: 'answer', sdp: WARM_UP_ANSWER });
  });

  it('runs one pass per turn of the event loop up to its bound, then reports', async () => {
    const warmUp = new SdpWarmUp(3, 60_000);
    const ended = new Promise<SdpWarmUp>((resolve) => warmUp.start(resolve));
    expect(warmUp.done).to.equal(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(warmUp.done).to.equal(1);
    expect((await ended).done).to.equal(3);
    expect(warmUp.failure).to.equal(undefined);
  });

  it('stops at its time budget, and when stopped', async () => {
    const budget = await new Promise<SdpWarmUp>((resolve) => new SdpWarmUp(40, 0).start(resolve));
    expect(budget.done).to.equal(1);
    const stopped = new SdpWarmUp(40, 60_000);
    let ended = false;
    stopped.start(() => (ended = true));
    stopped.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([stopped.done, ended]).to.deep.equal([0, false]);
  });
});
