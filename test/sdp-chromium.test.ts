// End to end with a real browser: headless Chromium offers (fake camera and microphone), the
// recorded echotest.lua answer is merged with a real mediasoup WebRtcTransport, Chromium
// accepts it, ICE+DTLS come up and its audio and video reach Producers built from our
// parameters. Skipped (and logged) only when /usr/bin/chromium or the worker binary is absent.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { anonymiseClientSdp } from '../src/media/sdp/anonymise';
import { clientJsepForScript } from '../src/media/sdp/client-sdp';
import { chooseLocalSsrcs } from '../src/media/sdp/local-ssrcs';
import { localMediaOf, mergeLocalSdp } from '../src/media/sdp/merge';
import { negotiate, toProducerRtpParameters } from '../src/media/sdp/negotiation';
import { ROUTER_MEDIA_CODECS } from '../src/media/codecs';
import { readSdpFixture, sdpLines } from './fixtures/sdp/fixtures';

const CHROMIUM = '/usr/bin/chromium';

/** m-lines and extmaps: what the recorded script answer depends on. */
function layout(sdp: string): string[] {
  return sdpLines(anonymiseClientSdp(sdp)).filter((l) => l.startsWith('m=') || l.startsWith('a=extmap:') || l.startsWith('a=rtpmap:'));
}

describe('SDP layer end to end with headless Chromium and mediasoup', function () {
  this.timeout(60000);
  let worker: types.Worker | undefined;
  let context: BrowserContext | undefined;
  let server: http.Server | undefined;
  let userDataDir: string | undefined;
  let page: Page;

  before(async function () {
    if (!fs.existsSync(CHROMIUM) || !fs.existsSync(mediasoup.workerBin)) {
      console.log(`    (skipped: needs ${CHROMIUM} and ${mediasoup.workerBin})`);
      this.skip();
    }
    server = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><title>sdp</title>');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luasfu-sdp-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
        '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await context.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 42000, rtcMaxPort: 42999 });
  });

  after(async () => {
    await context?.close();
    server?.close();
    worker?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  it("Chromium accepts the merged echotest answer and its media reaches the Producers", async () => {
    // Browser-side code as strings: this project compiles without the DOM lib.
    const offer = await page.evaluate<string>(`(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
      const pc = new RTCPeerConnection();
      window.pc = pc;
      for (const t of stream.getTracks()) pc.addTrack(t, stream);
      pc.createDataChannel('JanusDataChannel');
      await pc.setLocalDescription(await pc.createOffer());
      return pc.localDescription.sdp;
    })()`);
    // The recorded answer was made for chrome-offer.sdp; it fits only the same PT/extmap layout.
    expect(layout(offer), 'Chromium changed its PT/extmap layout: re-record the fixtures').to.deep.equal(layout(readSdpFixture('chrome-offer.sdp')));

    const { client } = clientJsepForScript({ type: 'offer', sdp: offer });
    const plugin = readSdpFixture('lua-echotest-answer-chrome.sdp');
    const router = await worker!.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    try {
      const transport = await router.createWebRtcTransport({ listenIps: [{ ip: '127.0.0.1' }], enableSctp: true });
      // The recorded offer says a=setup:actpass: we answer active (DTLS client), the client is the server.
      expect(client.setup).to.equal('actpass');
      const ourRole = 'client';
      const merged = mergeLocalSdp(plugin, {
        type: 'answer',
        announcedIp: '127.0.0.1',
        iceParameters: transport.iceParameters,
        iceCandidates: transport.iceCandidates,
        dtlsParameters: transport.dtlsParameters,
        dtlsRole: ourRole,
        client,
        localSsrcs: chooseLocalSsrcs(localMediaOf(plugin, 'answer', client), { avoid: client.media.flatMap((m) => m.ssrcs) }),
      });
      await page.evaluate(`window.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(merged.sdp)} })`);
      await transport.connect({
        dtlsParameters: { role: 'server', fingerprints: [{ algorithm: 'sha-256', value: client.fingerprint.value }] },
      });
      const negotiation = negotiate({ client, local: merged.sdp, clientIsOfferer: true });
      const producers = await Promise.all(
        negotiation.media.filter((m) => m.clientSends).map((m) => transport.produce({ kind: m.kind, rtpParameters: toProducerRtpParameters(m) })),
      );
      let bytes = [0, 0];
      for (let i = 0; i < 150 && !(bytes[0] > 0 && bytes[1] > 0); i++) {
        await new Promise((r) => setTimeout(r, 100));
        bytes = await Promise.all(producers.map(async (p) => (await p.getStats()).reduce((n, s) => n + s.byteCount, 0)));
      }
      expect(transport.dtlsState).to.equal('connected');
      expect(bytes[0], 'audio bytes from Chromium').to.be.greaterThan(0);
      expect(bytes[1], 'video bytes from Chromium').to.be.greaterThan(0);
      const state = await page.evaluate<string>('window.pc.connectionState');
      expect(state).to.equal('connected');
    } finally {
      router.close();
      // Stop the capture too: the fake camera keeps the last constraints for the next test.
      await page.evaluate('window.pc.getSenders().forEach((s) => s.track && s.track.stop()); window.pc.close()');
    }
  });
  it('Chromium rid simulcast (videoroom publisher): every layer reaches a simulcast Producer', async () => {
    const offer = await page.evaluate<string>(`(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
      const pc = new RTCPeerConnection();
      window.pc = pc;
      pc.addTrack(stream.getAudioTracks()[0], stream);
      pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendrecv', streams: [stream], sendEncodings: [
        { rid: 'h', maxBitrate: 900000 }, { rid: 'm', maxBitrate: 300000, scaleResolutionDownBy: 2 },
        { rid: 'l', maxBitrate: 100000, scaleResolutionDownBy: 4 } ] });
      pc.createDataChannel('JanusDataChannel');
      await pc.setLocalDescription(await pc.createOffer());
      return pc.localDescription.sdp;
    })()`);
    expect(layout(offer), 'Chromium changed its PT/extmap layout: re-record the fixtures').to.deep.equal(layout(readSdpFixture('chrome-simulcast-offer.sdp')));
    // videoroom.lua rewrites sendrecv to sendonly before answering; the recorded answer has that.
    const { client, jsep } = clientJsepForScript({ type: 'offer', sdp: offer });
    expect(jsep.simulcast).to.deep.equal([{ mindex: 1, mid: '1', rids: ['h', 'm', 'l'], 'rid-ext': 10 }]);
    const plugin = readSdpFixture('lua-videoroom-publisher-answer-chrome-simulcast.sdp');
    const router = await worker!.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    try {
      const transport = await router.createWebRtcTransport({ listenIps: [{ ip: '127.0.0.1' }], enableSctp: true, initialAvailableOutgoingBitrate: 1000000 });
      // The recorded offer says a=setup:actpass: we answer active (DTLS client), the client is the server.
      expect(client.setup).to.equal('actpass');
      const ourRole = 'client';
      const merged = mergeLocalSdp(plugin, {
        type: 'answer',
        announcedIp: '127.0.0.1',
        iceParameters: transport.iceParameters,
        iceCandidates: transport.iceCandidates,
        dtlsParameters: transport.dtlsParameters,
        dtlsRole: ourRole,
        client,
        localSsrcs: {},
      });
      await page.evaluate(`window.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(merged.sdp)} })`);
      await transport.connect({
        dtlsParameters: { role: 'server', fingerprints: [{ algorithm: 'sha-256', value: client.fingerprint.value }] },
      });
      const video = negotiate({ client, local: merged.sdp, clientIsOfferer: true }).media[1];
      expect([video.clientSends, video.clientReceives]).to.deep.equal([true, false]);
      const producer = await transport.produce({ kind: 'video', rtpParameters: toProducerRtpParameters(video) });
      expect(producer.type).to.equal('simulcast');
      let layers = new Map<string, number>();
      for (let i = 0; i < 200 && layers.size < 3; i++) {
        await new Promise((r) => setTimeout(r, 100));
        layers = new Map((await producer.getStats()).filter((s) => s.rid !== undefined && s.byteCount > 0).map((s) => [s.rid!, s.byteCount]));
      }
      expect([...layers.keys()].sort()).to.deep.equal(['h', 'l', 'm']);
    } finally {
      router.close();
      // Stop the capture too: the fake camera keeps the last constraints for the next test.
      await page.evaluate('window.pc.getSenders().forEach((s) => s.track && s.track.stop()); window.pc.close()');
    }
  });
});
