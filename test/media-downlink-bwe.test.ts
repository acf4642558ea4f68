// Downlink bandwidth estimation (src/media/downlink-bwe.ts): a Consumer of a single-stream
// Producer runs without mediasoup's BWE (no transport-cc or REMB feedback), one of a simulcast
// or SVC Producer keeps it, and so does any Consumer of a transport where it already runs. The
// echo with a libwebrtc peer checks it on a real worker: its transport has no outgoing bitrate
// estimate (mediasoup reports availableOutgoingBitrate only while its BWE runs), the media
// still comes back, and the peer still sends transport-cc feedback and no REMB, as with Janus
// (our worker numbers the packets without BWE: patch 061).

import { expect } from 'chai';
import type { Consumer } from 'mediasoup/node/lib/Consumer';
import type { Producer } from 'mediasoup/node/lib/Producer';
import type { Transport } from 'mediasoup/node/lib/Transport';
import { WebRtcTransport as WebRtcTransportClass } from 'mediasoup/node/lib/WebRtcTransport';
import type { WebRtcTransport } from 'mediasoup/node/lib/WebRtcTransport';
import { DownlinkBwe } from '../src/media/downlink-bwe';
import { EXT_URI } from '../src/media/mediasoup-edits';
import type { ReceiveSlot } from '../src/media/peer';
import type { MediasoupMediaPlane } from '../src/media/plane';
import { silentLogger } from '../src/log';
import type { JsonObject } from '../src/plugin/json';
import { createLuaPlugin } from '../src/script/lua-plugin';
import { ourScript, scriptConfig } from './lua-fixtures';
import { JanusWsClient, createAndAttach } from './support/janus-ws-client';
import { closeScene, startMediasoup } from './support/media-server';
import { type TestServer, startTestServer } from './support/test-server';
import { NodePeer, waitUntil } from './support/wrtc-peer';

const ABS_SEND_TIME = { uri: EXT_URI.absSendTime, id: 2 };
const TRANSPORT_CC = { uri: EXT_URI.transportCc, id: 3 };

function videoSlot(): ReceiveSlot {
  return {
    mid: '1',
    rtpCapabilities: {
      codecs: [
        {
          kind: 'video',
          mimeType: 'video/VP8',
          preferredPayloadType: 96,
          clockRate: 90000,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'transport-cc' }, { type: 'goog-remb' }],
        },
      ],
      headerExtensions: [ABS_SEND_TIME, TRANSPORT_CC].map((e) => ({ kind: 'video' as const, uri: e.uri, preferredId: e.id })),
    },
    wire: { headerExtensions: [ABS_SEND_TIME, TRANSPORT_CC], ssrc: 1111 },
  };
}

function producer(type: string): Producer {
  return { type, kind: 'video' } as unknown as Producer;
}

function transport(): WebRtcTransport {
  return {} as WebRtcTransport;
}

function hasBwe(slot: ReceiveSlot): boolean {
  const fb = slot.rtpCapabilities.codecs!.flatMap((c) => (c.rtcpFeedback ?? []).map((f) => f.type));
  // The extension always stays: the worker numbers packets with or without BWE.
  expect(slot.rtpCapabilities.headerExtensions!.map((e) => e.uri)).to.include(EXT_URI.transportCc);
  expect(slot.wire.headerExtensions).to.deep.equal([ABS_SEND_TIME, TRANSPORT_CC]);
  return fb.includes('transport-cc') || fb.includes('goog-remb');
}

/** The last transport-wide sequence number a transport-cc feedback in this compound covers. */
function lastAcked(packet: Buffer): number | undefined {
  let last: number | undefined;
  for (let at = 0; at + 16 <= packet.length; at += (packet.readUInt16BE(at + 2) + 1) * 4) {
    if (packet[at + 1] !== 205 || (packet[at]! & 0x1f) !== 15) continue;
    // FCI: base sequence number, packet status count (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
    last = (packet.readUInt16BE(at + 12) + packet.readUInt16BE(at + 14) - 1) % 65536;
  }
  return last;
}

/** "PT/FMT" of each part of an RTCP compound packet. */
function rtcpTypes(packet: Buffer): string[] {
  const types: string[] = [];
  for (let at = 0; at + 4 <= packet.length; at += (packet.readUInt16BE(at + 2) + 1) * 4) {
    types.push(`${packet[at + 1]!}/${packet[at]! & 0x1f}`);
  }
  return types;
}

describe('media: downlink bandwidth estimation', function () {
  this.timeout(60000);

  it('is left out for a single-stream Producer, keeping the extensions and the other feedback', () => {
    const slot = new DownlinkBwe().slotFor(transport(), producer('simple'), videoSlot());
    expect(hasBwe(slot)).to.equal(false);
    expect(slot.wire.ssrc).to.equal(1111);
    expect(slot.rtpCapabilities.codecs![0]!.rtcpFeedback).to.deep.equal([{ type: 'nack' }, { type: 'nack', parameter: 'pli' }]);
  });

  it('is kept for simulcast and SVC Producers, and then for every Consumer of that transport', () => {
    const bwe = new DownlinkBwe();
    const [a, b, c] = [transport(), transport(), transport()];
    expect(hasBwe(bwe.slotFor(a, producer('simulcast'), videoSlot()))).to.equal(true);
    expect(hasBwe(bwe.slotFor(b, producer('svc'), videoSlot()))).to.equal(true);
    expect(hasBwe(bwe.slotFor(a, producer('simple'), videoSlot()))).to.equal(true);
    expect(hasBwe(bwe.slotFor(b, producer('simple'), videoSlot()))).to.equal(true);
    expect(hasBwe(bwe.slotFor(c, producer('simple'), videoSlot()))).to.equal(false);
  });

  describe('with a libwebrtc peer (lua/echotest.lua)', () => {
    let media: MediasoupMediaPlane | undefined;
    let ts: TestServer | undefined;
    let client: JanusWsClient | undefined;
    let peer: NodePeer | undefined;

    after(async () => closeScene({ peer, client, ts, media }));

    it('echoes without an outgoing bitrate estimate on the transport; the peer sends transport-cc feedback, no REMB', async () => {
      media = await startMediasoup(1);
      const transports: Transport[] = [];
      const consumers: Consumer[] = [];
      media.engine.routers[0]!.observer.on('newtransport', (t: Transport) => {
        transports.push(t);
        t.observer.on('newconsumer', (c: Consumer) => consumers.push(c));
      });
      ts = await startTestServer({ plugins: [createLuaPlugin(scriptConfig(ourScript('echotest.lua')), silentLogger())], mediaPlane: media });
      client = await JanusWsClient.connect(ts.urls.ws);
      const { sessionId, handleId } = await createAndAttach(client, 'janus.plugin.echolua');
      peer = new NodePeer({ audio: true, video: true });
      const offer = await peer.offer();
      expect(offer.sdp).to.contain(EXT_URI.transportCc);
      const ack = await client.request({
        janus: 'message',
        session_id: sessionId,
        handle_id: handleId,
        body: { audio: true, video: true },
        jsep: { type: offer.type, sdp: offer.sdp },
      });
      expect(ack.janus).to.equal('ack');
      const event = await client.next((m) => m.janus === 'event' && m.jsep !== undefined, 8000);
      await peer.accept({ type: 'answer', sdp: (event.jsep as JsonObject).sdp as string });
      await client.next((m) => m.janus === 'webrtcup', 8000);
      const echoing = peer;
      await waitUntil(() => echoing.videoFrames >= 10 && echoing.audioChunks >= 20, 15000, 'the echoed video and audio');

      const webRtc = transports.filter((t): t is WebRtcTransport => t instanceof WebRtcTransportClass);
      expect(webRtc).to.have.length(1);
      const [stats] = (await webRtc[0]!.getStats()) as Array<{ availableOutgoingBitrate?: number }>;
      expect(stats!.availableOutgoingBitrate, 'mediasoup runs no downlink BWE').to.equal(undefined);

      // What the peer sends back: RTPFB 205/15 is transport-cc feedback, PSFB 206/15 a REMB.
      const seen = new Map<string, number>();
      let acked = 0;
      webRtc[0]!.on('rawrtcp', (packet: Buffer) => {
        for (const type of rtcpTypes(packet)) seen.set(type, (seen.get(type) ?? 0) + 1);
        const last = lastAcked(packet);
        if (last !== undefined) acked = last;
      });
      await webRtc[0]!.enableRawRtcp(true);
      await waitUntil(() => (seen.get('205/15') ?? 0) >= 5, 10000, 'transport-cc feedback from the peer');
      expect(seen.get('206/15') ?? 0, `REMBs among ${JSON.stringify([...seen])}`).to.equal(0);

      // The numbers are the server's own, one per packet it sends (video only, now): not the
      // peer's, which also count the audio it keeps sending.
      const reply = await client.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body: { audio: false } });
      expect(reply.janus).to.be.oneOf(['success', 'ack']);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const sent = async (): Promise<number> => {
        let total = 0;
        for (const consumer of consumers) {
          for (const stat of await consumer.getStats()) if (stat.type === 'outbound-rtp') total += stat.packetCount;
        }
        return total;
      };
      const before = { sent: await sent(), acked };
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const numbered = (acked - before.acked + 65536) % 65536;
      const sentSince = (await sent()) - before.sent;
      expect(sentSince, 'video packets sent').to.be.greaterThan(50);
      expect(numbered, `sequence numbers acked for ${sentSince} packets sent`).to.be.within(sentSince * 0.8, sentSince * 1.2 + 10);
    });
  });
});
