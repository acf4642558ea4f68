// luasfu-bench's command line: the scenario and its options, with bounds (every run is
// bounded in count and time).

import { parseArgs } from 'node:util';
import type { JsonObject } from '../../src/plugin/json';
import { isJsonObject } from '../../src/plugin/json';
import { UsageError } from './errors';

export const SCENARIOS = ['api', 'echo', 'videoroom', 'churn'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
export type VideoRoomApi = 'legacy' | '1.x';
/** churn --connect's peer: libdatachannel (light, no media engine) or libwebrtc (@roamhq/wrtc). */
export const CONNECT_PEERS = ['libdatachannel', 'libwebrtc'] as const;
export type ConnectPeerKind = (typeof CONNECT_PEERS)[number];

export interface BenchOptions {
  scenario: ScenarioName;
  url: string;
  plugin: string;
  token?: string;
  apiSecret?: string;
  adminUrl?: string;
  adminSecret: string;
  /** api: concurrent sessions; echo: echo sessions; churn: concurrent loops. */
  sessions: number;
  /** api: messages per session. */
  messages: number;
  body: JsonObject;
  /** Seconds: echo/videoroom media time; api and churn stop at this bound too. */
  duration: number;
  /** Seconds run before the measured window (api: messages not counted; echo/videoroom: media not counted). */
  warmup: number;
  /** churn: total attach…detach cycles (bound). */
  cycles: number;
  /** New sessions per second while starting (0: no limit). */
  ramp: number;
  width: number;
  height: number;
  fps: number;
  audio: boolean;
  video: boolean;
  data: boolean;
  publishers: number;
  subscribers: number;
  /** videoroom: use this existing room instead of creating (and destroying) one. */
  room?: number;
  videoroomApi: VideoRoomApi;
  /** churn: negotiate with a real peer up to webrtcup instead of an SDP-only offer/answer. */
  connect: boolean;
  /** churn --connect: which peer connects each cycle. */
  peer: ConnectPeerKind;
  serverPid?: number;
  /** echo: listen on 127.0.0.1:this port for the server's event handler POSTs (its own timestamps). */
  eventsPort?: number;
  timeoutMs: number;
  maxErrorRate: number;
  json: boolean;
  report?: string;
  quiet: boolean;
}

export const USAGE = `Usage: luasfu-bench <scenario> [options]      (or: npm run bench -- <scenario> [options])

Load-tests a Janus-API server (luasfu or Janus) with real clients and real WebRTC peers.

Scenarios:
  api        N sessions attached to a plugin, each sending M messages one at a time, all
             concurrent: messages/s, latency p50/p90/p99/max, errors by code
  echo       N WebRTC echo sessions (audio + video, optional data channel) for T seconds:
             media received and decoded per session, packets relayed, offer->webrtcup
  videoroom  P publishers, S subscribers each (VideoRoom API): time to first decoded
             frame, packets delivered vs expected, loss
  churn      loops of attach, negotiate, hangup, detach: cycles/s, server memory slope

Target:
  --url <url>            Janus API: ws://, wss:// (WebSocket) or http://, https:// (long
                         poll) (default ws://127.0.0.1:8188)
  --plugin <package>     plugin to attach to (default janus.plugin.echolua; videoroom:
                         janus.plugin.videoroom, as luasfu's lua/videoroom.lua and Janus's
                         C plugin register; Janus's videoroom.lua is janus.plugin.lua)
  --token <t>            Janus token auth (sent as "token")
  --api-secret <s>       Janus API secret (sent as "apisecret")
  --admin-url <url>      Admin API over HTTP, to check no session of ours is left
  --admin-secret <s>     Admin API secret (default janusoverlord)
  --server-pid <pid>     sample that process and its children (mediasoup workers) for CPU
                         and memory from /proc; without it they are "not measured"
  --events-port <port>   echo: take the server's event handler POSTs on 127.0.0.1:<port>
                         (luasfu: eventHandlers.http.url; Janus: its sample event handler,
                         events "jsep,webrtc") and split each join on the server's clock

Load:
  --sessions <n>         api: sessions (50); echo: sessions (4); churn: parallel loops (4)
  --messages <m>         api: messages per session (1000)
  --body <json>          api: message body (default {"audio":true})
  --duration <s>         echo/videoroom: media seconds (10); api/churn: time bound (60/10)
  --warmup <s>           not measured first: api 1 s of messages, echo/videoroom 2 s
                         of media once everything is up, churn 0 s of cycles
  --cycles <n>           churn: total cycles bound (1000)
  --ramp <n>             sessions started per second (default: no limit)
  --width <px> --height <px> --fps <n>   generated video (320x240 at 15)
  --no-audio --no-video  leave a medium out;  --data  add a data channel (echo)
  --publishers <p>       videoroom publishers (2)
  --subscribers <s>      videoroom subscribers per publisher (2)
  --room <id>            videoroom: use this room (default: create one, destroy it after)
  --videoroom-api <v>    1.x (publish, join with streams) or legacy (configure, join with
                         feed; Janus's videoroom.lua); default legacy for janus.plugin.lua,
                         else 1.x
  --connect              churn: connect media (ICE, DTLS) each cycle, not only SDP
  --peer <p>             churn --connect: libdatachannel (default; ICE and DTLS only, ~5 ms
                         of client CPU per join) or libwebrtc (a browser's engine, sending
                         the generated video: ~20 ms per join)

Output:
  --json                 one JSON document on stdout (the table goes to stderr)
  --report <file.html>   self-contained HTML report with charts
  --quiet                no progress line
  --timeout <ms>         bound on every reply (5000)
  --max-error-rate <f>   fail (exit 1) above this share of failed operations (0.01)
  -h, --help

Exit status: 0 ok, 1 failed (reason on the last line of stderr), 2 bad usage, 130 interrupted.
`;

function number(flags: Record<string, unknown>, name: string, fallback: number, min: number, max: number, integer = true): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return value;
}

/** argv without node and the script; returns undefined for --help. */
export function parseOptions(argv: readonly string[]): BenchOptions | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      allowNegative: true,
      options: {
        url: { type: 'string' }, plugin: { type: 'string' }, token: { type: 'string' },
        'api-secret': { type: 'string' }, 'admin-url': { type: 'string' }, 'admin-secret': { type: 'string' },
        sessions: { type: 'string' }, messages: { type: 'string' }, body: { type: 'string' },
        duration: { type: 'string' }, warmup: { type: 'string' }, cycles: { type: 'string' }, ramp: { type: 'string' },
        width: { type: 'string' }, height: { type: 'string' }, fps: { type: 'string' },
        audio: { type: 'boolean' }, video: { type: 'boolean' }, data: { type: 'boolean' },
        publishers: { type: 'string' }, subscribers: { type: 'string' }, room: { type: 'string' },
        'videoroom-api': { type: 'string' }, connect: { type: 'boolean' }, peer: { type: 'string' },
        'server-pid': { type: 'string' }, 'events-port': { type: 'string' }, timeout: { type: 'string' }, 'max-error-rate': { type: 'string' },
        json: { type: 'boolean' }, report: { type: 'string' }, quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const flags = parsed.values;
  if (flags.help) return undefined;
  if (parsed.positionals.length !== 1) throw new UsageError(`name one scenario: ${SCENARIOS.join(', ')}`);
  const scenario = parsed.positionals[0] as ScenarioName;
  if (!SCENARIOS.includes(scenario)) throw new UsageError(`unknown scenario ${scenario}: use ${SCENARIOS.join(', ')}`);

  const url = flags.url ?? 'ws://127.0.0.1:8188';
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new UsageError(`--url ${url} is not a URL`);
  }
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(protocol)) throw new UsageError('--url must be ws://, wss://, http:// or https://');
  let body: JsonObject = { audio: true };
  if (flags.body !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(flags.body);
    } catch {
      throw new UsageError('--body must be JSON');
    }
    if (!isJsonObject(value)) throw new UsageError('--body must be a JSON object');
    body = value;
  }
  const plugin = flags.plugin ?? (scenario === 'videoroom' ? 'janus.plugin.videoroom' : 'janus.plugin.echolua');
  // janus.plugin.lua is Janus's videoroom.lua, which speaks only the legacy API; the
  // janus.plugin.videoroom of Janus 1.x and of luasfu's lua/videoroom.lua speak 1.x.
  const videoroomApi = flags['videoroom-api'] ?? (plugin === 'janus.plugin.lua' ? 'legacy' : '1.x');
  if (videoroomApi !== 'legacy' && videoroomApi !== '1.x') throw new UsageError('--videoroom-api must be legacy or 1.x');
  const peer = flags.peer ?? 'libdatachannel';
  if (!(CONNECT_PEERS as readonly string[]).includes(peer)) throw new UsageError(`--peer must be ${CONNECT_PEERS.join(' or ')}`);
  if (flags.peer !== undefined && !(scenario === 'churn' && flags.connect)) throw new UsageError('--peer is for churn --connect (echo and videoroom use libwebrtc peers)');
  const raw = flags as Record<string, unknown>;
  const options: BenchOptions = {
    scenario,
    url,
    plugin,
    token: flags.token,
    apiSecret: flags['api-secret'],
    adminUrl: flags['admin-url'],
    adminSecret: flags['admin-secret'] ?? 'janusoverlord',
    sessions: number(raw, 'sessions', scenario === 'api' ? 50 : 4, 1, 10_000),
    messages: number(raw, 'messages', 1000, 1, 1_000_000),
    body,
    duration: number(raw, 'duration', scenario === 'api' ? 60 : 10, 0.5, 3600, false),
    warmup: number(raw, 'warmup', scenario === 'api' ? 1 : scenario === 'churn' ? 0 : 2, 0, 600, false),
    cycles: number(raw, 'cycles', 1000, 1, 1_000_000),
    ramp: number(raw, 'ramp', 0, 0, 10_000, false),
    width: number(raw, 'width', 320, 16, 3840),
    height: number(raw, 'height', 240, 16, 2160),
    fps: number(raw, 'fps', 15, 1, 60),
    audio: flags.audio ?? true,
    video: flags.video ?? true,
    data: flags.data ?? false,
    publishers: number(raw, 'publishers', 2, 1, 100),
    subscribers: number(raw, 'subscribers', 2, 0, 100),
    room: flags.room === undefined ? undefined : number(raw, 'room', 0, 1, Number.MAX_SAFE_INTEGER),
    videoroomApi,
    connect: flags.connect ?? false,
    peer: peer as ConnectPeerKind,
    serverPid: flags['server-pid'] === undefined ? undefined : number(raw, 'server-pid', 0, 1, 4_194_304),
    eventsPort: flags['events-port'] === undefined ? undefined : number(raw, 'events-port', 0, 1, 65_535),
    timeoutMs: number(raw, 'timeout', 5000, 100, 120_000),
    maxErrorRate: number(raw, 'max-error-rate', 0.01, 0, 1, false),
    json: flags.json ?? false,
    report: flags.report,
    quiet: flags.quiet ?? false,
  };
  if (options.eventsPort !== undefined && scenario !== 'echo') throw new UsageError('--events-port is for echo');
  if (!options.audio && !options.video && scenario !== 'api') throw new UsageError('--no-audio and --no-video together leave nothing to send');
  return options;
}
