// Runs one scenario: the time bound and Ctrl-C (one AbortSignal), the once-a-second timeline
// (operations, sessions, errors, server and client CPU, server memory), the progress line,
// and the result every output is made from.

import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { JsonObject } from '../../src/plugin/json';
import { adminSessionCount } from './admin';
import { BenchFailure, Interrupted, oneLine } from './errors';
import type { BenchOptions } from './options';
import { ProcessTreeSampler, type TreeSample } from './proc';
import { ServerEventCollector } from './server-events';
import { type HistogramBucket, type Tally, rate, trendPerMinute } from './stats';

/** Cumulative counters a scenario exposes for the progress line and the timeline. */
export interface Counters {
  sessionsUp: number;
  /** The scenario's unit of work so far (messages, packets relayed, cycles). */
  operations: number;
  errors: number;
}

export interface NamedHistogram {
  /** camelCase key, e.g. latencyMs. */
  name: string;
  title: string;
  buckets: HistogramBucket[];
}

/** What a scenario hands back. */
export interface ScenarioOutcome {
  /** Every figure, camelCase keys; merged into the top level of the JSON document. */
  figures: JsonObject;
  /** The human summary, label and value. */
  rows: Array<[string, string]>;
  histograms: NamedHistogram[];
  errors: Tally;
  /** Operations attempted, the denominator of the error rate. */
  attempts: number;
  /** Set when the figures must not be trusted (e.g. no media arrived). */
  failure?: string;
}

export interface Scenario {
  /** Unit of `operations`, plural (msgs, pkts, cycles). */
  readonly unit: string;
  counters(): Counters;
  run(context: RunContext): Promise<ScenarioOutcome>;
}

export interface TimelinePoint {
  tSec: number;
  sessionsUp: number;
  /** Operations per second over the last interval. */
  opsPerSec: number;
  errors: number;
  serverCpuPercent: number | null;
  serverRssMb: number | null;
  clientCpuPercent: number;
}

const mb = (bytes: number): number => Number((bytes / 1048576).toFixed(2));

export interface CpuWindow {
  /** CPU ms used since the window began; the server's null without --server-pid. */
  end(): { serverCpuMs: number | null; clientCpuMs: number };
}

/** CPU per unit of work in `scale` units (e.g. µs per message: scale 1000 from ms); null when not measured. */
export function cpuPer(cpuMs: number | null, count: number, scale: number): number | null {
  if (cpuMs === null || count <= 0) return null;
  return Number(((cpuMs * scale) / count).toFixed(2));
}

/** What scenarios get from the runner. */
export class RunContext {
  private readonly controller = new AbortController();
  interruptedByUser = false;

  constructor(
    readonly options: BenchOptions,
    /** Server sampler with --server-pid, else undefined ("not measured"). */
    readonly server: ProcessTreeSampler | undefined,
    /** The server's events with --events-port, else undefined. */
    readonly events?: ServerEventCollector,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  stop(reason: string): void {
    if (!this.controller.signal.aborted) this.controller.abort(new BenchFailure(reason));
  }

  /** Sleeps, returning early when the run is stopped. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped || ms <= 0) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.signal.addEventListener('abort', done);
    });
  }

  /** Starts measuring CPU (server with --server-pid, this process always) for a window. */
  cpuWindow(): CpuWindow {
    const server = this.server?.sample();
    const client = process.cpuUsage();
    return {
      end: () => {
        const used = process.cpuUsage(client);
        return {
          serverCpuMs: server && this.server ? this.server.sample().cpuMs - server.cpuMs : null,
          clientCpuMs: (used.user + used.system) / 1000,
        };
      },
    };
  }

  /** Starts `count` tasks at --ramp per second (all at once without it); resolves with their results. */
  async ramp<T>(count: number, start: (index: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
    const started: Array<Promise<T>> = [];
    const interval = this.options.ramp > 0 ? 1000 / this.options.ramp : 0;
    for (let i = 0; i < count && !this.stopped; i++) {
      started.push(start(i));
      if (interval > 0) await this.sleep(interval);
    }
    return Promise.allSettled(started);
  }
}

export interface BenchResult extends JsonObject {
  ok: boolean;
  failure: string | null;
}

/** Runs `scenario` with progress, timeline and bounds; returns the JSON-able result. */
export async function runScenario(options: BenchOptions, scenario: Scenario, version: string): Promise<BenchResult> {
  let sampler: ProcessTreeSampler | undefined;
  if (options.serverPid !== undefined) {
    sampler = new ProcessTreeSampler(options.serverPid);
    if (!sampler.alive()) throw new BenchFailure(`--server-pid ${options.serverPid}: no such process`);
  }
  const events = options.eventsPort === undefined ? undefined : await ServerEventCollector.listen(options.eventsPort);
  const context = new RunContext(options, sampler, events);
  const adminCount = (): Promise<number> | undefined =>
    options.adminUrl === undefined ? undefined : adminSessionCount(options.adminUrl, options.adminSecret, options.timeoutMs);
  const sessionsBefore = await adminCount();
  const startedAt = new Date();
  const t0 = performance.now();
  // The timeline starts at zero: nothing up, nothing done, nothing measured yet.
  const timeline: TimelinePoint[] = [{ tSec: 0, sessionsUp: 0, opsPerSec: 0, errors: 0, serverCpuPercent: null, serverRssMb: null, clientCpuPercent: 0 }];
  const serverSamples: TreeSample[] = [];
  let lastServer = sampler?.sample();
  if (lastServer) serverSamples.push(lastServer);
  const cpuStart = process.cpuUsage();
  const eluStart = performance.eventLoopUtilization();
  let lastCpu = process.cpuUsage();
  let lastAt = t0;
  let lastOps = 0;
  const cores = availableParallelism();

  const progress = new ProgressLine(options.quiet);
  const tick = (): void => {
    const now = performance.now();
    const seconds = (now - lastAt) / 1000;
    const counters = scenario.counters();
    const cpu = process.cpuUsage(lastCpu);
    lastCpu = process.cpuUsage();
    let serverCpuPercent: number | null = null;
    let serverRssMb: number | null = null;
    if (sampler && lastServer) {
      const sample = sampler.sample();
      serverCpuPercent = Number((((sample.cpuMs - lastServer.cpuMs) / (sample.at - lastServer.at)) * 100).toFixed(1));
      serverRssMb = mb(sample.rssBytes);
      serverSamples.push(sample);
      lastServer = sample;
    }
    const point: TimelinePoint = {
      tSec: Number(((now - t0) / 1000).toFixed(2)),
      sessionsUp: counters.sessionsUp,
      opsPerSec: rate(counters.operations - lastOps, seconds) ?? 0,
      errors: counters.errors,
      serverCpuPercent,
      serverRssMb,
      clientCpuPercent: Number((((cpu.user + cpu.system) / 1000 / (now - lastAt)) * 100).toFixed(1)),
    };
    timeline.push(point);
    lastOps = counters.operations;
    lastAt = now;
    progress.show(
      `${point.tSec.toFixed(0).padStart(4)} s  sessions ${counters.sessionsUp}  ${Math.round(point.opsPerSec)} ${scenario.unit}/s  ` +
        `total ${counters.operations}  errors ${counters.errors}  server CPU ${serverCpuPercent === null ? 'not measured' : `${serverCpuPercent}%`}  ` +
        `client CPU ${point.clientCpuPercent}%`,
    );
  };
  const ticker = setInterval(tick, 1000);

  // The time bound: the scenario's own duration plus room to set up and tear down; past it the
  // run is stopped, and if the scenario still does not return, the process leaves.
  const setupMs = 30_000 + 2 * options.timeoutMs + (options.ramp > 0 ? (options.sessions * 1000) / options.ramp : 0);
  const bound = setTimeout(() => {
    context.stop(`over the time bound (${Math.round(((options.duration + options.warmup) * 1000 + setupMs) / 1000)} s)`);
    setTimeout(() => {
      process.stderr.write('\nluasfu-bench: the scenario did not stop in time after the bound, exiting\n');
      process.exit(1);
    }, 20_000).unref();
  }, (options.duration + options.warmup) * 1000 + setupMs);

  // Ctrl-C: stop cleanly (detach, destroy) and report what was measured; twice: leave now.
  const onSigint = (): void => {
    if (context.stopped) {
      process.stderr.write('\nluasfu-bench: interrupted twice, exiting without cleanup\n');
      process.exit(130);
    }
    context.interruptedByUser = true;
    context.stop('interrupted');
  };
  process.on('SIGINT', onSigint);

  let outcome: ScenarioOutcome;
  try {
    outcome = await scenario.run(context);
  } catch (error) {
    if (context.interruptedByUser) throw new Interrupted('interrupted');
    throw error;
  } finally {
    clearInterval(ticker);
    clearTimeout(bound);
    process.off('SIGINT', onSigint);
    progress.end();
    await events?.close();
  }
  tick();
  progress.end();

  const elapsedMs = performance.now() - t0;
  const sessionsAfter = await adminCount();
  // Sessions other clients opened meanwhile count too; on a server of its own the run must leave none.
  const adminSessions: JsonObject | string = sessionsBefore === undefined || sessionsAfter === undefined
    ? 'not checked (give --admin-url)'
    : { before: sessionsBefore, after: sessionsAfter, left: sessionsAfter - sessionsBefore };
  const clientCpu = process.cpuUsage(cpuStart);
  const clientCpuPercent = Number((((clientCpu.user + clientCpu.system) / 1000 / elapsedMs) * 100).toFixed(1));
  const elu = performance.eventLoopUtilization(eluStart).utilization;
  // The client is the bottleneck when its event loop had no slack, or it took most of the machine.
  const bottleneck = elu > 0.9 || clientCpuPercent > 80 * cores;
  const clientWarning = bottleneck
    ? `the client was the bottleneck (event loop busy ${(elu * 100).toFixed(0)}%, CPU ${clientCpuPercent}% of one core, machine has ${cores}): ` +
      'these figures measure this tool as much as the server; use fewer sessions or another machine for the client'
    : null;

  const errorRate = outcome.attempts > 0 ? outcome.errors.total / outcome.attempts : 0;
  let failure: string | null = outcome.failure ?? null;
  if (failure === null && context.stopped && !context.interruptedByUser) failure = oneLine(context.signal.reason);
  if (failure === null && outcome.attempts === 0 && !context.interruptedByUser) failure = 'nothing was measured';
  if (failure === null && errorRate > options.maxErrorRate) {
    failure = `${outcome.errors.total} of ${outcome.attempts} operations failed (${(errorRate * 100).toFixed(1)}% > ` +
      `${(options.maxErrorRate * 100).toFixed(1)}%); first: ${outcome.errors.first ?? '?'}`;
  }

  const server: JsonObject = serverFigures(options, serverSamples);
  const result: BenchResult = {
    tool: 'luasfu-bench',
    version,
    scenario: options.scenario,
    unit: scenario.unit,
    ok: failure === null && !context.interruptedByUser,
    failure,
    interrupted: context.interruptedByUser,
    startedAt: startedAt.toISOString(),
    elapsedSec: Number((elapsedMs / 1000).toFixed(2)),
    target: {
      url: options.url,
      transport: options.url.startsWith('http') ? 'http long poll' : 'websocket',
      plugin: options.plugin,
    },
    settings: settingsOf(options),
    ...outcome.figures,
    errors: { total: outcome.errors.total, rate: Number(errorRate.toFixed(4)), byCode: outcome.errors.toJSON(), first: outcome.errors.first ?? null },
    server,
    adminSessions,
    client: {
      cpuPercent: clientCpuPercent,
      eventLoopUtilization: Number(elu.toFixed(3)),
      bottleneck,
      warning: clientWarning,
    },
    machine: { cores, cpuModel: cpus()[0]?.model ?? 'unknown', loadAverage: loadavg().map((l) => Number(l.toFixed(2))) },
    rows: outcome.rows.map(([label, value]) => [label, value]),
    histograms: outcome.histograms.map((h) => ({ name: h.name, title: h.title, buckets: h.buckets.map((b) => ({ ...b })) })),
    timeline: timeline.map((p) => ({ ...p })),
  };
  return result;
}

/** Server CPU and memory over the run, or "not measured" without --server-pid. */
function serverFigures(options: BenchOptions, samples: TreeSample[]): JsonObject {
  if (options.serverPid === undefined || samples.length < 2) {
    return { measured: false, note: 'not measured (give --server-pid)' };
  }
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const seconds = (last.at - first.at) / 1000;
  const percents: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if (b.at > a.at) percents.push(((b.cpuMs - a.cpuMs) / (b.at - a.at)) * 100);
  }
  const rssSlope = trendPerMinute(samples.map((s) => ({ tSec: (s.at - first.at) / 1000, value: s.rssBytes / 1048576 })));
  return {
    measured: true,
    pid: options.serverPid,
    processes: last.processes,
    cpuMs: Math.round(last.cpuMs - first.cpuMs),
    // Where that went: the root's main thread, its other threads (luasfu: script threads, V8's
    // GC and compiler threads), its child processes (luasfu: the mediasoup workers).
    cpuMsByPart: {
      mainThread: Math.round(last.mainThreadCpuMs - first.mainThreadCpuMs),
      otherThreads: Math.round(last.cpuMs - first.cpuMs - (last.mainThreadCpuMs - first.mainThreadCpuMs) - (last.childrenCpuMs - first.childrenCpuMs)),
      children: Math.round(last.childrenCpuMs - first.childrenCpuMs),
    },
    cpuPercent: { mean: Number((((last.cpuMs - first.cpuMs) / 1000 / seconds) * 100).toFixed(1)), max: Number(Math.max(...percents).toFixed(1)) },
    rssMb: { start: mb(first.rssBytes), end: mb(last.rssBytes), max: mb(Math.max(...samples.map((s) => s.rssBytes))) },
    rssSlopeMbPerMin: rssSlope === null ? null : Number(rssSlope.toFixed(3)),
  };
}

function settingsOf(options: BenchOptions): JsonObject {
  const common: JsonObject = { timeoutMs: options.timeoutMs, ramp: options.ramp, durationSec: options.duration, warmupSec: options.warmup };
  const media: JsonObject = { width: options.width, height: options.height, fps: options.fps, audio: options.audio, video: options.video };
  switch (options.scenario) {
    case 'api':
      return { ...common, sessions: options.sessions, messages: options.messages, body: options.body };
    case 'echo':
      return { ...common, ...media, sessions: options.sessions, data: options.data, eventsPort: options.eventsPort ?? null };
    case 'videoroom':
      return { ...common, ...media, publishers: options.publishers, subscribers: options.subscribers, videoroomApi: options.videoroomApi, room: options.room ?? null };
    case 'churn':
      return { ...common, lanes: options.sessions, cycles: options.cycles, connect: options.connect };
  }
}

/** The live progress line on stderr: rewritten in place on a terminal, one line per tick otherwise. */
class ProgressLine {
  private shown = false;

  constructor(private readonly quiet: boolean) {}

  show(text: string): void {
    if (this.quiet) return;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r\x1b[2K${text}`);
      this.shown = true;
    } else {
      process.stderr.write(`${text}\n`);
    }
  }

  end(): void {
    if (this.shown) process.stderr.write('\n');
    this.shown = false;
  }
}
