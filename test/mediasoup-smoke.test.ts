// Smoke test of the mediasoup worker binary that scripts/install.mjs builds: a real Worker,
// a Router with opus/VP8/VP9/H264 and a WebRtcTransport on 127.0.0.1, then a clean close.

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { WebRtcTransport } from 'mediasoup/node/lib/WebRtcTransport';
import { MediasoupEditsMissingError, assertMediasoupEdits } from '../src/media/mediasoup-edits';

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

describe('scripts/build-worker.mjs and patches/mediasoup', () => {
  let tmp: string;
  before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'luasfu-patch-test-')); });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('applies a unified diff and fails loudly, naming the patch, when one does not apply', async () => {
    const { applyPatches } = await import(BUILD_SCRIPT);
    const good = path.join(tmp, '001-good.patch');
    fs.writeFileSync(good, 'Why: a demo.\n\ndiff --git a/worker/x.cpp b/worker/x.cpp\n--- a/worker/x.cpp\n+++ b/worker/x.cpp\n@@ -1 +1 @@\n-foo\n+bar\n');
    const pristine = (text: string) => (rel: string) => (rel === 'worker/x.cpp' ? Buffer.from(text) : undefined);
    const out = applyPatches(pristine('foo\n'), [good]) as Map<string, Buffer>;
    expect([...out.keys()]).to.deep.equal(['worker/x.cpp']);
    expect(out.get('worker/x.cpp')!.toString()).to.equal('bar\n');
    expect(() => applyPatches(pristine('other\n'), [good])).to.throw(/mediasoup patch 001-good\.patch does not apply \(git apply --check .*\): .*patch failed/);
  });

  it('keys the cache on the patched worker sources only', async () => {
    const { workerKey } = await import(BUILD_SCRIPT);
    const files = (content: string) => new Map([['src/a.cpp', content], ['meson.build', 'm']]);
    const base = workerKey('3.12.16', files('x'), 'system');
    expect(base).to.match(/^[0-9a-f]{16}$/);
    expect(workerKey('3.12.16', new Map([['meson.build', 'm'], ['src/a.cpp', 'x']]), 'system')).to.equal(base);
    expect(workerKey('3.12.16', files('y'), 'system')).to.not.equal(base);
    expect(workerKey('3.12.17', files('x'), 'system')).to.not.equal(base);
    expect(workerKey('3.12.16', files('x'), 'openssl-1')).to.not.equal(base);
  });

  it('every patch says why in its header and touches only worker/ or node/lib/', async () => {
    const { listPatches, patchTargets, splitPatch } = await import(BUILD_SCRIPT);
    const patches = listPatches() as string[];
    expect(patches.map((p) => path.basename(p))).to.include('010-consumer-wire.patch');
    for (const p of patches) {
      const text = fs.readFileSync(p, 'utf8');
      const { header } = splitPatch(text) as { header: string };
      expect(header, path.basename(p)).to.match(/Why:/);
      for (const target of patchTargets(text) as string[]) expect(target).to.match(/^(worker\/|node\/lib\/)/);
    }
  });

  it('the patches apply to a clean mediasoup 3.12.16 package (git apply --check, in order)', async function () {
    this.timeout(120_000);
    const { checkPatches } = await import(BUILD_SCRIPT);
    // The published tarball (npm's cache after npm ci), not node_modules, which we patch.
    execFileSync('npm', ['pack', 'mediasoup@3.12.16', '--prefer-offline', '--silent', '--pack-destination', tmp], { stdio: 'pipe', timeout: 100_000 });
    execFileSync('tar', ['xzf', path.join(tmp, 'mediasoup-3.12.16.tgz'), '-C', tmp]);
    const files = checkPatches(path.join(tmp, 'package')) as string[];
    expect(files).to.include.members(['worker/meson.build', 'worker/src/RTC/Transport.cpp', 'node/lib/Transport.js', 'worker/src/RTC/WebRtcTransport.cpp', 'node/lib/WebRtcTransport.js']);
  });

  it('installed the cached binary for the current patches, and the Node-side patches', async () => {
    const { workerKey, cacheRoot, patchedWorkerFiles } = await import(BUILD_SCRIPT);
    const cached = `${cacheRoot()}/3.12.16-${workerKey('3.12.16', patchedWorkerFiles())}/mediasoup-worker`;
    if (!process.env.MEDIASOUP_WORKER_BIN) {
      expect(fs.readFileSync(mediasoup.workerBin).equals(fs.readFileSync(cached))).to.equal(true);
    }
    const transportJs = fs.readFileSync(require.resolve('mediasoup/node/lib/Transport.js'), 'utf8');
    expect(transportJs).to.include('function luasfuWireMaps(');
    const webRtcTransportJs = fs.readFileSync(require.resolve('mediasoup/node/lib/WebRtcTransport.js'), 'utf8');
    expect(webRtcTransportJs).to.include('async enableRawRtcp(enabled)');
    expect(() => assertMediasoupEdits()).not.to.throw();
    for (const channel of ['Channel', 'PayloadChannel']) {
      const channelJs = fs.readFileSync(require.resolve(`mediasoup/node/lib/${channel}.js`), 'utf8');
      expect(channelJs, channel).to.include('this.#producerSocket.write((0, utils_1.frameChannelMessage)(request));');
    }
  });
});

// scripts/libsrtp.mjs: plain ESM as well.
const SRTP_SCRIPT = '../../scripts/libsrtp.mjs';

describe('scripts/libsrtp.mjs and patches/libsrtp2', () => {
  it('every patch says why in its header and touches only libsrtp\'s OpenSSL crypto', async () => {
    const { SRTP_PATCH_DIR } = await import(SRTP_SCRIPT);
    const { listPatches, patchTargets, splitPatch } = await import(BUILD_SCRIPT);
    const patches = listPatches(SRTP_PATCH_DIR) as string[];
    expect(patches.map((p) => path.basename(p))).to.deep.equal(['010-hmac-sha1-precomputed-states.patch', '020-aes-icm-keystream-from-ecb.patch']);
    for (const p of patches) {
      const text = fs.readFileSync(p, 'utf8');
      const { header } = splitPatch(text) as { header: string };
      expect(header, path.basename(p)).to.match(/Checked by libsrtp's own known-answer tests/);
      for (const target of patchTargets(text) as string[]) expect(target).to.match(/^crypto\/(hash\/hmac_ossl\.c|cipher\/aes_icm_ossl\.c|include\/aes_icm_ext\.h)$/);
    }
  });

  it('keys the build on the patches\' diffs, not their headers', async () => {
    const { buildInputsHash } = await import(SRTP_SCRIPT);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luasfu-srtp-key-'));
    try {
      const patch = path.join(dir, '010-x.patch');
      const write = (header: string, line: string) => fs.writeFileSync(patch, `${header}\ndiff --git a/crypto/x.c b/crypto/x.c\n--- a/crypto/x.c\n+++ b/crypto/x.c\n@@ -1 +1 @@\n-a\n+${line}\n`);
      write('Why: one.', 'b');
      const base = buildInputsHash([patch]);
      expect(base).to.match(/^[0-9a-f]{8}$/);
      expect(buildInputsHash([])).to.not.equal(base);
      write('Why: reworded.', 'b');
      expect(buildInputsHash([patch])).to.equal(base);
      write('Why: one.', 'c');
      expect(buildInputsHash([patch])).to.not.equal(base);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the installed worker links the libsrtp2 built with the current patches, after its known-answer tests passed', async function () {
    const { installedSrtp } = await import(BUILD_SCRIPT);
    const { opensslSrtpPlan, isBuilt, SELF_TESTS } = await import(SRTP_SCRIPT);
    if (process.env.MEDIASOUP_WORKER_BIN || (process.env.LUASFU_SRTP ?? '').toLowerCase() === 'system') this.skip();
    const plan = opensslSrtpPlan();
    // A fallback to Debian's NSS libsrtp2 (a patch that no longer applies, a failed self-test)
    // is logged by the install and lands here.
    expect(installedSrtp()).to.equal(plan.key);
    expect(isBuilt(plan)).to.equal(true);
    const stamp = JSON.parse(fs.readFileSync(path.join(plan.prefix, 'luasfu-libsrtp2.json'), 'utf8'));
    expect(stamp.patches).to.deep.equal(['010-hmac-sha1-precomputed-states.patch', '020-aes-icm-keystream-from-ecb.patch']);
    expect(stamp.selfTests).to.deep.equal(SELF_TESTS);
  });
});

describe('the media plane without our mediasoup edits', () => {
  it('refuses to start, naming what is missing and what to run', () => {
    const prototype = WebRtcTransport.prototype as unknown as Record<string, unknown>;
    const saved = prototype.enableSctpMessages;
    delete prototype.enableSctpMessages;
    try {
      expect(() => assertMediasoupEdits()).to.throw(MediasoupEditsMissingError, /enableSctpMessages\(\) missing\): run npm ci/);
    } finally {
      prototype.enableSctpMessages = saved;
    }
    expect(() => assertMediasoupEdits()).not.to.throw();
  });

  it('refuses to start without edit 090 (the transport options would be ignored silently)', () => {
    const prototype = WebRtcTransport.prototype as unknown as Record<string, unknown>;
    const saved = Object.getOwnPropertyDescriptor(prototype, 'sctpMessagesEnabled');
    delete prototype.sctpMessagesEnabled;
    try {
      expect(() => assertMediasoupEdits()).to.throw(MediasoupEditsMissingError, /sctpMessagesEnabled missing\): run npm ci/);
    } finally {
      if (saved) Object.defineProperty(prototype, 'sctpMessagesEnabled', saved);
    }
    expect(() => assertMediasoupEdits()).not.to.throw();
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
