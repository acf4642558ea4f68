// Smoke test of the mediasoup worker binary that scripts/install.mjs builds: a real Worker,
// a Router with opus/VP8/VP9/H264 and a WebRtcTransport on 127.0.0.1, then a clean close.

import { expect } from 'chai';
import fs from 'node:fs';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';

const MEDIA_CODECS: types.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  { kind: 'video', mimeType: 'video/VP9', clockRate: 90000, parameters: { 'profile-id': 0 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls until the process is gone (bounded: 100 x 50 ms). */
async function waitPidGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!pidAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

// scripts/build-worker.mjs is plain ESM without types; a variable specifier keeps tsc out.
const BUILD_SCRIPT = '../../scripts/build-worker.mjs';

describe('scripts/build-worker.mjs', () => {
  it('fails naming the edit when its find text is missing or ambiguous', async () => {
    const { applyEditsToText } = await import(BUILD_SCRIPT);
    const edit = { id: 'demo-edit', target: 'worker', file: 'x.cpp', why: '', find: 'foo', replace: 'bar' };
    expect(applyEditsToText('a foo b', [edit])).to.equal('a bar b');
    expect(applyEditsToText('foo foo', [{ ...edit, count: 2 }])).to.equal('bar bar');
    expect(() => applyEditsToText('nothing', [edit])).to.throw('mediasoup edit "demo-edit" (worker:x.cpp): find text occurs 0 times, expected 1');
    expect(() => applyEditsToText('foo foo', [edit])).to.throw('find text occurs 2 times, expected 1');
  });

  it('keys the cache on the worker edits\' content only', async () => {
    const { workerKey } = await import(BUILD_SCRIPT);
    const e = { id: 'e', target: 'worker', file: 'f', why: 'w', find: 'a', replace: 'b' };
    const base = workerKey('3.12.16', [e]);
    expect(base).to.match(/^[0-9a-f]{16}$/);
    expect(workerKey('3.12.16', [{ ...e, why: 'other words' }])).to.equal(base);
    expect(workerKey('3.12.16', [e, { ...e, target: 'node', replace: 'c' }])).to.equal(base);
    expect(workerKey('3.12.16', [{ ...e, replace: 'c' }])).to.not.equal(base);
    expect(workerKey('3.12.17', [e])).to.not.equal(base);
  });

  it('installed the cached binary for the current edits and the Node-side edits', async () => {
    const { workerKey, cacheRoot, checkEdits } = await import(BUILD_SCRIPT);
    const { edits } = await import('../../patches/mediasoup/edits.mjs' + '');
    checkEdits();
    const cached = `${cacheRoot()}/3.12.16-${workerKey('3.12.16', edits)}/mediasoup-worker`;
    if (!process.env.MEDIASOUP_WORKER_BIN) {
      expect(fs.readFileSync(mediasoup.workerBin).equals(fs.readFileSync(cached))).to.equal(true);
    }
    const transportJs = fs.readFileSync(require.resolve('mediasoup/node/lib/Transport.js'), 'utf8');
    expect(transportJs).to.include('function luasfuWireMaps(');
  });
});

describe('mediasoup worker (built by scripts/install.mjs)', function () {
  let worker: types.Worker | undefined;
  let died = false;

  after(() => worker?.close());

  it('the binary mediasoup uses exists and is executable', () => {
    expect(mediasoup.version).to.equal('3.12.16');
    fs.accessSync(mediasoup.workerBin, fs.constants.X_OK);
    expect(fs.statSync(mediasoup.workerBin).size).to.be.greaterThan(1_000_000);
  });

  it('runs a Router and a WebRtcTransport on 127.0.0.1 and closes cleanly', async () => {
    worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 40000, rtcMaxPort: 49999 });
    worker.on('died', () => { died = true; });
    const pid = worker.pid;
    expect(pid).to.be.a('number').greaterThan(0);
    expect(pidAlive(pid)).to.equal(true);

    const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    // mediasoup numbers dynamic PTs from 100 in mediaCodecs order, each video codec + its RTX.
    const caps = router.rtpCapabilities.codecs!.map((c) => [c.mimeType, c.preferredPayloadType, c.parameters?.apt ?? null]);
    expect(caps).to.deep.equal([
      ['audio/opus', 100, null],
      ['video/VP8', 101, null],
      ['video/rtx', 102, 101],
      ['video/VP9', 103, null],
      ['video/rtx', 104, 103],
      ['video/H264', 105, null],
      ['video/rtx', 106, 105],
    ]);
    const h264 = router.rtpCapabilities.codecs!.find((c) => c.mimeType === 'video/H264')!;
    expect(h264.parameters).to.deep.equal({ 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 });

    const transport = await router.createWebRtcTransport({
      listenIps: [{ ip: '127.0.0.1' }],
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
    });
    expect(transport.iceRole).to.equal('controlled');
    expect(transport.iceState).to.equal('new');
    expect(transport.dtlsState).to.equal('new');
    expect(transport.iceParameters.iceLite).to.equal(true);
    expect(transport.iceParameters.usernameFragment).to.match(/^[a-z0-9]{32}$/);
    expect(transport.iceParameters.password).to.match(/^[a-z0-9]{32}$/);
    const cands = transport.iceCandidates.map((c) => [c.ip, c.protocol, c.type, c.tcpType ?? null]);
    expect(cands).to.deep.equal([
      ['127.0.0.1', 'udp', 'host', null],
      ['127.0.0.1', 'tcp', 'host', 'passive'],
    ]);
    for (const c of transport.iceCandidates) expect(c.port).to.be.within(40000, 49999);
    expect(transport.dtlsParameters.role).to.equal('auto');
    const fps = Object.fromEntries(transport.dtlsParameters.fingerprints.map((f) => [f.algorithm, f.value]));
    const hexBytes = (n: number) => new RegExp(`^([0-9A-F]{2}:){${n - 1}}[0-9A-F]{2}$`);
    expect(Object.keys(fps).sort()).to.deep.equal(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']);
    expect(fps['sha-1']).to.match(hexBytes(20));
    expect(fps['sha-256']).to.match(hexBytes(32));
    expect(fps['sha-512']).to.match(hexBytes(64));

    // The worker itself reports the same transport.
    const dump = (await transport.dump()) as { id: string; iceParameters: { usernameFragment: string } };
    expect(dump.id).to.equal(transport.id);
    expect(dump.iceParameters.usernameFragment).to.equal(transport.iceParameters.usernameFragment);

    // One DTLS certificate per worker: a second transport has the same fingerprint but new ICE.
    const second = await router.createWebRtcTransport({ listenIps: [{ ip: '127.0.0.1' }] });
    expect(second.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256')!.value).to.equal(fps['sha-256']);
    expect(second.iceParameters.usernameFragment).to.not.equal(transport.iceParameters.usernameFragment);
    second.close();

    transport.close();
    expect(transport.closed).to.equal(true);
    router.close();
    worker.close();
    expect(worker.closed).to.equal(true);
    expect(await waitPidGone(pid)).to.equal(true);
    expect(died).to.equal(false);
  });
});
