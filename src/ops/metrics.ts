// Prometheus metrics (prom-client, in a registry of their own). The core, the plugins and the
// media plane know nothing of Prometheus: gauges are read from them at scrape time, counters
// follow their observer hooks (request outcomes, plugin monitor events, media monitor events),
// and RTP totals are sampled from the media workers' stats (at scrape time and every
// `mediaStatsIntervalMs`), never per packet.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JanusCore } from '../janus/core';
import type { RequestObserver } from '../janus/request-runner';
import type { MediaPlane, RtpTotals } from '../plugin/media-plane';
import type { JsonObject } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import type { Plugin } from '../plugin/plugin';

/** Request verbs of Janus's two APIs; anything else is counted as "other" (bounded label values). */
const KNOWN_VERBS = new Set([
  'info', 'ping', 'create', 'keepalive', 'attach', 'destroy', 'detach', 'hangup', 'claim', 'message', 'trickle',
  'get_status', 'set_session_timeout', 'set_log_level', 'set_log_timestamps', 'set_log_colors', 'set_locking_debug',
  'set_refcount_debug', 'set_libnice_debug', 'set_min_nack_queue', 'set_no_media_timer', 'set_slowlink_threshold',
  'accept_new_sessions', 'list_sessions', 'list_handles', 'handle_info', 'start_pcap', 'stop_pcap',
  'start_text2pcap', 'stop_text2pcap', 'message_plugin', 'query_eventhandler', 'query_logger', 'custom_event',
  'custom_logline', 'resolve_address', 'test_stun', 'add_token', 'allowed_token', 'list_tokens', 'remove_token',
  'destroy_session', 'detach_handle', 'hangup_webrtc',
]);

/** Seconds: from sub-millisecond replies to the 10 s hang watchdog. */
const CALLBACK_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A scrape reuses an RTP sample this fresh (the three RTP counters share one). */
const RTP_SAMPLE_REUSE_MS = 1000;

export type ApiName = 'janus' | 'admin';

export interface MetricsOptions {
  /** Sample media stats this often in the background too (0 = only at scrape time). */
  mediaStatsIntervalMs: number;
}

function verbLabel(verb: string): string {
  if (verb === '') return 'invalid';
  return KNOWN_VERBS.has(verb) ? verb : 'other';
}

function errorCodeLabel(reply: JsonObject): string {
  if (reply.janus !== 'error' || !isJsonObject(reply.error)) return '0';
  return typeof reply.error.code === 'number' ? String(reply.error.code) : 'unknown';
}

export class LuasfuMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'api' | 'verb' | 'error_code'>;
  private readonly callbackSeconds: Histogram<'script' | 'callback'>;
  private readonly scriptErrors: Counter<'script' | 'callback'>;
  private readonly scriptRestarts: Counter<'script'>;
  private readonly workerRestarts: Counter;
  private readonly loopDelay: IntervalHistogram;
  private readonly cleanups: Array<() => void> = [];
  private rtp: { at: number; totals: Promise<RtpTotals> } | undefined;

  constructor(private readonly options: MetricsOptions) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'luasfu_janus_requests_total',
      help: 'Janus API and Admin API requests by verb and error code ("0" = success)',
      labelNames: ['api', 'verb', 'error_code'],
      registers,
    });
    this.callbackSeconds = new Histogram({
      name: 'luasfu_script_callback_duration_seconds',
      help: 'Script callbacks from submission to result (queueing included), by script and callback',
      labelNames: ['script', 'callback'],
      buckets: CALLBACK_BUCKETS,
      registers,
    });
    this.scriptErrors = new Counter({
      name: 'luasfu_script_errors_total',
      help: 'Script callbacks that raised an error or hit a limit',
      labelNames: ['script', 'callback'],
      registers,
    });
    this.scriptRestarts = new Counter({
      name: 'luasfu_script_restarts_total',
      help: 'Scripts restarted after their worker hung, crashed or ran out of memory',
      labelNames: ['script'],
      registers,
    });
    this.workerRestarts = new Counter({
      name: 'luasfu_media_worker_restarts_total',
      help: 'mediasoup workers that died and were replaced',
      registers,
    });
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
    const loopDelay = this.loopDelay;
    new Gauge({
      name: 'luasfu_event_loop_lag_seconds',
      help: 'Longest event-loop delay of the main thread since the previous scrape',
      registers,
      collect() {
        this.set(loopDelay.count > 0 ? loopDelay.max / 1e9 : 0);
        loopDelay.reset();
      },
    });
  }

  /** The observer to give the core (api 'janus') or the Admin API (api 'admin'). */
  requestObserver(api: ApiName): RequestObserver {
    return (verb, reply) => this.requests.inc({ api, verb: verbLabel(verb), error_code: errorCodeLabel(reply) });
  }

  /** Sessions, handles and PeerConnections, read from the core at scrape time. */
  watchCore(core: JanusCore): void {
    const registers = [this.registry];
    new Gauge({
      name: 'luasfu_sessions',
      help: 'Janus sessions',
      registers,
      collect() {
        this.set(core.sessionIds().length);
      },
    });
    const perPlugin = (pick: (counts: { handles: number; peerConnections: number }) => number) => function collect(this: Gauge<'plugin'>): void {
      this.reset();
      for (const info of core.pluginInfos()) this.set({ plugin: info.package }, 0);
      for (const [plugin, counts] of core.handleCountsByPlugin()) this.set({ plugin }, pick(counts));
    };
    new Gauge({
      name: 'luasfu_handles',
      help: 'Janus handles, by plugin',
      labelNames: ['plugin'],
      registers,
      collect: perPlugin((counts) => counts.handles),
    });
    new Gauge({
      name: 'luasfu_peerconnections',
      help: 'Established PeerConnections (webrtcup, not hung up), by plugin',
      labelNames: ['plugin'],
      registers,
      collect: perPlugin((counts) => counts.peerConnections),
    });
  }

  /** Callback timings, errors and restarts of plugins that have a monitor (scripts). */
  watchPlugins(plugins: readonly Plugin[]): void {
    for (const plugin of plugins) {
      const monitor = plugin.monitor;
      if (!monitor) continue;
      const script = monitor.name;
      this.scriptRestarts.inc({ script }, 0);
      const onCallback = ({ callback, seconds, failed }: { callback: string; seconds: number; failed: boolean }): void => {
        this.callbackSeconds.observe({ script, callback }, seconds);
        if (failed) this.scriptErrors.inc({ script, callback });
      };
      const onRestart = (): void => this.scriptRestarts.inc({ script });
      monitor.events.on('callback', onCallback);
      monitor.events.on('restart', onRestart);
      this.cleanups.push(() => {
        monitor.events.off('callback', onCallback);
        monitor.events.off('restart', onRestart);
      });
    }
  }

  /** Worker restarts and RTP totals of a media plane that has a monitor (mediasoup). */
  watchMedia(mediaPlane: MediaPlane): void {
    const monitor = mediaPlane.monitor;
    if (!monitor) return;
    const onRestart = (): void => this.workerRestarts.inc();
    monitor.events.on('workerRestart', onRestart);
    this.cleanups.push(() => monitor.events.off('workerRestart', onRestart));
    if (this.options.mediaStatsIntervalMs > 0) {
      const timer = setInterval(() => void this.rtpTotals(monitor.sampleRtp.bind(monitor)), this.options.mediaStatsIntervalMs);
      timer.unref();
      this.cleanups.push(() => clearInterval(timer));
    }
    const registers = [this.registry];
    const sample = (): Promise<RtpTotals> => this.rtpTotals(() => monitor.sampleRtp());
    const rtpCounter = (name: string, help: string, pick: (totals: RtpTotals, direction: 'in' | 'out') => number): void => {
      const counted = { in: 0, out: 0 };
      new Counter({
        name,
        help,
        labelNames: ['direction'],
        registers,
        async collect() {
          const totals = await sample();
          for (const direction of ['in', 'out'] as const) {
            const value = pick(totals, direction);
            this.inc({ direction }, Math.max(0, value - counted[direction]));
            counted[direction] = Math.max(counted[direction], value);
          }
        },
      });
    };
    rtpCounter('luasfu_rtp_packets_total', 'RTP packets from clients (in) and to clients (out), sampled from mediasoup stats',
      (t, d) => (d === 'in' ? t.packetsIn : t.packetsOut));
    rtpCounter('luasfu_rtp_bytes_total', 'RTP bytes from clients (in) and to clients (out), sampled from mediasoup stats',
      (t, d) => (d === 'in' ? t.bytesIn : t.bytesOut));
    rtpCounter('luasfu_rtp_packets_lost_total', 'RTP packets lost from clients (in; seen by the SFU) and to clients (out; reported by them)',
      (t, d) => (d === 'in' ? t.packetsLostIn : t.packetsLostOut));
  }

  private rtpTotals(sample: () => Promise<RtpTotals>): Promise<RtpTotals> {
    const now = performance.now();
    if (!this.rtp || now - this.rtp.at > RTP_SAMPLE_REUSE_MS) this.rtp = { at: now, totals: sample() };
    return this.rtp.totals;
  }

  /** The exposition text (Prometheus format). */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops timers and detaches from the observed parts. */
  close(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.loopDelay.disable();
    this.registry.clear();
  }
}
