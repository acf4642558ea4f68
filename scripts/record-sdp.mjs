// Re-records the client SDP fixtures under test/fixtures/sdp/ from real WebRTC stacks:
// headless Chromium (playwright-core), libwebrtc in Node (@roamhq/wrtc) and headless
// firefox-esr. Run by hand: `node scripts/record-sdp.mjs [chrome|wrtc|firefox ...]`.
// The fixtures are committed; tests never run this script.
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'sdp');

function save(name, sdp) {
  writeFileSync(join(OUT, name), sdp);
  console.log(`wrote ${name} (${sdp.length} bytes)`);
}

// The page both browsers run. Each scenario mirrors what janus.js 1.1.2 does: audio+video
// tracks from getUserMedia, a data channel, and for simulcast sendEncodings with rids h/m/l.
const PAGE = `<!doctype html><meta charset="utf-8"><title>sdp</title><script>
async function offer(scenario) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
  const pc = new RTCPeerConnection();
  pc.addTrack(stream.getAudioTracks()[0], stream);
  const video = stream.getVideoTracks()[0];
  if (scenario === 'simulcast') {
    pc.addTransceiver(video, { direction: 'sendrecv', streams: [stream], sendEncodings: [
      { rid: 'h', active: true, maxBitrate: 900000 },
      { rid: 'm', active: true, maxBitrate: 300000, scaleResolutionDownBy: 2 },
      { rid: 'l', active: true, maxBitrate: 100000, scaleResolutionDownBy: 4 } ] });
  } else {
    pc.addTrack(video, stream);
  }
  pc.createDataChannel('JanusDataChannel', { ordered: true });
  const o = await pc.createOffer();
  await pc.setLocalDescription(o);
  const sdp = pc.localDescription.sdp;
  pc.close();
  stream.getTracks().forEach((t) => t.stop());
  return sdp;
}
async function postAll() {
  for (const scenario of ['plain', 'simulcast']) {
    let body;
    try { body = await offer(scenario); } catch (e) { body = 'ERROR ' + e; }
    await fetch('/result/' + scenario, { method: 'POST', body });
  }
  await fetch('/result/done', { method: 'POST', body: 'done' });
}
if (location.hash === '#auto') postAll();
</script>`;

function startServer(onResult) {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      if (req.method === 'POST' && req.url.startsWith('/result/')) {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => { res.end('ok'); onResult(req.url.slice('/result/'.length), body); });
        return;
      }
      res.setHeader('content-type', 'text/html');
      res.end(PAGE);
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function recordChrome() {
  const { chromium } = require('playwright-core');
  const server = await startServer(() => undefined);
  const userDataDir = mkdtempSync(join(tmpdir(), 'sdp-chrome-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await ctx.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const version = ctx.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));
    console.log('chromium', version);
    save('chrome-offer.sdp', await page.evaluate(() => offer('plain')));
    save('chrome-simulcast-offer.sdp', await page.evaluate(() => offer('simulcast')));
  } finally {
    await ctx.close();
    server.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

// libwebrtc M-something in Node: non-trickle (waits for gathering, so candidates are in the
// SDP), plus an SSRC-simulcast offer munged the way janus.js's mungeSdpForSimulcasting does
// (SIM group of three SSRCs, each with an FID rtx SSRC), which libwebrtc accepts locally.
async function recordWrtc() {
  const wrtc = require('@roamhq/wrtc');
  const { RTCPeerConnection, nonstandard } = wrtc;
  const make = () => {
    const pc = new RTCPeerConnection();
    const audio = new nonstandard.RTCAudioSource().createTrack();
    const video = new nonstandard.RTCVideoSource().createTrack();
    const stream = new wrtc.MediaStream([audio, video]);
    pc.addTrack(audio, stream);
    pc.addTrack(video, stream);
    pc.createDataChannel('JanusDataChannel');
    return { pc, tracks: [audio, video] };
  };
  const gathered = (pc) => new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const t = setTimeout(resolve, 5000);
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); } };
  });
  {
    const { pc, tracks } = make();
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    save('wrtc-offer.sdp', pc.localDescription.sdp);
    pc.close(); tracks.forEach((t) => t.stop());
  }
  {
    const { pc, tracks } = make();
    const offer = await pc.createOffer();
    const munged = mungeSsrcSimulcast(offer.sdp);
    await pc.setLocalDescription({ type: 'offer', sdp: munged });
    save('wrtc-ssrc-simulcast-offer.sdp', pc.localDescription.sdp);
    pc.close(); tracks.forEach((t) => t.stop());
  }
}

function mungeSsrcSimulcast(sdp) {
  const lines = sdp.split('\r\n');
  const out = [];
  let inVideo = false;
  let done = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('m=')) inVideo = line.startsWith('m=video');
    if (inVideo && !done && line.startsWith('a=ssrc-group:FID ')) {
      const [, ssrc, rtx] = line.split(' ');
      const cname = lines.find((l) => l.startsWith(`a=ssrc:${ssrc} cname:`)).split('cname:')[1];
      const msid = lines.find((l) => l.startsWith(`a=ssrc:${ssrc} msid:`))?.split('msid:')[1];
      const extra = [Number(ssrc) + 1000, Number(ssrc) + 2000];
      const extraRtx = [Number(rtx) + 1000, Number(rtx) + 2000];
      out.push(`a=ssrc-group:SIM ${ssrc} ${extra[0]} ${extra[1]}`);
      out.push(line);
      out.push(`a=ssrc-group:FID ${extra[0]} ${extraRtx[0]}`);
      out.push(`a=ssrc-group:FID ${extra[1]} ${extraRtx[1]}`);
      // Skip the original ssrc lines; rewrite them for all six SSRCs.
      while (lines[i + 1]?.startsWith('a=ssrc:')) i++;
      for (const s of [ssrc, rtx, extra[0], extraRtx[0], extra[1], extraRtx[1]]) {
        out.push(`a=ssrc:${s} cname:${cname}`);
        if (msid) out.push(`a=ssrc:${s} msid:${msid}`);
      }
      done = true;
      continue;
    }
    out.push(line);
  }
  return out.join('\r\n');
}

// Firefox: a temp profile with fake media prefs; the page records and POSTs its offers back.
async function recordFirefox() {
  const bin = ['/usr/bin/firefox-esr', '/usr/bin/firefox'].find((p) => existsSync(p));
  if (!bin) throw new Error('firefox-esr not installed (apt-get install firefox-esr)');
  const results = new Map();
  let finish;
  const done = new Promise((r) => (finish = r));
  const server = await startServer((name, body) => { if (name === 'done') finish(); else results.set(name, body); });
  const profile = mkdtempSync(join(tmpdir(), 'sdp-firefox-'));
  writeFileSync(join(profile, 'user.js'), [
    'user_pref("media.navigator.streams.fake", true);',
    'user_pref("media.navigator.permission.disabled", true);',
    'user_pref("browser.shell.checkDefaultBrowser", false);',
    'user_pref("datareporting.policy.dataSubmissionEnabled", false);',
    'user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);',
    'user_pref("app.update.enabled", false);',
  ].join('\n'));
  const url = `http://127.0.0.1:${server.address().port}/#auto`;
  const ff = spawn(bin, ['--headless', '--no-remote', '--profile', profile, url], { stdio: 'ignore' });
  const timeout = new Promise((_, rej) => setTimeout(() => rej(new Error('firefox timed out')), 60000));
  try {
    await Promise.race([done, timeout]);
    for (const [name, sdp] of results) {
      if (sdp.startsWith('ERROR')) throw new Error(`firefox ${name}: ${sdp}`);
      save(name === 'plain' ? 'firefox-offer.sdp' : 'firefox-simulcast-offer.sdp', sdp);
    }
  } finally {
    ff.kill('SIGTERM');
    server.close();
    setTimeout(() => rmSync(profile, { recursive: true, force: true }), 1000);
  }
}

// A client's answer to a script offer: the videoroom subscriber offer recorded from
// janus-sdp.lua, merged by our own mergeLocalSdp with the fixed transport below (needs
// `npx tsc` first), answered by Chromium. The test rebuilds the same offer from the same inputs.
export const SUBSCRIBER_OFFER_CONTEXT = {
  type: 'offer',
  announcedIp: '127.0.0.1',
  iceParameters: { usernameFragment: 'recordufrag', password: 'recordpassword1234567890', iceLite: true },
  iceCandidates: [{ foundation: 'udpcandidate', priority: 1076302079, ip: '127.0.0.1', protocol: 'udp', port: 40000, type: 'host' }],
  dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: '5A:6B:7C:8D:9E:AF:B0:C1:D2:E3:F4:05:16:27:38:49:5A:6B:7C:8D:9E:AF:B0:C1:D2:E3:F4:05:16:27:38:49' }] },
  localSsrcs: { 0: { ssrc: 11111111 }, 1: { ssrc: 22222222, rtxSsrc: 33333333 } },
  sessionId: '1763700000000',
};

async function recordChromeAnswer() {
  const { mergeLocalSdp } = require('../dist/src/media/sdp/merge.js');
  const { readFileSync } = await import('node:fs');
  const offer = mergeLocalSdp(readFileSync(join(OUT, 'lua-videoroom-subscriber-offer.sdp'), 'utf8'), SUBSCRIBER_OFFER_CONTEXT).sdp;
  const { chromium } = require('playwright-core');
  const server = await startServer(() => undefined);
  const userDataDir = mkdtempSync(join(tmpdir(), 'sdp-chrome-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await ctx.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const answer = await page.evaluate(async (sdp) => {
      const pc = new RTCPeerConnection();
      await pc.setRemoteDescription({ type: 'offer', sdp });
      const a = await pc.createAnswer();
      await pc.setLocalDescription(a);
      const out = pc.localDescription.sdp;
      pc.close();
      return out;
    }, offer);
    save('chrome-answer-to-subscriber-offer.sdp', answer);
  } finally {
    await ctx.close();
    server.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

const which = process.argv.slice(2);
const all = { chrome: recordChrome, wrtc: recordWrtc, firefox: recordFirefox, 'chrome-answer': recordChromeAnswer };
for (const name of which.length ? which : Object.keys(all)) {
  try { await all[name](); } catch (e) { console.error(`${name}: ${e.stack ?? e}`); process.exitCode = 1; }
}
process.exit();
