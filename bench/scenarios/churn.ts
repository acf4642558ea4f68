// Scenario `churn`: --sessions parallel loops, each with its own connection and session,
// repeating attach -> negotiate (the peer's offer in a `message`, the plugin's answer) ->
// hangup -> detach, until --cycles cycles in total or --duration seconds. By default the offer
// is one recorded libwebrtc offer (audio, video, data) and only SDP is negotiated; with
// --connect each cycle is a fresh peer that connects (ICE, DTLS) up to webrtcup: by default a
// light libdatachannel peer (`ConnectPeer`), with --peer libwebrtc a `MediaPeer`. Reports
// cycles/s, the cycle time (with --connect also offer -> webrtcup), and with --server-pid
// the server's memory slope (MB per minute and KB per 1,000 cycles): a leak shows as a slope
// that does not flatten. --warmup runs cycles first without counting them.

import { performance } from 'node:perf_hooks';
import type { JsonObject } from '../../src/plugin/json';
import { isJsonObject } from '../../src/plugin/json';
import { BenchFailure, JanusReplyError, errorCode, oneLine } from '../lib/errors';
import type { JanusConnection } from '../lib/janus-client';
import { ConnectPeer, isIceLite } from '../lib/connect-peer';
import { MediaPeer } from '../lib/peer';
import type { Description } from '../lib/wrtc-types';
import { type Counters, type CpuWindow, type RunContext, type Scenario, type ScenarioOutcome, cpuPer } from '../lib/run';
import { MIN_TREND_SECONDS, Samples, Tally, rate, slope, trendPerMinute } from '../lib/stats';
import { HandleWatch, fmtMs, fmtRate, openSession } from './common';

const FAIL_FAST_ERRORS = 10;

/** What a cycle needs of its peer; both kinds of peer have it. */
interface CyclePeer {
  offer(): Promise<Description>;
  accept(answer: Description): Promise<void>;
  close(): void;
}

export class ChurnScenario implements Scenario {
  readonly unit = 'cycles';
  private lanesUp = 0;
  private cycles = 0;
  private started = 0;
  private readonly errors = new Tally();
  /** The server's last answer said ICE-lite: light peers then offer to be the DTLS client. */
  private serverIceLite = false;
  private readonly cycleMs = new Samples();
  /** With --connect: from sending the offer to the handle's webrtcup. */
  private readonly webrtcupMs = new Samples();
  /** (cycles done, server RSS MB) once a second, for the slope per cycle. */
  private readonly memory: Array<{ at: number; cycles: number; rssMb: number }> = [];

  counters(): Counters {
    return { sessionsUp: this.lanesUp, operations: this.cycles, errors: this.errors.total };
  }

  async run(context: RunContext): Promise<ScenarioOutcome> {
    const { options } = context;
    let recorded: Description | undefined;
    if (!options.connect) {
      const recorder = new MediaPeer({ audio: true, video: true, data: true, width: 160, height: 120, fps: 1 });
      recorded = await recorder.offer();
      recorder.close();
    }
    const sampleMemory = (): void => {
      if (!context.server) return;
      this.memory.push({ at: performance.now(), cycles: this.cycles, rssMb: context.server.sample().rssBytes / 1048576 });
    };
    // Cycles begun during the warm-up run but are not counted (nor against --cycles); the
    // figures (time, CPU, memory) start when it ends. A JIT-compiled server (luasfu) pays for
    // compiling, and after an idle spell for growing its heap again, in its first cycles.
    const measuredFrom = performance.now() + options.warmup * 1000;
    const deadline = measuredFrom + options.duration * 1000;
    let sampler: NodeJS.Timeout | undefined;
    let cpu: CpuWindow | undefined;
    const startMeasuring = (): void => {
      if (context.stopped) return;
      cpu = context.cpuWindow();
      sampleMemory();
      sampler = setInterval(sampleMemory, 1000);
    };
    let warmupOver = Promise.resolve();
    if (options.warmup > 0) warmupOver = context.sleep(options.warmup * 1000).then(startMeasuring);
    else startMeasuring();
    try {
      const lanes = await context.ramp(options.sessions, async () => {
        const lane = await openSession(context);
        // The lane's first handle is only there to prove the plugin exists; churn uses its own.
        await lane.connection.call({ janus: 'detach', session_id: lane.connection.sessionId, handle_id: lane.handleId });
        this.lanesUp++;
        try {
          while (!context.stopped && this.started < options.cycles && performance.now() < deadline) {
            const counted = performance.now() >= measuredFrom;
            if (counted) this.started++;
            await this.cycle(context, lane.connection, recorded, counted);
          }
        } finally {
          this.lanesUp--;
          await lane.connection.close();
        }
      });
      const failed = lanes.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed && this.cycles === 0) throw failed.reason instanceof BenchFailure ? failed.reason : new BenchFailure(oneLine(failed.reason));
    } finally {
      clearInterval(sampler);
    }
    await warmupOver;
    sampleMemory();
    const seconds = Math.max(0, (performance.now() - measuredFrom) / 1000);
    return this.outcome(context, seconds, cpu?.end().serverCpuMs ?? null);
  }

  /** One cycle; only a `counted` one (begun after the warm-up) goes into the figures. */
  private async cycle(context: RunContext, connection: JanusConnection, recorded: Description | undefined, counted: boolean): Promise<void> {
    const { options } = context;
    const begun = performance.now();
    let handleId = 0;
    let peer: CyclePeer | undefined;
    let watch: HandleWatch | undefined;
    try {
      handleId = await connection.attach(options.plugin);
      let offer = recorded;
      if (!offer) {
        const id = handleId;
        const trickle = (candidate: JsonObject): void => connection.trickle(id, candidate);
        peer = options.peer === 'libdatachannel'
          ? new ConnectPeer({ audio: options.audio, video: options.video }, trickle, this.serverIceLite)
          : new MediaPeer({ audio: options.audio, video: options.video, data: false, width: options.width, height: options.height, fps: options.fps }, trickle);
        watch = new HandleWatch(connection, handleId);
        offer = await peer.offer();
      }
      const sentAt = performance.now();
      const reply = await connection.message(handleId, { audio: options.audio, video: options.video, data: recorded !== undefined }, { ...offer });
      const jsep = reply.jsep;
      if (!isJsonObject(jsep) || jsep.type !== 'answer' || typeof jsep.sdp !== 'string') {
        throw new JanusReplyError('no-answer', `no SDP answer in ${JSON.stringify(reply).slice(0, 200)}`);
      }
      this.serverIceLite = isIceLite(jsep.sdp);
      if (peer && watch) {
        await peer.accept({ type: 'answer', sdp: jsep.sdp });
        await watch.wait('webrtcup', Math.max(options.timeoutMs, 10_000), context.signal);
        if (counted) this.webrtcupMs.add(performance.now() - sentAt);
      }
      await connection.call({ janus: 'hangup', session_id: connection.sessionId, handle_id: handleId });
      const detached = handleId;
      handleId = 0;
      await connection.call({ janus: 'detach', session_id: connection.sessionId, handle_id: detached });
      if (counted) {
        this.cycles++;
        this.cycleMs.add(performance.now() - begun);
      }
    } catch (error) {
      if (context.stopped) return;
      this.errors.add(errorCode(error), oneLine(error));
      if (this.cycles === 0 && this.errors.total >= FAIL_FAST_ERRORS) context.stop(`every cycle fails: ${oneLine(error)}`);
      if (handleId !== 0) {
        const request: JsonObject = { janus: 'detach', session_id: connection.sessionId, handle_id: handleId };
        await connection.call(request, 3000).catch(() => undefined);
      }
    } finally {
      watch?.close();
      peer?.close();
    }
  }

  private outcome(context: RunContext, seconds: number, serverCpuMs: number | null): ScenarioOutcome {
    const { options } = context;
    const cycleMs = this.cycleMs.summary();
    const webrtcupMs = options.connect ? this.webrtcupMs.summary() : undefined;
    const cyclesPerSec = rate(this.cycles, seconds);
    const measured = this.memory.length >= 2;
    const first = this.memory[0];
    const perMinute = measured ? trendPerMinute(this.memory.map((m) => ({ tSec: (m.at - first!.at) / 1000, value: m.rssMb }))) : null;
    // Per 1,000 cycles under the same condition (long enough to mean something).
    const perKCycles = perMinute === null ? null : slope(this.memory.map((m) => [m.cycles / 1000, m.rssMb * 1024] as const));
    const last = this.memory[this.memory.length - 1];
    // The second half alone tells a heap that warmed up (flat there) from a leak (still rising).
    const half = measured ? (first!.at + last!.at) / 2 : 0;
    const lateSamples = this.memory.filter((m) => m.at >= half).map((m) => ({ tSec: (m.at - first!.at) / 1000, value: m.rssMb }));
    const perMinuteLate = measured ? trendPerMinute(lateSamples) : null;
    const serverCpuMsPerCycle = cpuPer(serverCpuMs, this.cycles, 1);
    return {
      figures: {
        unit: this.unit,
        lanes: options.sessions,
        cycles: this.cycles,
        measuredSec: Number(seconds.toFixed(3)),
        cyclesPerSec,
        cycleMs: { ...cycleMs },
        ...(webrtcupMs ? { offerToWebrtcupMs: { ...webrtcupMs } } : {}),
        serverCpuMsPerCycle: serverCpuMsPerCycle ?? 'not measured',
        negotiation: options.connect ? 'ice+dtls' : 'sdp',
        ...(options.connect ? { peer: options.peer } : {}),
        serverMemory: measured
          ? {
            rssMbStart: Number(first!.rssMb.toFixed(2)),
            rssMbEnd: Number(last!.rssMb.toFixed(2)),
            slopeMbPerMin: perMinute === null ? null : Number(perMinute.toFixed(3)),
            slopeKbPer1000Cycles: perKCycles === null ? null : Number(perKCycles.toFixed(1)),
            slopeSecondHalfMbPerMin: perMinuteLate === null ? null : Number(perMinuteLate.toFixed(3)),
          }
          : 'not measured',
      },
      rows: [
        ['cycles', `${this.cycles} over ${options.sessions} loops in ${seconds.toFixed(1)} s (${options.connect ? `ICE + DTLS to webrtcup, ${options.peer} peers` : 'SDP offer/answer only'})`],
        ['throughput', `${fmtRate(cyclesPerSec)} cycles/s`],
        ['server CPU per cycle', serverCpuMsPerCycle === null ? 'not measured' : `${serverCpuMsPerCycle} ms`],
        ['cycle time', `p50 ${fmtMs(cycleMs.p50)}, p99 ${fmtMs(cycleMs.p99)}, max ${fmtMs(cycleMs.max)}`],
        ...(webrtcupMs ? [['offer -> webrtcup', `p50 ${fmtMs(webrtcupMs.p50)}, p99 ${fmtMs(webrtcupMs.p99)}, max ${fmtMs(webrtcupMs.max)}`] as [string, string]] : []),
        ['memory slope', !measured
          ? 'not measured (give --server-pid)'
          : perMinute === null
            ? `run too short for a slope (needs ${MIN_TREND_SECONDS} s); RSS ${first!.rssMb.toFixed(1)} -> ${last!.rssMb.toFixed(1)} MB`
            : `${perMinute.toFixed(2)} MB/min, ${perKCycles === null ? '-' : perKCycles.toFixed(0)} KB per 1,000 cycles; second half ` +
              `${perMinuteLate === null ? '- (too short)' : `${perMinuteLate.toFixed(2)} MB/min`} (RSS ${first!.rssMb.toFixed(1)} -> ${last!.rssMb.toFixed(1)} MB)`],
      ],
      histograms: [{ name: 'cycleMs', title: 'Cycle time (attach to detached)', buckets: this.cycleMs.histogram() }],
      errors: this.errors,
      attempts: this.cycles + this.errors.total,
    };
  }
}
