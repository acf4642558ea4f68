// Scenario `api`: N sessions, each with its own connection and a handle on the plugin, each
// sending M `message` requests one at a time (the next when the previous is answered), all
// sessions concurrently. Latency is from send to the final reply (a sync `success`, or the
// plugin's event after an `ack`). Reports messages/s, latency percentiles, errors by code.

import { performance } from 'node:perf_hooks';
import { BenchFailure, JanusReplyError, errorCode, oneLine } from '../lib/errors';
import { JanusConnection } from '../lib/janus-client';
import { type Counters, type CpuWindow, type RunContext, type Scenario, type ScenarioOutcome, cpuPer } from '../lib/run';
import { Samples, Tally, rate } from '../lib/stats';
import { fmtMs, fmtRate, openSession } from './common';

/** When this many replies in a row are errors and none succeeded, the run stops: the figures would be meaningless. */
const FAIL_FAST_ERRORS = 20;

export class ApiScenario implements Scenario {
  readonly unit = 'msgs';
  private sessionsUp = 0;
  private replies = 0;
  private readonly errors = new Tally();
  private readonly latencies = new Samples();

  counters(): Counters {
    return { sessionsUp: this.sessionsUp, operations: this.replies, errors: this.errors.total };
  }

  async run(context: RunContext): Promise<ScenarioOutcome> {
    const { options } = context;
    const open: Array<{ connection: JanusConnection; handleId: number }> = [];
    let attempts = 0;
    let answered = false;
    let measuredFrom = 0;
    let measuredTo = 0;
    let cpu: CpuWindow | undefined;
    let used: { serverCpuMs: number | null; clientCpuMs: number } | undefined;
    try {
      // Sessions up first (at --ramp per second), then every session sends its messages.
      const results = await context.ramp(options.sessions, async () => {
        const session = await openSession(context);
        open.push(session);
        this.sessionsUp++;
        return session;
      });
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw new BenchFailure(`setting up sessions: ${oneLine(failed.reason)}`);
      if (context.stopped) throw context.signal.reason;

      // Messages sent during the warm-up are answered but not counted.
      measuredFrom = performance.now() + options.warmup * 1000;
      const deadline = measuredFrom + options.duration * 1000;
      const warmupOver = context.sleep(options.warmup * 1000).then(() => {
        if (!context.stopped) cpu = context.cpuWindow();
      });
      const loop = async ({ connection, handleId }: { connection: JanusConnection; handleId: number }): Promise<void> => {
        // M measured messages per session; warm-up ones come on top.
        let measured = 0;
        while (measured < options.messages && !context.stopped && performance.now() < deadline) {
          const sent = performance.now();
          // Replies in the warm-up are not in the figures; errors count wherever they happen.
          const counted = sent >= measuredFrom;
          if (counted) measured++;
          attempts++;
          try {
            await connection.message(handleId, options.body);
            answered = true;
            if (!counted) continue;
            this.latencies.add(performance.now() - sent);
            this.replies++;
          } catch (error) {
            this.errors.add(errorCode(error), oneLine(error));
            if (!answered && this.errors.total >= Math.min(FAIL_FAST_ERRORS, options.sessions * options.messages)) {
              context.stop(`every reply is an error: ${oneLine(error)}`);
            }
            if (!(error instanceof JanusReplyError) && !connection.isOpen) return;
          }
        }
      };
      await Promise.all(open.map(loop));
      measuredTo = performance.now();
      used = cpu?.end();
      await warmupOver;
    } finally {
      await Promise.all(open.map(({ connection, handleId }) => connection.close([handleId])));
    }

    const seconds = Math.max(0, (measuredTo - measuredFrom) / 1000);
    const serverCpuUsPerMsg = cpuPer(used?.serverCpuMs ?? null, this.replies, 1000);
    const clientCpuUsPerMsg = cpuPer(used?.clientCpuMs ?? null, this.replies, 1000);
    const latencyMs = this.latencies.summary();
    const msgsPerSec = rate(this.replies, seconds);
    return {
      figures: {
        unit: this.unit,
        sessions: this.sessionsUp,
        messagesSent: attempts,
        replies: this.replies,
        measuredSec: Number(seconds.toFixed(3)),
        msgsPerSec,
        latencyMs: { ...latencyMs },
        // CPU per answered message: the figure to compare when the machine is busy (msgs/s depends on what other processes leave).
        serverCpuUsPerMsg: serverCpuUsPerMsg ?? 'not measured',
        clientCpuUsPerMsg,
      },
      rows: [
        ['sessions', `${this.sessionsUp} x up to ${options.messages} messages, body ${JSON.stringify(options.body)}`],
        ['messages', `${this.replies} answered in ${seconds.toFixed(2)} s measured after ${options.warmup} s of warm-up (${attempts} sent in all)`],
        ['throughput', `${fmtRate(msgsPerSec)} msgs/s`],
        ['CPU per message', `server ${serverCpuUsPerMsg === null ? 'not measured' : `${serverCpuUsPerMsg} µs`}, client ${clientCpuUsPerMsg ?? '-'} µs`],
        ['latency', `p50 ${fmtMs(latencyMs.p50)}, p90 ${fmtMs(latencyMs.p90)}, p99 ${fmtMs(latencyMs.p99)}, max ${fmtMs(latencyMs.max)}`],
      ],
      histograms: [{ name: 'latencyMs', title: 'Message latency (send to reply)', buckets: this.latencies.histogram() }],
      errors: this.errors,
      attempts,
    };
  }
}
