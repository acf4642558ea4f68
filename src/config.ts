// luasfu configuration: the JSON schema (as TypeScript types), its defaults, and one pure
// validator that names the offending field. CLI flags are applied on top of the file.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
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

export interface MediaConfig {
  /** mediasoup workers; 0 = one per core. */
  workers: number;
  /** Address the RTC sockets bind to. */
  listenIp: string;
  /** Address written into candidates (public IP behind NAT); defaults to listenIp. */
  announcedIp?: string;
  rtcMinPort: number;
  rtcMaxPort: number;
  /** mediasoup worker log level. */
  workerLogLevel: 'debug' | 'warn' | 'error' | 'none';
  /** Folder for recordings whose script gives no folder. */
  recordingsFolder: string;
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
  /** Janus API secret (`api_secret`); empty = none. */
  apiSecret: string;
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
  eventHandlers: boolean;
  log: { level: LogLevel; format: 'json' | 'pretty' };
  media: MediaConfig;
}

export const DEFAULT_SCRIPT = 'lua/echotest.lua';

export function defaultConfig(): LuasfuConfig {
  return {
    scripts: [],
    listenIp: '0.0.0.0',
    http: { enabled: true, port: 8088, path: '/janus' },
    websocket: { enabled: true, port: 8188 },
    adminHttp: { enabled: true, port: 7088, path: '/admin' },
    adminWebsocket: { enabled: true, port: 7188 },
    adminSecret: 'janusoverlord',
    apiSecret: '',
    sessionTimeout: 60,
    reclaimSessionTimeout: 0,
    maxRequestBytes: 1024 * 1024,
    maxLongPolls: 3,
    maxRequestsPerSecond: 2000,
    eventHandlers: false,
    log: { level: 'info', format: 'json' },
    media: {
      workers: 0,
      listenIp: '127.0.0.1',
      rtcMinPort: 10000,
      rtcMaxPort: 59999,
      workerLogLevel: 'warn',
      recordingsFolder: '/tmp',
    },
  };
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
    'sessionTimeout', 'reclaimSessionTimeout', 'maxRequestBytes', 'maxLongPolls', 'maxRequestsPerSecond',
    'eventHandlers', 'log', 'media', '$schema',
  ]);
  const log = root.object('log');
  log?.known(['level', 'format']);
  const media = root.object('media');
  media?.known(['workers', 'listenIp', 'announcedIp', 'rtcMinPort', 'rtcMaxPort', 'workerLogLevel', 'recordingsFolder']);
  const levelValue = log ? log.string('level', defaults.log.level) : defaults.log.level;
  if (!isLogLevel(levelValue)) throw new ConfigError('log.level', 'must be one of fatal, error, warn, info, debug, trace');
  const config: LuasfuConfig = {
    scripts: (root.array('scripts') ?? []).map(({ value, field }) => readScript(value, field)),
    listenIp: root.string('listenIp', defaults.listenIp, false),
    http: readHttpListener(root.object('http'), defaults.http),
    websocket: readListener(root.object('websocket'), defaults.websocket),
    adminHttp: readHttpListener(root.object('adminHttp'), defaults.adminHttp),
    adminWebsocket: readListener(root.object('adminWebsocket'), defaults.adminWebsocket),
    adminSecret: root.string('adminSecret', defaults.adminSecret),
    apiSecret: root.string('apiSecret', defaults.apiSecret),
    sessionTimeout: root.integer('sessionTimeout', defaults.sessionTimeout, 0, 86400),
    reclaimSessionTimeout: root.integer('reclaimSessionTimeout', defaults.reclaimSessionTimeout, 0, 86400),
    maxRequestBytes: root.integer('maxRequestBytes', defaults.maxRequestBytes, 1024, 64 * 1024 * 1024),
    maxLongPolls: root.integer('maxLongPolls', defaults.maxLongPolls, 1, 100),
    maxRequestsPerSecond: root.integer('maxRequestsPerSecond', defaults.maxRequestsPerSecond, 1, 1_000_000),
    eventHandlers: root.boolean('eventHandlers', defaults.eventHandlers),
    log: {
      level: levelValue,
      format: log ? log.oneOf('format', defaults.log.format, ['json', 'pretty'] as const) : defaults.log.format,
    },
    media: media
      ? {
          workers: media.integer('workers', defaults.media.workers, 0, 256),
          listenIp: media.string('listenIp', defaults.media.listenIp, false),
          announcedIp: media.optionalString('announcedIp'),
          rtcMinPort: media.integer('rtcMinPort', defaults.media.rtcMinPort, 1024, PORT_MAX),
          rtcMaxPort: media.integer('rtcMaxPort', defaults.media.rtcMaxPort, 1024, PORT_MAX),
          workerLogLevel: media.oneOf('workerLogLevel', defaults.media.workerLogLevel, ['debug', 'warn', 'error', 'none'] as const),
          recordingsFolder: media.string('recordingsFolder', defaults.media.recordingsFolder, false),
        }
      : defaults.media,
  };
  if (config.media.rtcMinPort > config.media.rtcMaxPort) {
    throw new ConfigError('media.rtcMinPort', 'must not be above media.rtcMaxPort');
  }
  return config;
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
