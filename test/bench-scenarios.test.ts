// luasfu-bench end to end: every scenario, run by the built command against a luasfu child
// process (lua/echotest.lua and lua/videoroom.lua, one mediasoup worker), with --server-pid
// and --admin-url, small counts and a few seconds each. Each run must yield its figures, leave
// no session behind, and write a report that Chromium renders with its charts.

import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { JsonObject } from '../src/plugin/json';
import { CHROMIUM } from './browser/harness';
import { type BenchRun, runBench } from './support/bench-cli';
import { type LuasfuProcess, freePort, startLuasfuProcess } from './support/luasfu-process';

const ROOT = resolve(__dirname, '..', '..');

describe('luasfu-bench scenarios against luasfu', function () {
  this.timeout(90_000);
  let server: LuasfuProcess;
  let dir: string;
  /** Where the server POSTs its jsep and webrtc events; the echo run listens there (--events-port). */
  let eventsPort: number;

  before(async () => {
    eventsPort = await freePort();
    server = await startLuasfuProcess([{ path: join(ROOT, 'lua', 'echotest.lua') }, { path: join(ROOT, 'lua', 'videoroom.lua') }], 1, {
      eventHandlers: { enabled: true, http: { url: `http://127.0.0.1:${eventsPort}/`, events: ['jsep', 'webrtc'], flushMs: 50 } },
    });
    dir = mkdtempSync(join(tmpdir(), 'luasfu-bench-test-'));
  });

  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The run's common arguments: this server, measured, checked, JSON and a report. */
  const target = (name: string, url = server.urls.ws): string[] => [
    '--url', url, '--server-pid', String(server.pid), '--admin-url', server.urls.adminHttp, '--admin-secret', server.adminSecret,
    '--json', '--report', join(dir, `${name}.html`),
  ];

  /** A successful run's JSON, with the checks every scenario shares. */
  function succeeded(run: BenchRun): JsonObject {
    expect(run.code, `exit code; stderr:\n${run.stderr}\nserver log:\n${server.log()}`).to.equal(0);
    const result = run.json();
    expect(result.ok).to.equal(true);
    expect(result.failure).to.equal(null);
    // CPU and memory of luasfu and its mediasoup worker, from /proc.
    const measured = result.server as JsonObject;
    expect(measured.measured).to.equal(true);
    expect(measured.processes).to.be.at.least(2);
    expect((measured.rssMb as JsonObject).end).to.be.above(20);
    expect((measured.cpuPercent as JsonObject).mean).to.be.above(0);
    // The split adds up to the whole (each part rounded).
    const parts = measured.cpuMsByPart as { mainThread: number; otherThreads: number; children: number };
    expect(parts.mainThread).to.be.above(0);
    expect(parts.otherThreads).to.be.at.least(0);
    expect(parts.children).to.be.at.least(0);
    expect(Math.abs(parts.mainThread + parts.otherThreads + parts.children - (measured.cpuMs as number))).to.be.at.most(2);
    expect(run.stderr).to.match(/server CPU by part +\d+ ms: main thread \d+, other threads \d+, child processes \d+/);
    // Everything created was destroyed.
    expect(result.adminSessions).to.deep.include({ left: 0 });
    expect((result.client as JsonObject).cpuPercent).to.be.a('number');
    expect((result.timeline as JsonObject[]).length).to.be.at.least(2);
    // The progress line went to stderr, the summary table too (stdout is the JSON).
    expect(run.stderr).to.match(/sessions \d+ +\d+ \w+\/s/);
    expect(run.stderr).to.include(`luasfu-bench ${String(result.scenario)}: OK`);
    return result;
  }

  it('api over WebSocket: messages/s, latency percentiles, no errors', async () => {
    // 3,200 messages: ~150 ms of server CPU on a fast host, several of /proc's 10 ms ticks per part.
    const run = await runBench(['api', ...target('api'), '--sessions', '8', '--messages', '400'], 60_000);
    const result = succeeded(run);
    expect(result.replies).to.equal(8 * 400);
    expect(result.msgsPerSec).to.be.above(0);
    const latency = result.latencyMs as JsonObject;
    expect(latency.count).to.equal(8 * 400);
    const order = ['min', 'p50', 'p90', 'p99', 'max'].map((k) => latency[k] as number);
    expect(order).to.deep.equal([...order].sort((a, b) => a - b));
    expect(latency.min).to.be.above(0);
    expect(result.errors).to.deep.include({ total: 0, byCode: {} });
    expect(result.serverCpuUsPerMsg).to.be.a('number').and.above(0);
    expect(result.clientCpuUsPerMsg).to.be.a('number').and.above(0);
  });

  it('api over HTTP long poll', async () => {
    const run = await runBench(['api', ...target('api-http', server.urls.http), '--sessions', '4', '--messages', '50'], 60_000);
    const result = succeeded(run);
    expect(result.target).to.deep.include({ transport: 'http long poll' });
    expect(result.replies).to.equal(200);
  });

  it('api without --server-pid says "not measured", never a zero', async () => {
    const run = await runBench(['api', '--url', server.urls.ws, '--sessions', '2', '--messages', '20', '--quiet'], 30_000);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/server CPU +not measured/);
    expect(run.stdout).to.match(/server memory +not measured/);
    expect(run.stdout).not.to.match(/server CPU +0/);
    expect(run.stdout).to.match(/CPU per message +server not measured/);
    expect(run.stderr).to.equal(''); // --quiet: no progress line
  });

  it('echo: every session receives and decodes media and data, offer->webrtcup measured', async () => {
    const run = await runBench(['echo', ...target('echo'), '--sessions', '2', '--duration', '3', '--data', '--warmup', '1', '--width', '160', '--height', '120', '--fps', '10',
      '--events-port', String(eventsPort)], 60_000);
    const result = succeeded(run);
    expect(result.sessions).to.equal(2);
    expect(result.packetsRelayed).to.be.above(0);
    expect(result.packetsRelayedAudio).to.be.above(0);
    expect(result.packetsRelayedVideo).to.be.above(0);
    for (const session of result.perSession as JsonObject[]) {
      expect(session.framesDecoded, JSON.stringify(session)).to.be.above(0);
      expect(session.packetsReceivedAudio).to.be.above(0);
      expect(session.dataReceived).to.be.above(0);
      expect(session.frameSize).to.equal('160x120');
      expect(session.offerToWebrtcupMs).to.be.above(session.offerToAnswerMs as number);
    }
    expect((result.offerToWebrtcupMs as JsonObject).count).to.equal(2);
    expect(result.serverCpuMsPer1kPackets).to.be.a('number').and.above(0);
    // The server's own clock (its event handler POSTs): both joins, in order, inside what the
    // client measured from sending the offer to receiving webrtcup.
    const server = result.serverJoinPhasesMs as Record<string, JsonObject> & { sessions: number };
    expect(server.sessions).to.equal(2);
    for (const phase of ['answer', 'ice', 'dtls', 'webrtcup']) expect(server[phase]!.min, phase).to.be.at.least(0);
    expect(server.answer!.min).to.be.above(0);
    expect(server.total!.max).to.be.at.most((result.offerToWebrtcupMs as JsonObject).max as number);
    expect(run.stderr).to.match(/server clock \(p50\) +offer event -> answer event [\d.]+ ms, .*\(2 of 2 sessions\)/);
    // Crossings between the processes, on the machine's one wall clock: never backwards (1 ms
    // of slack for the clocks' rounding), and inside what the client measured.
    const crossings = result.crossingsMs as Record<string, JsonObject> & { sessions: number };
    expect(crossings.sessions).to.equal(2);
    for (const crossing of ['offerIn', 'answerOut', 'webrtcupOut']) {
      expect(crossings[crossing]!.min, crossing).to.be.at.least(-1);
      expect(crossings[crossing]!.max, crossing).to.be.below((result.offerToWebrtcupMs as JsonObject).max as number);
    }
    // The bench's own event loop while the sessions joined, and the client-bound mark from it.
    const client = result.clientDuringJoins as JsonObject;
    expect(client.eventLoopUtilization).to.be.within(0, 1);
    expect(client.delayMaxMs).to.be.at.least(client.delayP50Ms as number);
    expect(result.joinsClientBound).to.equal((client.eventLoopUtilization as number) > 0.9);
    expect(run.stderr).to.match(/client while joining +event loop busy \d+%, timer late p50 [\d.]+ ms/);
    // CPU in the same window: the server's threads ran (they answered two offers), no more than
    // every core for the whole window; the bench likewise.
    const cpu = result.cpuDuringJoins as JsonObject;
    const most = (cpu.windowMs as number) * availableParallelism();
    expect(cpu.windowMs).to.be.above(0);
    expect(cpu.serverCpuMs).to.be.a('number').and.above(0).and.at.most(most);
    expect(cpu.clientCpuMs).to.be.a('number').and.above(0).and.at.most(most);
    expect(run.stderr).to.match(/CPU while joining +[\d.]+ ms: server [\d.]+ ms, bench [\d.]+ ms/);
  });

  it('videoroom (1.x API, the default): every subscriber decodes a frame, packets delivered vs expected', async () => {
    const run = await runBench(['videoroom', ...target('videoroom'), '--publishers', '1', '--subscribers', '2', '--duration', '3', '--warmup', '1', '--width', '160', '--height', '120', '--fps', '10'], 60_000);
    const result = succeeded(run);
    expect(result.settings).to.deep.include({ videoroomApi: '1.x' });
    expect(result.target).to.deep.include({ plugin: 'janus.plugin.videoroom' });
    expect(result.publishers).to.equal(1);
    expect(result.subscribers).to.equal(2);
    expect((result.firstFrameMs as JsonObject).count).to.equal(2);
    expect((result.firstFrameMs as JsonObject).min).to.be.above(0);
    expect(result.packetsExpected).to.be.above(0);
    expect(result.packetsDelivered).to.be.above(0);
    // Loopback, 2 subscribers: close to everything arrives (the windows of sender and receivers differ by a few packets).
    expect(result.lossPercent).to.be.below(20);
  });

  it('videoroom (legacy API of videoroom.lua): publishers and subscribers over HTTP long poll', async () => {
    const run = await runBench(['videoroom', ...target('videoroom-legacy', server.urls.http), '--videoroom-api', 'legacy', '--publishers', '2', '--subscribers', '1', '--duration', '2', '--warmup', '1', '--width', '160', '--height', '120', '--fps', '10'], 60_000);
    const result = succeeded(run);
    expect(result.settings).to.deep.include({ videoroomApi: 'legacy' });
    expect(result.subscribers).to.equal(2);
    expect((result.firstFrameMs as JsonObject).count).to.equal(2);
    expect(result.packetsDelivered).to.be.above(0);
  });

  it('churn: cycles/s and the server memory slope', async () => {
    // Bounded by time here (5 s, long enough for a slope), by the cycle count in the next run.
    const run = await runBench(['churn', ...target('churn'), '--sessions', '1', '--cycles', '100000', '--duration', '5'], 60_000);
    const result = succeeded(run);
    expect(result.cycles).to.be.above(0);
    expect(result.measuredSec).to.be.within(5, 15);
    expect(result.cyclesPerSec).to.be.above(0);
    expect((result.cycleMs as JsonObject).count).to.equal(result.cycles);
    const memory = result.serverMemory as JsonObject;
    expect(memory.slopeMbPerMin).to.be.a('number');
    expect(memory).to.have.property('slopeSecondHalfMbPerMin'); // a number from 8 s of run on, null before
    expect(memory.rssMbStart).to.be.above(20);
    expect(result.serverCpuMsPerCycle).to.be.a('number').and.above(0);

    const counted = succeeded(await runBench(['churn', ...target('churn-count'), '--sessions', '2', '--cycles', '30'], 60_000));
    expect(counted.cycles).to.equal(30);
    expect(counted.serverMemory).to.deep.include({ slopeMbPerMin: null }); // too short to tell
  });

  it('churn --warmup: cycles of the warm-up run but are not counted, the figures start after it', async () => {
    const run = await runBench(['churn', ...target('churn-warmup'), '--sessions', '2', '--cycles', '20', '--warmup', '1.5'], 60_000);
    const result = succeeded(run);
    expect(result.settings).to.deep.include({ warmupSec: 1.5 });
    // --cycles counts measured cycles only: the warm-up's come on top.
    expect(result.cycles).to.equal(20);
    expect((result.cycleMs as JsonObject).count).to.equal(20);
    // Measured from the end of the warm-up: 20 cycles take well under its 1.5 s on this server.
    expect(result.measuredSec).to.be.below(1.5);
    // ...while the run itself lasted the warm-up and more.
    expect(result.elapsedSec).to.be.above(1.5);
    expect(result.serverCpuMsPerCycle).to.be.a('number').and.above(0);
  });

  // Both peers: libdatachannel (the default: ICE and DTLS, no media engine) and libwebrtc.
  // Enough cycles for the server's CPU to show in /proc's 10 ms ticks: 3 light cycles took
  // ~40 ms on a fast host, and a tick or none (libwebrtc costs the client more per cycle).
  const peers = [
    { peer: 'libdatachannel', cycles: 20, extra: [] },
    { peer: 'libwebrtc', cycles: 8, extra: ['--width', '160', '--height', '120', '--fps', '10'] },
  ] as const;
  for (const { peer, cycles, extra } of peers) {
    it(`churn --connect --peer ${peer}: each cycle connects to webrtcup, offer->webrtcup measured per cycle`, async () => {
      const run = await runBench(['churn', ...target(`churn-connect-${peer}`), '--connect', '--peer', peer, '--sessions', '1', '--cycles', String(cycles), ...extra], 60_000);
      const result = succeeded(run);
      expect(result.cycles).to.equal(cycles);
      expect(result.negotiation).to.equal('ice+dtls');
      expect(result.peer).to.equal(peer);
      expect(run.stderr).to.include(`ICE + DTLS to webrtcup, ${peer} peers`);
      const webrtcup = result.offerToWebrtcupMs as JsonObject;
      expect(webrtcup.count).to.equal(cycles);
      expect(webrtcup.p50).to.be.a('number').and.above(0);
      // Part of the cycle (attach to detached), so never longer than it.
      expect(webrtcup.max as number).to.be.at.most((result.cycleMs as JsonObject).max as number);
    });
  }

  it('the HTML reports are self-contained and render their charts in Chromium', async function () {
    if (!existsSync(CHROMIUM)) this.skip();
    const reports = ['api', 'echo', 'videoroom', 'churn'].map((name) => join(dir, `${name}.html`));
    for (const report of reports) {
      const html = readFileSync(report, 'utf8');
      expect(html).not.to.match(/<script|<link|src=|href=/i); // nothing to fetch
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      for (const report of reports) {
        await page.goto(`file://${report}`);
        const charts = await page.$$eval('svg.chart', (svgs) => svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          const bars = [...svg.querySelectorAll('rect.bar')].filter((bar) => bar.getBoundingClientRect().height > 0).length;
          const lines = [...svg.querySelectorAll('polyline.line')].map((line) => ({
            series: line.getAttribute('data-series'),
            points: (line.getAttribute('points') ?? '').trim().split(/\s+/).length,
            width: line.getBoundingClientRect().width,
          }));
          return { kind: svg.getAttribute('data-chart'), name: svg.getAttribute('data-name'), width: box.width, height: box.height, bars, lines };
        }));
        const byName = new Map(charts.map((c) => [c.name, c]));
        const histogram = charts.find((c) => c.kind === 'histogram');
        expect(histogram, report).to.not.equal(undefined);
        expect(histogram!.width).to.be.above(100);
        expect(histogram!.bars, `${report}: histogram bars drawn`).to.be.above(0);
        const throughput = byName.get('throughput')!;
        expect(throughput.lines[0]!.points).to.be.at.least(2);
        expect(throughput.lines[0]!.width).to.be.above(10);
        const cpu = byName.get('cpu')!;
        expect(cpu.lines.map((l) => l.series)).to.include.members(['serverCpuPercent', 'clientCpuPercent']);
        expect(byName.get('memory')!.lines[0]!.points).to.be.at.least(1);
        expect(await page.textContent('.status')).to.equal('Result: ok');
      }
    } finally {
      await browser.close();
    }
  });
});
