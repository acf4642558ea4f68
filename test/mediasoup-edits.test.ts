// Our mediasoup edits (patches/README.md), tested with real packets through a real worker:
//  - consume({ wire }): per-consumer header extension ids, payload types (media and RTX) and
//    SSRCs on the wire, through PlainTransports fed and read by UDP sockets on 127.0.0.1;
//  - DCEP (ppid 50) delivered to Node, between two SCTP PlainTransports.
// Every wire assertion here fails with a stock worker/Node lib (router ids 1/4/5, router PTs,
// random SSRCs, DCEP dropped).

import { expect } from 'chai';
import dgram from 'node:dgram';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { Ppid, buildDcepAck, buildDcepOpen, parseDcep } from '../src/media/datachannel/dcep';
import { consumeWire, EXT_URI } from '../src/media/mediasoup-edits';

// ---- RTP / RTCP bytes ----

interface Ext { id: number; value: Buffer }

function buildRtp(p: { pt: number; seq: number; ts: number; ssrc: number; exts: Ext[]; payload: Buffer }): Buffer {
  const elems = Buffer.concat(p.exts.map((e) => Buffer.concat([Buffer.from([(e.id << 4) | (e.value.length - 1)]), e.value])));
  const words = Math.ceil(elems.length / 4);
  const ext = Buffer.alloc(4 + words * 4);
  ext.writeUInt16BE(0xbede, 0);
  ext.writeUInt16BE(words, 2);
  elems.copy(ext, 4);
  const h = Buffer.alloc(12);
  h[0] = 0x90; // V=2, X=1
  h[1] = p.pt & 0x7f;
  h.writeUInt16BE(p.seq, 2);
  h.writeUInt32BE(p.ts, 4);
  h.writeUInt32BE(p.ssrc, 8);
  return Buffer.concat([h, ext, p.payload]);
}

interface Rtp { pt: number; seq: number; ts: number; ssrc: number; exts: Ext[]; extBlockLen: number; payload: Buffer }

/** Parses an RTP packet with a one-byte extension block (padding bytes skipped). */
function parseRtp(b: Buffer): Rtp {
  const cc = b[0]! & 0x0f;
  let off = 12 + cc * 4;
  const exts: Ext[] = [];
  let extBlockLen = 0;
  if (b[0]! & 0x10) {
    expect(b.readUInt16BE(off)).to.equal(0xbede);
    extBlockLen = b.readUInt16BE(off + 2) * 4;
    const end = off + 4 + extBlockLen;
    let i = off + 4;
    while (i < end) {
      const id = b[i]! >> 4;
      if (id === 0) { i++; continue; }
      if (id === 15) break;
      const len = (b[i]! & 0x0f) + 1;
      exts.push({ id, value: b.subarray(i + 1, i + 1 + len) });
      i += 1 + len;
    }
    off = end;
  }
  return {
    pt: b[1]! & 0x7f, seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8),
    exts, extBlockLen, payload: b.subarray(off),
  };
}

/** RTCP generic NACK (RFC 4585) for one sequence number. */
function buildNack(senderSsrc: number, mediaSsrc: number, seq: number): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0x81; // V=2, FMT=1
  b[1] = 205; // RTPFB
  b.writeUInt16BE(3, 2);
  b.writeUInt32BE(senderSsrc, 4);
  b.writeUInt32BE(mediaSsrc, 8);
  b.writeUInt16BE(seq, 12);
  b.writeUInt16BE(0, 14);
  return b;
}

const isRtcp = (b: Buffer) => b.length >= 2 && b[1]! >= 192 && b[1]! <= 223;
const PROBATION_SSRC = 1234; // mediasoup's bandwidth probation packets

// ---- small helpers ----

async function udpSocket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

/** Waits (bounded: 100 x 50 ms) until cond() holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A VP8 payload: extended descriptor with a 15-bit picture id, then a (key)frame header. */
function vp8Payload(key: boolean, pictureId: number): Buffer {
  const desc = Buffer.from([0x90, 0x80, 0x80 | (pictureId >> 8), pictureId & 0xff]);
  const frame = key
    ? Buffer.from([0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 0x11, 0x22])
    : Buffer.from([0x51, 0x02, 0x00, 0x33, 0x44, 0x55, 0x66, 0x77]);
  return Buffer.concat([desc, frame]);
}

const MEDIA_CODECS: types.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

describe('mediasoup edits', function () {
  let worker: types.Worker;
  let router: types.Router;
  const sockets: dgram.Socket[] = [];

  before(async () => {
    worker = await mediasoup.createWorker({ logLevel: 'error', rtcMinPort: 40000, rtcMaxPort: 49999 });
    router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  });

  after(() => {
    for (const s of sockets) s.close();
    worker?.close();
  });

  describe('consume({ wire }): ids, payload types and SSRCs on the wire', () => {
    // The client's (Chrome-like) numbering, used by the producer and by recipient A.
    const CLIENT_EXTS = [
      { uri: EXT_URI.mid, id: 4 },
      { uri: EXT_URI.absSendTime, id: 2 },
      { uri: EXT_URI.transportCc, id: 3 },
    ];
    let producer: types.Producer;
    let send: (b: Buffer) => void;
    const received: Record<'a' | 'b' | 'c', Rtp[]> = { a: [], b: [], c: [] };
    const probation: Record<'a' | 'b' | 'c', Rtp[]> = { a: [], b: [], c: [] };
    const receivers: Partial<Record<'a' | 'b' | 'c', { sock: dgram.Socket; transport: types.PlainTransport }>> = {};

    before(async () => {
      const inTransport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
      producer = await inTransport.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [
            {
              mimeType: 'video/VP8', payloadType: 96, clockRate: 90000,
              rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
            },
            { mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 } },
          ],
          headerExtensions: CLIENT_EXTS,
          encodings: [{ ssrc: 1111, rtx: { ssrc: 1112 } }],
        },
      });
      const sender = await udpSocket();
      sockets.push(sender);
      send = (b) => sender.send(b, inTransport.tuple.localPort, '127.0.0.1');

      for (const name of ['a', 'b', 'c'] as const) {
        const sock = await udpSocket();
        sockets.push(sock);
        sock.on('message', (m) => {
          if (isRtcp(m)) return;
          const p = parseRtp(m);
          if (p.ssrc === PROBATION_SSRC) probation[name].push(p);
          else received[name].push(p);
        });
        const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
        await transport.connect({ ip: '127.0.0.1', port: sock.address().port });
        receivers[name] = { sock, transport };
      }
    });

    it('creates consumers with the given SSRCs, keeping router ids and PTs in rtpParameters', async () => {
      const a = await consumeWire(receivers.a!.transport, {
        producerId: producer.id,
        rtpCapabilities: router.rtpCapabilities,
        mid: 'a1',
        wire: {
          headerExtensions: CLIENT_EXTS,
          codecs: [{ mimeType: 'video/VP8', payloadType: 100, rtxPayloadType: 107 }],
          ssrc: 22222,
          rtxSsrc: 33333,
        },
      });
      expect(a.rtpParameters.encodings).to.deep.equal([{ ssrc: 22222, rtx: { ssrc: 33333 } }]);
      expect(a.rtpParameters.codecs.map((c) => [c.mimeType, c.payloadType])).to.deep.equal([['video/VP8', 101], ['video/rtx', 102]]);
      // Matched by URI although the recipient's ids differ from the router's.
      expect(a.rtpParameters.headerExtensions!.map((e) => [e.uri, e.id])).to.deep.equal([
        [EXT_URI.mid, 1], [EXT_URI.absSendTime, 4], [EXT_URI.transportCc, 5],
      ]);

      // B negotiated only the MID extension (at 9) and a PT for VP8, no RTX PT.
      const b = await consumeWire(receivers.b!.transport, {
        producerId: producer.id,
        rtpCapabilities: router.rtpCapabilities,
        mid: 'b1',
        wire: { headerExtensions: [{ uri: EXT_URI.mid, id: 9 }], codecs: [{ mimeType: 'video/vp8', payloadType: 120 }], ssrc: 44444 },
      });
      expect(b.rtpParameters.encodings![0]!.ssrc).to.equal(44444);
      expect(b.rtpParameters.headerExtensions!.map((e) => e.id)).to.deep.equal([1]);

      // C is a stock consumer: router ids and PTs, random SSRCs.
      const c = await receivers.c!.transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities, mid: 'c1' });
      expect(c.rtpParameters.headerExtensions!.map((e) => e.id)).to.include.members([1, 4, 5]);

      // Bad options are refused before reaching the worker.
      await expectReject(consumeWire(receivers.c!.transport, {
        producerId: producer.id, rtpCapabilities: router.rtpCapabilities, wire: { ssrc: 0 },
      }), /wire.ssrc/);
      await expectReject(consumeWire(receivers.c!.transport, {
        producerId: producer.id, rtpCapabilities: router.rtpCapabilities, enableRtx: false, wire: { rtxSsrc: 5 },
      }), /no RTX/);
    });

    it('sends each consumer its own extension ids, payload type and SSRC, restoring the shared packet', async () => {
      // Five VP8 packets as the client sends them: its PT 96, its ids, plus an unknown extension (7).
      for (let i = 0; i < 5; i++) {
        const abs = Buffer.from([0x12, 0x34, 0x56 + i]);
        send(buildRtp({
          pt: 96, seq: 1000 + i, ts: 90000 + i * 3000, ssrc: 1111,
          exts: [{ id: 4, value: Buffer.from('v') }, { id: 2, value: abs }, { id: 7, value: Buffer.from([0xab, 0xcd]) }],
          payload: vp8Payload(i === 0, 300 + i),
        }));
        await sleep(20);
      }
      await until(() => received.a.length >= 5 && received.b.length >= 5 && received.c.length >= 5, '5 packets at each recipient');

      const idsAndLens = (p: Rtp) => p.exts.map((e) => [e.id, e.value.length]);
      for (let i = 0; i < 5; i++) {
        const [a, b, c] = [received.a[i]!, received.b[i]!, received.c[i]!];
        // A: the recipient's ids (mid 4, abs-send-time 2, transport-cc 3), PT and SSRC.
        expect([a.pt, a.ssrc]).to.deep.equal([100, 22222]);
        expect(idsAndLens(a)).to.deep.equal([[4, 2], [2, 3], [3, 2]]);
        expect(a.exts[0]!.value.toString()).to.equal('a1');
        // B: only its MID at 9; abs-send-time and transport-cc blanked to padding (same size).
        expect([b.pt, b.ssrc]).to.deep.equal([120, 44444]);
        expect(idsAndLens(b)).to.deep.equal([[9, 2]]);
        expect(b.exts[0]!.value.toString()).to.equal('b1');
        expect(b.extBlockLen).to.equal(a.extBlockLen);
        // C (stock, served after A and B): the router's ids and PT, so A's and B's rewrites were undone.
        expect(c.pt).to.equal(101);
        expect(c.exts.map((e) => e.id)).to.deep.equal([1, 4, 5]);
        expect(c.exts[0]!.value.toString()).to.equal('c1');
        // Same media for everyone.
        expect(a.payload.equals(c.payload)).to.equal(true);
        expect(b.payload.equals(c.payload)).to.equal(true);
        expect(a.ts).to.equal(c.ts);
        if (i > 0) expect(a.seq).to.equal((received.a[i - 1]!.seq + 1) & 0xffff);
      }
    });

    it('retransmits with the consumer\'s RTX payload type, RTX SSRC and extension ids', async () => {
      const lost = received.a[2]!;
      const before = received.a.length;
      receivers.a!.sock.send(buildNack(0x0badcafe, 22222, lost.seq), receivers.a!.transport.tuple.localPort, '127.0.0.1');
      await until(() => received.a.length > before, 'the RTX packet');
      const rtx = received.a[before]!;
      expect([rtx.pt, rtx.ssrc]).to.deep.equal([107, 33333]);
      expect(rtx.exts.map((e) => e.id)).to.deep.equal([4, 2, 3]);
      expect(rtx.exts[0]!.value.toString()).to.equal('a1');
      // RFC 4588: the original sequence number, then the original payload.
      expect(rtx.payload.readUInt16BE(0)).to.equal(lost.seq);
      expect(rtx.payload.subarray(2).equals(lost.payload)).to.equal(true);
    });

    it('gives bandwidth probation packets the wire ids of a video consumer of the transport', async () => {
      // transport-cc negotiated: mediasoup probes with its own packets (SSRC 1234, PT 127).
      await until(() => probation.a.length >= 2 && probation.c.length >= 2, 'probation packets');
      for (const p of probation.a) {
        expect(p.exts.map((e) => e.id)).to.deep.equal([4, 2, 3]);
        expect(p.exts[0]!.value.toString()).to.equal('probator');
      }
      for (const p of probation.c) expect(p.exts.map((e) => e.id)).to.deep.equal([1, 4, 5]);
      // B negotiated no bandwidth extension: no probing towards it.
      expect(probation.b.length).to.equal(0);
    });
  });

  describe('DCEP (ppid 50) reaches Node', () => {
    it('delivers a DATA_CHANNEL_OPEN to a DirectTransport DataConsumer, and not to other SCTP peers', async () => {
      const sctp = { listenIp: '127.0.0.1', rtcpMux: true, comedia: false, enableSctp: true, numSctpStreams: { OS: 16, MIS: 16 } };
      const pA = await router.createPlainTransport(sctp);
      const pB = await router.createPlainTransport(sctp);
      await pA.connect({ ip: '127.0.0.1', port: pB.tuple.localPort });
      await pB.connect({ ip: '127.0.0.1', port: pA.tuple.localPort });
      await until(() => pA.sctpState === 'connected' && pB.sctpState === 'connected', 'SCTP association');
      const dA = await router.createDirectTransport();
      const dB = await router.createDirectTransport();
      /** Node receives what arrives on `sctp`'s stream `streamId`. */
      const listen = async (sctpTransport: types.PlainTransport, direct: types.DirectTransport, streamId: number) => {
        const producer = await sctpTransport.produceData({ sctpStreamParameters: { streamId, ordered: true } });
        const consumer = await direct.consumeData({ dataProducerId: producer.id });
        const got: [number, Buffer][] = [];
        consumer.on('message', (m: Buffer, ppid: number) => got.push([ppid, m]));
        return { producer, got };
      };
      /** Node sends on `sctp`'s stream `streamId` (patch 040's sctpStreamId option). */
      const sender = async (direct: types.DirectTransport, sctpTransport: types.PlainTransport, streamId: number) => {
        const producer = await direct.produceData();
        const consumer = await sctpTransport.consumeData({ dataProducerId: producer.id, sctpStreamId: streamId });
        expect(consumer.sctpStreamParameters!.streamId).to.equal(streamId);
        return producer;
      };

      // "Client" A opens a channel on stream 3: Node -> dA -> pA =SCTP=> pB -> Node.
      const openerA = await sender(dA, pA, 3);
      const atB = await listen(pB, dB, 3);
      // pB's stream-3 DataProducer is also consumed by another SCTP association (pB -> pA on
      // stream 5): that one must get the text but not the DCEP.
      await pB.consumeData({ dataProducerId: atB.producer.id, sctpStreamId: 5 });
      const at5 = await listen(pA, dA, 5);
      // B's Node answers DATA_CHANNEL_ACK on the same stream 3, which A sees.
      const ackerB = await sender(dB, pB, 3);
      const atA = await listen(pA, dA, 3);

      openerA.send(buildDcepOpen({ label: 'JanusDataChannel', protocol: 'janus-protocol', ordered: false }), Ppid.DCEP);
      openerA.send('hello');
      await until(() => atB.got.length >= 2 && at5.got.length >= 1, 'the messages');
      expect(atB.got.map(([ppid]) => ppid)).to.deep.equal([50, 51]);
      expect(parseDcep(atB.got[0]![1])).to.deep.equal({
        type: 'open', channelType: 0x80, ordered: false, reliability: { kind: 'reliable' }, priority: 0,
        reliabilityParameter: 0, label: 'JanusDataChannel', protocol: 'janus-protocol',
      });
      expect(atB.got[1]![1].toString()).to.equal('hello');

      ackerB.send(buildDcepAck(), Ppid.DCEP);
      await until(() => atA.got.length >= 1, 'the ACK');
      await sleep(100); // anything else in flight would arrive now
      expect(atA.got.map(([ppid, m]) => [ppid, m.toString('hex')])).to.deep.equal([[50, '02']]);
      expect(at5.got.map(([ppid, m]) => [ppid, m.toString()])).to.deep.equal([[51, 'hello']]);
    });
  });
});

async function expectReject(p: Promise<unknown>, re: RegExp): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err).to.be.instanceOf(Error);
  expect((err as Error).message).to.match(re);
}
