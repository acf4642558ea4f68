// luasfu configuration: the TypeScript types of config.schema.json (the JSON Schema shipped in
// the package, which editors validate against too). The schema is the one source of the
// rules and the defaults: ajv validates a document against it and fills in the defaults; the
// code here only adds what a schema cannot say (one cross-field check), normalises a few
// shorthands, and turns ajv's first error into a ConfigError naming the field. Adding a
// setting = adding it to config.schema.json and to the types below. CLI flags are applied on
// top of the file (cli-args.ts).

import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { type LogLevel, logLevelOfJanus } from './log';
import { NamedError } from './common/named-error';

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
  /**
   * Lua: warm the script's thread up after the load (default true), so its first offers are
   * not answered 3-10x slower; costs ~0.5 s of CPU at the load and ~20-22 MiB of memory.
   */
  warmUp?: boolean;
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
  /**
   * janus.jcfg `recordings_tmp_ext`: while a recording is open its file is `name.mjr.<ext>`,
   * renamed to `name.mjr` when it closes (so a watcher sees only finished files); "" = off.
   */
  recordingsTmpExt: string;
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
  /** Interface the Janus API listeners bind to. */
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

/** The luasfu package's folder (dist/src/config.js -> package root), wherever it is installed. */
export const PACKAGE_DIR = join(__dirname, '..', '..');

/** The default script (lua/echotest.lua of the package), as an absolute path. */
export function defaultScriptPath(): string {
  return join(PACKAGE_DIR, DEFAULT_SCRIPT);
}

/** Throws a ConfigError naming the first script whose file does not exist (checked before anything starts). */
export function checkScriptFiles(scripts: readonly ScriptConfig[]): void {
  scripts.forEach((script, index) => {
    if (!existsSync(script.path)) throw new ConfigError(`scripts[${index}].path:`, `no such file: ${script.path}`);
  });
}

/** The JSON Schema of the config file, shipped in the package. */
export const CONFIG_SCHEMA_FILE = join(PACKAGE_DIR, 'config.schema.json');

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

export class ConfigError extends NamedError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`config: ${field} ${message}`);
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Validators {
  config: ValidateFunction;
  script: ValidateFunction;
}

let compiled: Validators | undefined;

/** Compiled once, on first use: the schema from the package, defaults filled in place. */
function validators(): Validators {
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync(CONFIG_SCHEMA_FILE, 'utf8')) as Json & { $id: string };
  const ajv = new Ajv({ useDefaults: true, verbose: true, allowUnionTypes: true, strict: true });
  ajv.addFormat('http-url', {
    type: 'string',
    validate: (text: string) => {
      try {
        const url = new URL(text);
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    },
  });
  const config = ajv.compile(schema);
  const script = ajv.getSchema(`${schema.$id}#/properties/scripts/items`);
  if (!script) throw new Error('config.schema.json has no scripts item schema');
  compiled = { config, script };
  return compiled;
}

// ---- turning ajv's first error into "config: <field> <message>" -----------------------------

const FORMAT_MESSAGES: Record<string, string> = { 'http-url': 'must be an http:// or https:// URL' };

/** "/scripts/0/path" under "" -> "scripts[0].path"; under "--script[1]" -> "--script[1].path". */
function fieldName(prefix: string, instancePath: string): string {
  let field = prefix;
  for (const raw of instancePath.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    field += /^\d+$/.test(part) ? `[${part}]` : field ? `.${part}` : part;
  }
  return field;
}

function child(field: string, key: string): string {
  return field ? `${field}.${key}` : key;
}

function typeWords(types: string[]): string {
  const words = types.flatMap((type) => {
    switch (type) {
      case 'boolean': return ['true', 'false'];
      case 'integer': return ['an integer'];
      case 'object': return ['an object'];
      case 'array': return ['an array'];
      default: return [`a ${type}`];
    }
  });
  return words.length === 1 ? words[0]! : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]!}`;
}

function describe(error: ErrorObject, prefix: string): ConfigError {
  const field = fieldName(prefix, error.instancePath);
  const schema = (error.parentSchema ?? {}) as Json;
  const params = error.params as Json;
  const range = typeof schema.minimum === 'number' && typeof schema.maximum === 'number'
    ? `must be an integer from ${schema.minimum} to ${schema.maximum}` : undefined;
  switch (error.keyword) {
    case 'additionalProperties':
      return new ConfigError(child(field, String(params.additionalProperty)), 'is not a known setting');
    case 'required':
      return new ConfigError(child(field, String(params.missingProperty)), 'is required');
    case 'minimum':
    case 'maximum':
      return new ConfigError(field, range ?? (error.message ?? 'is out of range'));
    case 'type': {
      const types = Array.isArray(params.type) ? (params.type as string[]) : String(params.type).split(',');
      return new ConfigError(field, types.length === 1 && types[0] === 'integer' && range ? range : `must be ${typeWords(types)}`);
    }
    case 'enum':
      return new ConfigError(field, `must be one of ${(params.allowedValues as unknown[]).join(', ')}`);
    case 'minLength':
      return new ConfigError(field, 'must be a non-empty string');
    case 'minItems':
      return new ConfigError(field, 'must not be empty');
    case 'format':
      return new ConfigError(field, FORMAT_MESSAGES[String(params.format)] ?? `must be a valid ${String(params.format)}`);
    default:
      return new ConfigError(field || '(root)', error.message ?? 'is invalid');
  }
}

function check(validate: ValidateFunction, document: unknown, prefix: string): void {
  if (validate(document)) return;
  const error = validate.errors?.[0];
  throw error ? describe(error, prefix) : new ConfigError(prefix || '(root)', 'is invalid');
}

// ---- shorthands the schema allows, in their full form ---------------------------------------

/** A script given as a path is `{ path }`. */
function scriptObject(value: unknown): unknown {
  return typeof value === 'string' ? { path: value } : value;
}

function normaliseHttpPath(listener: HttpListenerConfig): void {
  const path = listener.path.replace(/\/+$/, '');
  listener.path = path.startsWith('/') ? path : `/${path}`;
}

/** A script (path or object) with its defaults. Throws ConfigError naming `field`. */
export function readScript(value: unknown, field: string): ScriptConfig {
  const script = structuredClone(scriptObject(value));
  if (!isObject(script)) throw new ConfigError(field, 'must be a path or an object with a path');
  check(validators().script, script, field);
  return script as unknown as ScriptConfig;
}

/**
 * `announcedIp` given on its own (config or --announced-ip): every listen address announces it;
 * without listen addresses the sockets bind 0.0.0.0 (the usual setup behind 1:1 NAT).
 */
export function withAnnouncedIp(addresses: readonly MediaAddressConfig[], announcedIp: string): MediaAddressConfig[] {
  if (addresses.length === 0) return [{ ip: '0.0.0.0', announcedIp }];
  return addresses.map((address) => ({ ...address, announcedIp }));
}

/** `media.listenIps` (strings or { ip, announcedIp }), or the older single `media.listenIp` / `media.announcedIp`. */
function normaliseMediaAddresses(media: Json): void {
  const { listenIp, announcedIp } = media as { listenIp?: string; announcedIp?: string };
  if (listenIp !== undefined && media.listenIps !== undefined) {
    throw new ConfigError('media.listenIp', 'cannot be combined with media.listenIps');
  }
  let addresses = Array.isArray(media.listenIps)
    ? (media.listenIps as Array<string | MediaAddressConfig>).map((entry) => (typeof entry === 'string' ? { ip: entry } : entry))
    : listenIp !== undefined ? [{ ip: listenIp }] : [];
  if (announcedIp !== undefined) addresses = withAnnouncedIp(addresses, announcedIp);
  media.listenIps = addresses;
  delete media.listenIp;
  delete media.announcedIp;
}

/** Validates a parsed config document against config.schema.json and fills in defaults. Throws ConfigError. */
export function parseConfig(document: unknown): LuasfuConfig {
  if (!isObject(document)) throw new ConfigError('(root)', 'must be a JSON object');
  const doc = structuredClone(document);
  if (Array.isArray(doc.scripts)) doc.scripts = doc.scripts.map(scriptObject);
  if (typeof doc.eventHandlers === 'boolean') doc.eventHandlers = { enabled: doc.eventHandlers };
  if (typeof doc.demos === 'boolean') doc.demos = { enabled: doc.demos };
  check(validators().config, doc, '');
  delete doc.$schema;
  normaliseMediaAddresses(doc.media as Json);
  const config = doc as unknown as LuasfuConfig & { log: { level: LogLevel | number } };
  if (typeof config.log.level === 'number') config.log.level = logLevelOfJanus(config.log.level);
  for (const listener of [config.http, config.adminHttp]) normaliseHttpPath(listener);
  if (config.media.rtcMinPort > config.media.rtcMaxPort) {
    throw new ConfigError('media.rtcMinPort', 'must not be above media.rtcMaxPort');
  }
  return config;
}

/** Every default: the config of an empty document. */
export function defaultConfig(): LuasfuConfig {
  return parseConfig({});
}

// ---- files and environment variables ---------------------------------------------------------

/** ${NAME}, ${NAME:-fallback}, and the escape $${ (a literal ${). */
const ENV_REFERENCE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces environment references in every string of a config document (not in keys).
 * An unset variable without a fallback is an error naming the field.
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv = process.env, field = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (whole: string, escape: string, name: string, fallback: string | undefined) => {
      if (escape) return whole.slice(1);
      const found = env[name];
      if (found !== undefined) return found;
      if (fallback !== undefined) return fallback;
      throw new ConfigError(field || '(root)', `uses \${${name}}, which is not set in the environment`);
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => substituteEnv(item, env, `${field}[${index}]`));
  if (isObject(value)) {
    const out: Json = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteEnv(item, env, child(field, key));
    return out;
  }
  return value;
}

/** Reads a JSON config file, substitutes environment references and validates it. Throws ConfigError naming the file or field. */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): LuasfuConfig {
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
  return parseConfig(substituteEnv(document, env));
}

/** Keys whose values --check-config does not print. */
const SECRET_KEY = /secret|passphrase|password|token|authorization/i;

/** The config with secret values replaced by "(set)", for printing. */
export function redactSecrets(value: unknown, key = ''): unknown {
  if (typeof value === 'string' && SECRET_KEY.test(key)) return value === '' ? '' : '(set)';
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, key));
  if (isObject(value)) {
    const out: Json = {};
    for (const [name, item] of Object.entries(value)) out[name] = redactSecrets(item, SECRET_KEY.test(key) ? key : name);
    return out;
  }
  return value;
}

const PORT_MAX = 65535;

/**
 * Number of mediasoup workers to start for this config. The default leaves one core to Node's
 * own threads (the Janus core, the script threads): a worker per core would make media and
 * signalling fight over every core, and each idle worker holds ~12 MiB.
 */
export function mediaWorkerCount(config: MediaConfig): number {
  return config.workers > 0 ? config.workers : Math.max(1, availableParallelism() - 1);
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
