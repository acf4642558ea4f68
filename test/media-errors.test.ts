// The media plane's named errors become Janus errors in one place (toJanusError), and the
// client sees the same codes and reasons as before: unit, then over the core with mediasoup;
// and a refusal after the answer left hangs the PeerConnection up.

import { expect } from 'chai';
import type { TransportConnection } from '../src/janus/connection';
import { JanusCore } from '../src/janus/core';
import { JanusErrorCode, toJanusError } from '../src/janus/errors';
import { silentLogger } from '../src/log';
import type { MediasoupMediaPlane } from '../src/media/plane';
import type { JsonObject } from '../src/plugin/json';
import { InvalidSdpError, InvalidStateError, UnexpectedAnswerError } from '../src/plugin/media-errors';
import type { PluginHandle } from '../src/plugin/plugin';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { readSdpFixture } from './fixtures/sdp/fixtures';
import { ourScript, scriptConfig } from './lua-fixtures';
import { captureLogger } from './support/log-capture';
import { startMediasoup } from './support/media-server';
import { TEST_PLUGIN_PACKAGE, TestPlugin } from './support/test-plugin';

describe('toJanusError', () => {
  it('maps each named media error to its Janus code and reason', () => {
    const cases: Array<[Error, number, string]> = [
      [new InvalidSdpError('no v= line'), JanusErrorCode.JSEP_INVALID_SDP, 'JSEP error: invalid SDP (no v= line)'],
      [new UnexpectedAnswerError('Unexpected ANSWER (did we offer?)'), JanusErrorCode.UNEXPECTED_ANSWER, 'Unexpected ANSWER (did we offer?)'],
      [new InvalidStateError('PeerConnection is closed'), JanusErrorCode.WEBRTC_STATE, 'PeerConnection is closed'],
    ];
    for (const [error, code, reason] of cases) {
      const mapped = toJanusError(error);
      expect([mapped?.code, mapped?.reason], error.name).to.deep.equal([code, reason]);
    }
    expect(cases.map(([, code]) => code)).to.deep.equal([465, 469, 471]);
    expect(cases.map(([error]) => error.name)).to.deep.equal(['InvalidSdpError', 'UnexpectedAnswerError', 'InvalidStateError']);
  });

  it('leaves other errors to the caller', () => {
    expect(toJanusError(new Error('mediasoup said no'))).to.equal(undefined);
    expect(toJanusError('not an error')).to.equal(undefined);
  });
});

describe('media errors on the wire (mediasoup media plane)', function () {
  this.timeout(60000);
  let plane: MediasoupMediaPlane;
  let core: JanusCore;
  const connection: TransportConnection = {
    id: 'embedded',
    transport: 'janus.transport.embedded',
    send: () => undefined,
    sessionOver: () => undefined,
  };

  const hungUp: number[] = [];

  before(async () => {
    plane = await startMediasoup(1);
    core = new JanusCore({ logger: captureLogger().logger, mediaPlane: plane });
    await core.addPlugin(new TestPlugin());
    // Our echotest.lua, for a real answer; hangupMedia recorded.
    const echo = createLuaPlugin(scriptConfig(ourScript('echotest.lua')), silentLogger());
    const hangupMedia = echo.hangupMedia.bind(echo);
    echo.hangupMedia = async (handle: PluginHandle) => {
      hungUp.push(handle.id);
      await hangupMedia(handle);
    };
    await core.addPlugin(echo);
  });

  after(async () => {
    await core.stop();
    await plane.close();
  });

  /** A `message` with `jsep` on a fresh handle: the error's code and reason (or the reply's kind). */
  async function sendJsep(jsep: JsonObject): Promise<unknown> {
    const created = await core.handleRequest(connection, { janus: 'create', transaction: 'c' });
    const session = (created.data as JsonObject).id as number;
    const attached = await core.handleRequest(connection, { janus: 'attach', session_id: session, plugin: TEST_PLUGIN_PACKAGE, transaction: 'a' });
    const handle = (attached.data as JsonObject).id as number;
    const reply = await core.handleRequest(connection, {
      janus: 'message', session_id: session, handle_id: handle, body: { request: 'sync' }, jsep, transaction: 'm',
    });
    await core.handleRequest(connection, { janus: 'destroy', session_id: session, transaction: 'd' });
    return reply.janus === 'error' ? reply.error : reply.janus;
  }

  it('465 for an SDP that is not SDP, lacks ICE credentials, or has a fingerprint hash we cannot check', async () => {
    expect(await sendJsep({ type: 'offer', sdp: 'garbage' })).to.deep.equal({ code: 465, reason: 'JSEP error: invalid SDP (no v= line)' });
    const noIce = readSdpFixture('chrome-offer.sdp').replace(/a=ice-(ufrag|pwd):[^\r]*\r\n/g, '');
    expect(await sendJsep({ type: 'offer', sdp: noIce })).to.deep.equal({ code: 465, reason: 'JSEP error: invalid SDP (missing ICE credentials)' });
    const md5 = readSdpFixture('chrome-offer.sdp').replace(/a=fingerprint:sha-256 /g, 'a=fingerprint:md5 ');
    expect(await sendJsep({ type: 'offer', sdp: md5 })).to.deep.equal({ code: 465, reason: 'JSEP error: invalid SDP (unsupported DTLS fingerprint hash)' });
  });

  it('469 for an answer when nothing was offered; a good offer goes through', async () => {
    const sdp = readSdpFixture('chrome-offer.sdp');
    expect(await sendJsep({ type: 'answer', sdp })).to.deep.equal({ code: 469, reason: 'Unexpected ANSWER (did we offer?)' });
    expect(await sendJsep({ type: 'offer', sdp })).to.equal('success');
  });

  it('an answer already sent whose DTLS set-up mediasoup refuses: hangup "Media setup failed", and the script\'s hangupMedia', async () => {
    const sent: JsonObject[] = [];
    const watched: TransportConnection = { ...connection, id: 'watched', send: (message) => sent.push(message) };
    const created = await core.handleRequest(watched, { janus: 'create', transaction: 'c' });
    const session = (created.data as JsonObject).id as number;
    const attached = await core.handleRequest(watched, { janus: 'attach', session_id: session, plugin: 'janus.plugin.echolua', transaction: 'a' });
    const handle = (attached.data as JsonObject).id as number;
    // The next transport the engine's router makes refuses the client's DTLS parameters.
    const acquire = plane.engine.acquire.bind(plane.engine);
    plane.engine.acquire = async () => {
      plane.engine.acquire = acquire;
      const lease = await acquire();
      const create = lease.router.createWebRtcTransport.bind(lease.router);
      lease.router.createWebRtcTransport = async (options) => {
        lease.router.createWebRtcTransport = create;
        const transport = await create(options);
        transport.connect = () => Promise.reject(new Error('DTLS parameters refused (test)'));
        return transport;
      };
      return lease;
    };
    const reply = await core.handleRequest(watched, {
      janus: 'message', session_id: session, handle_id: handle, body: { audio: true, video: true }, jsep: { type: 'offer', sdp: readSdpFixture('chrome-offer.sdp') }, transaction: 'm',
    });
    expect(reply.janus).to.equal('ack');
    for (let tries = 0; !sent.some((m) => m.janus === 'hangup'); tries++) {
      if (tries === 200) throw new Error('no hangup within 2 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const answer = sent.findIndex((m) => m.janus === 'event' && (m.jsep as JsonObject | undefined)?.type === 'answer');
    const hangup = sent.findIndex((m) => m.janus === 'hangup');
    expect(answer, 'the answer went out first').to.be.within(0, hangup - 1);
    expect([sent[hangup]!.sender, sent[hangup]!.reason]).to.deep.equal([handle, 'Media setup failed']);
    for (let tries = 0; !hungUp.includes(handle); tries++) {
      if (tries === 200) throw new Error('no hangupMedia within 2 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await core.handleRequest(watched, { janus: 'destroy', session_id: session, transaction: 'd' });
  });
});
