// luasfu configuration: the JSON schema (as TypeScript types), its defaults, and one pure
// validator that names the offending field. CLI flags are applied on top of the file.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { EVENT_TYPE_NAMES } from './events/event-bus';
import { isLogLevel, type LogLevel } from './log';

export interface ScriptConfig {
  /** Path of the Lua (.lua) or JavaScript (.js) script. */
  path: string;
  /** Extra module folder (Janus's `path`): appended to package.path / getModulesFolder(). */
  modulesPath?: string;
  /** String passed verbatim to init(config); absent means nil/null. */
  config?: string;
  /** Instructions one callback may run before it is aborted (Lua). */
  instructionLimit: number;
  /** Milliseconds one callback may run before it is aborted (JavaScript; default 2000). */
  timeLimitMs?: number;
  /** Heap size above which the script's worker is restarted, in MiB. */
  memoryLimitMb: number;
}

export interface ListenerConfig {
  enabled: boolean;
  port: number;
}

export interface HttpListenerConfig extends ListenerConfig {
  /** Base path, e.g. `/janus`. */
  path: string;
}

/** One media address: what the ICE sockets bind to, and what candidates announce. */
export interface MediaAddressConfig {
  ip: string;
  /** Address written into candidates (public IP behind NAT); defaults to `ip`. */
  announcedIp?: string;
}

export interface MediaConfig {
  /** mediasoup workers; 0 = one per core. */
  workers: number;
  /**
   * Addresses of the ICE sockets; empty = every non-loopback IPv4 address of the host (loopback
   * with a warning when it has none), resolved at start (src/media/addresses.ts).
   */
  listenIps: MediaAddressConfig[];
  /** Range for ports chosen by mediasoup (a WebRtcServer port of 0, recordings, pipes). */
  rtcMinPort: number;
  rtcMaxPort: number;
  /** Port of worker i's WebRtcServer (UDP, and TCP with iceTcp): `ports[i]`; 0 = a free one. */
  ports: number[];
  /** Without `ports`: worker i listens on basePort + i; 0 = a free port in the range. */
  basePort: number;
  /** ICE-TCP candidates (and one TCP listening socket per worker and address). */
  iceTcp: boolean;
  /** mediasoup worker log level. */
  workerLogLevel: 'debug' | 'warn' | 'error' | 'none';
  /** Folder for recordings whose script gives no folder; recordings may only go inside it... */
  recordingsFolder: string;
  /** ...or inside one of these extra folders (absolute paths). */
  recordingRoots: string[];
}

/** The HTTP event handler backend (like Janus's janus.eventhandler.sampleevh). */
export interface HttpEventsConfig {
  /** Collector URL (http:// or https://); events are POSTed there. */
  url: string;
  /** Types to send: "sessions", "handles", "jsep", "webrtc", "media", "plugins", "transports", "core", or "all". */
  events: string[];
  /** POST a JSON array per batch (true) or one event per POST (false). */
  grouping: boolean;
  /** Most events per POST. */
  maxBatch: number;
  /** How long events wait for a batch to fill, in ms. */
  flushMs: number;
  /** Timeout of one POST, in ms. */
  timeoutMs: number;
  /** Retries of a failed POST (with backoff) before the batch is dropped. */
  retries: number;
  /** Extra request headers (e.g. Authorization). */
  headers: Record<string, string>;
}

export interface EventHandlersConfig {
  /** What `eventsIsEnabled()` answers; without a backend events are only counted and logged (debug). */
  enabled: boolean;
  /** `emitter` of the events; default the server name (identity.ts). */
  emitter?: string;
  http?: HttpEventsConfig;
}

/** Demo pages (`--demos`): demos/ served under /demos/ on the Janus HTTP listener. */
export interface DemosConfig {
  enabled: boolean;
  /** The janus.js the pages load (Debian's libjs-janus-gateway by default). */
  janusJs: string;
  /** The adapter.js the pages load (Debian's libjs-webrtc-adapter by default). */
  adapterJs: string;
}

/** The operations listener: Prometheus metrics, /health and /ready. */
export interface MetricsConfig {
  enabled: boolean;
  listenIp: string;
  port: number;
  /** Path of the Prometheus metrics. */
  path: string;
  /** Media stats (RTP counters) are sampled this often besides at each scrape; 0 = at scrapes only. */
  mediaStatsIntervalMs: number;
}

/** TLS for the Janus API and Admin API listeners (https:// and wss://); reloaded on SIGHUP. */
export interface TlsConfig {
  /** PEM certificate chain. */
  certFile: string;
  /** PEM private key. */
  keyFile: string;
  /** Passphrase of an encrypted key. */
  passphrase?: string;
}

export interface LuasfuConfig {
  scripts: ScriptConfig[];
  /** Interface the Janus API and Admin API listeners bind to. */
  listenIp: string;
  http: HttpListenerConfig;
  websocket: ListenerConfig;
  adminHttp: HttpListenerConfig;
  adminWebsocket: ListenerConfig;
  /** Admin API secret (`admin_secret`); empty = none. */
  adminSecret: string;
  /** Interface the Admin API listeners bind to (loopback unless configured). */
  adminListenIp: string;
  /** Browser origins allowed to use the Admin API (CORS, WebSocket Origin); others get 403. */
  adminAllowedOrigins: string[];
  /** Janus API secret (`api_secret`); empty = none. */
  apiSecret: string;
  /** Janus `token_auth`: requests need a valid token (or the api secret). */
  tokenAuth: boolean;
  /** Janus `token_auth_secret`: with token auth, tokens are signed with it instead of stored. */
  tokenAuthSecret: string;
  /** Seconds of inactivity before a session times out; 0 = never. */
  sessionTimeout: number;
  /** Seconds a session survives its transport closing, waiting for `claim`; 0 = destroyed at once. */
  reclaimSessionTimeout: number;
  /** Largest request (WebSocket frame or HTTP body) accepted, in bytes. */
  maxRequestBytes: number;
  /** Long polls one session may hold open at once. */
  maxLongPolls: number;
  /** Requests per second one connection may send before it is closed. */
  maxRequestsPerSecond: number;
  /** WebSocket bytes queued for one client that does not read, before it is closed. */
  maxBufferedBytesPerConnection: number;
  /** WebSocket bytes queued for all clients together; above it the largest queue is closed. */
  maxBufferedBytesTotal: number;
  /** Sessions one transport connection may own (error 490 beyond). */
  maxSessionsPerConnection: number;
  /** Handles one session may have (error 490 beyond). */
  maxHandlesPerSession: number;
  /** Event handlers; `true` / `false` in a file mean `{ enabled: true/false }`. */
  eventHandlers: EventHandlersConfig;
  log: { level: LogLevel; format: 'json' | 'pretty' };
  media: MediaConfig;
  /** `true` / `false` in a file mean `{ enabled: true/false }`. */
  demos: DemosConfig;
  metrics: MetricsConfig;
  /** Absent = plain http:// and ws://. */
  tls?: TlsConfig;
}

export const DEFAULT_SCRIPT = 'lua/echotest.lua';
/** The scripts `--demos` loads when none are given: what the demo pages talk to. */
export const DEMO_SCRIPTS = ['lua/echotest.lua', 'lua/videoroom.lua'];

export function defaultConfig(): LuasfuConfig {
  return {
    scripts: [],
    listenIp: '0.0.0.0',
    http: { enabled: true, port: 8088, path: '/janus' },
    websocket: { enabled: true, port: 8188 },
    adminHttp: { enabled: true, port: 7088, path: '/admin' },
    adminWebsocket: { enabled: true, port: 7188 },
    adminSecret: SAMPLE_ADMIN_SECRET,
    adminListenIp: '127.0.0.1',
    adminAllowedOrigins: [],
    apiSecret: '',
    tokenAuth: false,
    tokenAuthSecret: '',
    sessionTimeout: 60,
    reclaimSessionTimeout: 0,
    maxRequestBytes: 1024 * 1024,
    maxLongPolls: 3,
    maxRequestsPerSecond: 2000,
    maxBufferedBytesPerConnection: 4 * 1024 * 1024,
    maxBufferedBytesTotal: 64 * 1024 * 1024,
    maxSessionsPerConnection: 64,
    maxHandlesPerSession: 256,
    eventHandlers: { enabled: false },
    log: { level: 'info', format: 'json' },
    media: {
      workers: 0,
      listenIps: [],
      rtcMinPort: 10000,
      rtcMaxPort: 59999,
      ports: [],
      basePort: 0,
      iceTcp: false,
      workerLogLevel: 'warn',
      recordingsFolder: '/tmp',
      recordingRoots: [],
    },
    demos: {
      enabled: false,
      janusJs: '/usr/share/javascript/janus-gateway/janus.js',
      adapterJs: '/usr/share/javascript/webrtc-adapter/adapter.js',
    },
    metrics: { enabled: true, listenIp: '127.0.0.1', port: 9464, path: '/metrics', mediaStatsIntervalMs: 5000 },
  };
}

/** Janus's public sample admin_secret (Debian's janus.jcfg). */
export const SAMPLE_ADMIN_SECRET = 'janusoverlord';

function isLoopback(ip: string): boolean {
  return /^127\./.test(ip) || ip === '::1' || ip === 'localhost' || /^::ffff:127\./i.test(ip);
}

/**
 * Refuses an Admin API reachable from other hosts without a real secret: with the sample
 * secret (or none) anyone who can reach it owns the server. Throws ConfigError.
 */
export function checkAdminExposure(config: LuasfuConfig): void {
  const exposed = (config.adminHttp.enabled || config.adminWebsocket.enabled) && !isLoopback(config.adminListenIp);
  if (!exposed) return;
  if (config.adminSecret === '' || config.adminSecret === SAMPLE_ADMIN_SECRET) {
    throw new ConfigError(
      'adminSecret',
      `must be set to a private value when the Admin API listens on ${config.adminListenIp} (not loopback); ` +
        'change adminSecret, or set adminListenIp to 127.0.0.1, or disable adminHttp and adminWebsocket',
    );
  }
}

export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`config: ${field} ${message}`);
    this.name = 'ConfigError';
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads one field: `check` validates a present value; absent keeps the default. */
class Reader {
  constructor(
    private readonly source: Json,
    private readonly prefix: string,
  ) {}

  private field(key: string): string {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  /** The full name of a field, for errors. */
  name(key: string): string {
    return this.field(key);
  }

  keys(): string[] {
    return Object.keys(this.source);
  }

  known(keys: readonly string[]): void {
    for (const key of Object.keys(this.source)) {
      if (!keys.includes(key)) throw new ConfigError(this.field(key), 'is not a known setting');
    }
  }

  object(key: string): Reader | undefined {
    const value = this.source[key];
    if (value === undefined) return undefined;
    if (!isObject(value)) throw new ConfigError(this.field(key), 'must be an object');
    return new Reader(value, this.field(key));
  }

  string(key: string, fallback: string, allowEmpty = true): string {
    const value = this.source[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || (!allowEmpty && value === '')) {
      throw new ConfigError(this.field(key), allowEmpty ? 'must be a string' : 'must be a non-empty string');
    }
    return value;
  }

  optionalString(key: string): string | undefined {
    const value = this.source[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new ConfigError(this.field(key), 'must be a string');
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.source[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') throw new ConfigError(this.field(key), 'must be true or false');
    return value;
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const value = this.source[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(this.field(key), `must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  oneOf<T extends string>(key: string, fallback: T, values: readonly T[]): T {
    const value = this.source[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      throw new ConfigError(this.field(key), `must be one of ${values.join(', ')}`);
    }
    return value as T;
  }

  array(key: string): Array<{ value: unknown; field: string }> | undefined {
    const value = this.source[key];
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw new ConfigError(this.field(key), 'must be an array');
    return value.map((item, index) => ({ value: item, field: `${this.field(key)}[${index}]` }));
  }
}

const PORT_MAX = 65535;

function readStrings(reader: Reader, key: string, fallback: readonly string[]): string[] {
  const items = reader.array(key);
  if (!items) return [...fallback];
  return items.map(({ value, field }) => {
    if (typeof value !== 'string' || value === '') throw new ConfigError(field, 'must be a non-empty string');
    return value;
  });
}

function readListener(reader: Reader | undefined, fallback: ListenerConfig): ListenerConfig {
  if (!reader) return { ...fallback };
  reader.known(['enabled', 'port']);
  return { enabled: reader.boolean('enabled', fallback.enabled), port: reader.integer('port', fallback.port, 0, PORT_MAX) };
}

function readHttpListener(reader: Reader | undefined, fallback: HttpListenerConfig): HttpListenerConfig {
  if (!reader) return { ...fallback };
  reader.known(['enabled', 'port', 'path']);
  const path = reader.string('path', fallback.path, false).replace(/\/+$/, '');
  return {
    enabled: reader.boolean('enabled', fallback.enabled),
    port: reader.integer('port', fallback.port, 0, PORT_MAX),
    path: path.startsWith('/') ? path : `/${path}`,
  };
}

/**
 * `media.listenIps` (strings or { ip, announcedIp }), or the older single `media.listenIp` /
 * `media.announcedIp`, which still work.
 */
function readMediaAddresses(media: Reader): MediaAddressConfig[] {
  const list = media.array('listenIps');
  const single = media.optionalString('listenIp');
  const announced = media.optionalString('announcedIp');
  if (list && single !== undefined) throw new ConfigError(media.name('listenIp'), 'cannot be combined with media.listenIps');
  const addresses = list
    ? list.map(({ value, field }) => {
        const source = typeof value === 'string' ? { ip: value } : value;
        if (!isObject(source)) throw new ConfigError(field, 'must be an address or an object with ip');
        const reader = new Reader(source, field);
        reader.known(['ip', 'announcedIp']);
        const address: MediaAddressConfig = { ip: reader.string('ip', '', false) };
        if (!address.ip) throw new ConfigError(`${field}.ip`, 'is required');
        const announcedIp = reader.optionalString('announcedIp');
        if (announcedIp) address.announcedIp = announcedIp;
        return address;
      })
    : single !== undefined
      ? [{ ip: single }]
      : [];
  if (single === '') throw new ConfigError(media.name('listenIp'), 'must be a non-empty string');
  return announced ? withAnnouncedIp(addresses, announced) : addresses;
}

/**
 * `announcedIp` given on its own (config or --announced-ip): every listen address announces it;
 * without listen addresses the sockets bind 0.0.0.0 (the usual setup behind 1:1 NAT).
 */
export function withAnnouncedIp(addresses: readonly MediaAddressConfig[], announcedIp: string): MediaAddressConfig[] {
  if (addresses.length === 0) return [{ ip: '0.0.0.0', announcedIp }];
  return addresses.map((address) => ({ ...address, announcedIp }));
}

const EVENT_TYPE_CHOICES = [...Object.keys(EVENT_TYPE_NAMES), 'all'];

function readHttpEvents(reader: Reader): HttpEventsConfig {
  reader.known(['url', 'events', 'grouping', 'maxBatch', 'flushMs', 'timeoutMs', 'retries', 'headers']);
  if (!reader.keys().includes('url')) throw new ConfigError(reader.name('url'), 'is required');
  const url = reader.string('url', '', false);
  let parsed: URL | undefined;
  try {
    parsed = url ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new ConfigError(reader.name('url'), 'must be an http:// or https:// URL');
  }
  const events = (reader.array('events') ?? [{ value: 'all', field: '' }]).map(({ value, field }) => {
    if (typeof value !== 'string' || !EVENT_TYPE_CHOICES.includes(value)) {
      throw new ConfigError(field, `must be one of ${EVENT_TYPE_CHOICES.join(', ')}`);
    }
    return value;
  });
  if (events.length === 0) throw new ConfigError(reader.name('events'), 'must name at least one type');
  const headers: Record<string, string> = {};
  const headerReader = reader.object('headers');
  if (headerReader) {
    for (const key of headerReader.keys()) headers[key] = headerReader.string(key, '');
  }
  return {
    url,
    events,
    grouping: reader.boolean('grouping', true),
    maxBatch: reader.integer('maxBatch', 100, 1, 10_000),
    flushMs: reader.integer('flushMs', 250, 0, 60_000),
    timeoutMs: reader.integer('timeoutMs', 5000, 100, 600_000),
    retries: reader.integer('retries', 3, 0, 10),
    headers,
  };
}

function readEventHandlers(value: unknown, fallback: EventHandlersConfig): EventHandlersConfig {
  if (value === undefined) return { ...fallback };
  if (typeof value === 'boolean') return { enabled: value };
  if (!isObject(value)) throw new ConfigError('eventHandlers', 'must be true, false or an object');
  const reader = new Reader(value, 'eventHandlers');
  reader.known(['enabled', 'emitter', 'http']);
  if (value.enabled === undefined) throw new ConfigError('eventHandlers.enabled', 'is required');
  const config: EventHandlersConfig = { enabled: reader.boolean('enabled', false) };
  const emitter = reader.optionalString('emitter');
  if (emitter !== undefined) {
    if (emitter === '') throw new ConfigError('eventHandlers.emitter', 'must be a non-empty string');
    config.emitter = emitter;
  }
  const http = reader.object('http');
  if (http) config.http = readHttpEvents(http);
  return config;
}

export function readScript(value: unknown, field: string): ScriptConfig {
  const source = typeof value === 'string' ? { path: value } : value;
  if (!isObject(source)) throw new ConfigError(field, 'must be a path or an object with a path');
  const reader = new Reader(source, field);
  reader.known(['path', 'modulesPath', 'config', 'instructionLimit', 'timeLimitMs', 'memoryLimitMb']);
  return {
    path: reader.string('path', '', false) || (() => { throw new ConfigError(`${field}.path`, 'is required'); })(),
    modulesPath: reader.optionalString('modulesPath'),
    config: reader.optionalString('config'),
    instructionLimit: reader.integer('instructionLimit', 50_000_000, 1000, 2 ** 31 - 1),
    timeLimitMs: reader.integer('timeLimitMs', 2000, 10, 60_000),
    memoryLimitMb: reader.integer('memoryLimitMb', 256, 16, 65536),
  };
}

/** Validates a parsed config document and fills in defaults. Throws ConfigError. */
export function parseConfig(document: unknown): LuasfuConfig {
  if (!isObject(document)) throw new ConfigError('(root)', 'must be a JSON object');
  const defaults = defaultConfig();
  const root = new Reader(document, '');
  root.known([
    'scripts', 'listenIp', 'http', 'websocket', 'adminHttp', 'adminWebsocket', 'adminSecret', 'apiSecret',
    'adminListenIp', 'adminAllowedOrigins', 'tokenAuth', 'tokenAuthSecret',
    'sessionTimeout', 'reclaimSessionTimeout', 'maxRequestBytes', 'maxLongPolls', 'maxRequestsPerSecond',
    'maxBufferedBytesPerConnection', 'maxBufferedBytesTotal', 'maxSessionsPerConnection', 'maxHandlesPerSession',
    'eventHandlers', 'log', 'media', 'demos', 'metrics', 'tls', '$schema',
  ]);
  const log = root.object('log');
  log?.known(['level', 'format']);
  const media = root.object('media');
  media?.known([
    'workers', 'listenIps', 'listenIp', 'announcedIp', 'rtcMinPort', 'rtcMaxPort', 'ports', 'basePort', 'iceTcp',
    'workerLogLevel', 'recordingsFolder', 'recordingRoots',
  ]);
  const levelValue = log ? log.string('level', defaults.log.level) : defaults.log.level;
  if (!isLogLevel(levelValue)) throw new ConfigError('log.level', 'must be one of fatal, error, warn, info, debug, trace');
  const metrics = root.object('metrics');
  metrics?.known(['enabled', 'listenIp', 'port', 'path', 'mediaStatsIntervalMs']);
  const tls = root.object('tls');
  tls?.known(['certFile', 'keyFile', 'passphrase']);
  const config: LuasfuConfig = {
    scripts: (root.array('scripts') ?? []).map(({ value, field }) => readScript(value, field)),
    listenIp: root.string('listenIp', defaults.listenIp, false),
    http: readHttpListener(root.object('http'), defaults.http),
    websocket: readListener(root.object('websocket'), defaults.websocket),
    adminHttp: readHttpListener(root.object('adminHttp'), defaults.adminHttp),
    adminWebsocket: readListener(root.object('adminWebsocket'), defaults.adminWebsocket),
    adminSecret: root.string('adminSecret', defaults.adminSecret),
    adminListenIp: root.string('adminListenIp', defaults.adminListenIp, false),
    adminAllowedOrigins: readStrings(root, 'adminAllowedOrigins', defaults.adminAllowedOrigins),
    apiSecret: root.string('apiSecret', defaults.apiSecret),
    tokenAuth: root.boolean('tokenAuth', defaults.tokenAuth),
    tokenAuthSecret: root.string('tokenAuthSecret', defaults.tokenAuthSecret),
    sessionTimeout: root.integer('sessionTimeout', defaults.sessionTimeout, 0, 86400),
    reclaimSessionTimeout: root.integer('reclaimSessionTimeout', defaults.reclaimSessionTimeout, 0, 86400),
    maxRequestBytes: root.integer('maxRequestBytes', defaults.maxRequestBytes, 1024, 64 * 1024 * 1024),
    maxLongPolls: root.integer('maxLongPolls', defaults.maxLongPolls, 1, 100),
    maxRequestsPerSecond: root.integer('maxRequestsPerSecond', defaults.maxRequestsPerSecond, 1, 1_000_000),
    maxBufferedBytesPerConnection: root.integer('maxBufferedBytesPerConnection', defaults.maxBufferedBytesPerConnection, 64 * 1024, 2 ** 31 - 1),
    maxBufferedBytesTotal: root.integer('maxBufferedBytesTotal', defaults.maxBufferedBytesTotal, 64 * 1024, 2 ** 40),
    maxSessionsPerConnection: root.integer('maxSessionsPerConnection', defaults.maxSessionsPerConnection, 1, 1_000_000),
    maxHandlesPerSession: root.integer('maxHandlesPerSession', defaults.maxHandlesPerSession, 1, 1_000_000),
    eventHandlers: readEventHandlers(document.eventHandlers, defaults.eventHandlers),
    log: {
      level: levelValue,
      format: log ? log.oneOf('format', defaults.log.format, ['json', 'pretty'] as const) : defaults.log.format,
    },
    media: media
      ? {
          workers: media.integer('workers', defaults.media.workers, 0, 256),
          listenIps: readMediaAddresses(media),
          rtcMinPort: media.integer('rtcMinPort', defaults.media.rtcMinPort, 1024, PORT_MAX),
          rtcMaxPort: media.integer('rtcMaxPort', defaults.media.rtcMaxPort, 1024, PORT_MAX),
          ports: (media.array('ports') ?? []).map(({ value, field }) => {
            if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > PORT_MAX) {
              throw new ConfigError(field, `must be an integer from 0 to ${PORT_MAX}`);
            }
            return value;
          }),
          basePort: media.integer('basePort', defaults.media.basePort, 0, PORT_MAX),
          iceTcp: media.boolean('iceTcp', defaults.media.iceTcp),
          workerLogLevel: media.oneOf('workerLogLevel', defaults.media.workerLogLevel, ['debug', 'warn', 'error', 'none'] as const),
          recordingsFolder: media.string('recordingsFolder', defaults.media.recordingsFolder, false),
          recordingRoots: readStrings(media, 'recordingRoots', defaults.media.recordingRoots),
        }
      : defaults.media,
    demos: readDemos(document.demos, defaults.demos),
    metrics: metrics
      ? {
          enabled: metrics.boolean('enabled', defaults.metrics.enabled),
          listenIp: metrics.string('listenIp', defaults.metrics.listenIp, false),
          port: metrics.integer('port', defaults.metrics.port, 0, PORT_MAX),
          path: metrics.string('path', defaults.metrics.path, false),
          mediaStatsIntervalMs: metrics.integer('mediaStatsIntervalMs', defaults.metrics.mediaStatsIntervalMs, 0, 3_600_000),
        }
      : defaults.metrics,
  };
  if (tls) {
    config.tls = { certFile: tls.string('certFile', '', false), keyFile: tls.string('keyFile', '', false) };
    if (!config.tls.certFile) throw new ConfigError('tls.certFile', 'is required');
    if (!config.tls.keyFile) throw new ConfigError('tls.keyFile', 'is required');
    const passphrase = tls.optionalString('passphrase');
    if (passphrase !== undefined) config.tls.passphrase = passphrase;
  }
  if (config.media.rtcMinPort > config.media.rtcMaxPort) {
    throw new ConfigError('media.rtcMinPort', 'must not be above media.rtcMaxPort');
  }
  return config;
}

/** `demos`: a boolean, or { enabled, janusJs, adapterJs }. */
function readDemos(value: unknown, defaults: DemosConfig): DemosConfig {
  if (value === undefined) return defaults;
  if (typeof value === 'boolean') return { ...defaults, enabled: value };
  if (!isObject(value)) throw new ConfigError('demos', 'must be a boolean or an object');
  const reader = new Reader(value, 'demos');
  reader.known(['enabled', 'janusJs', 'adapterJs']);
  return {
    enabled: reader.boolean('enabled', true),
    janusJs: reader.string('janusJs', defaults.janusJs, false),
    adapterJs: reader.string('adapterJs', defaults.adapterJs, false),
  };
}

/** Reads and validates a JSON config file. Throws ConfigError naming the file or field. */
export function loadConfigFile(path: string): LuasfuConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('--config', `cannot be read: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('--config', `is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(document);
}

/** Number of mediasoup workers to start for this config. */
export function mediaWorkerCount(config: MediaConfig): number {
  return config.workers > 0 ? config.workers : availableParallelism();
}

/** The WebRtcServer port of worker `index` (0 = a free port in rtcMinPort..rtcMaxPort). */
export function mediaWorkerPort(config: MediaConfig, index: number): number {
  if (config.ports.length > 0) {
    const port = config.ports[index];
    if (port === undefined) {
      throw new ConfigError('media.ports', `lists ${config.ports.length} ports for ${mediaWorkerCount(config)} workers`);
    }
    return port;
  }
  if (config.basePort === 0) return 0;
  const port = config.basePort + index;
  if (port > PORT_MAX) throw new ConfigError('media.basePort', `+ worker index ${index} is above ${PORT_MAX}`);
  return port;
}
