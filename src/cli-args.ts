// Command-line arguments → LuasfuConfig. Pure apart from reading the --config file, so the
// precedence (defaults < config file < flags) is testable.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  checkAdminExposure,
  ConfigError,
  DEFAULT_SCRIPT,
  DEMO_SCRIPTS,
  defaultConfig,
  loadConfigFile,
  readScript,
  type LuasfuConfig,
  withAnnouncedIp,
} from './config';
import { isLogLevel } from './log';

export const USAGE = `Usage: luasfu [options]

A Janus-compatible SFU: Janus API clients, Lua/JavaScript plugin scripts, mediasoup media.

Options:
  --script <path>         Lua (.lua) or JavaScript (.js) plugin script; repeat for several
                          (default: lua/echotest.lua from the luasfu package)
  --modules-path <dir>    extra module folder for the scripts (Janus's "path")
  --script-config <text>  string passed to the scripts' init(config)
  --config <file>         JSON config file (see README "Configuration"); flags override it
  --check-config <file>   validate that file (with the other flags) against config.schema.json,
                          print the effective config (secrets hidden) and exit: 0 valid, 2 not
  --listen-ip <ip>        interface for the Janus API listeners (default 0.0.0.0)
  --http-port <port>      Janus API over HTTP (default 8088, path /janus)
  --ws-port <port>        Janus API over WebSocket (default 8188)
  --admin-http-port <p>   Admin API over HTTP (default 7088, path /admin)
  --admin-ws-port <port>  Admin API over WebSocket (default 7188)
  --admin-ip <ip>         interface for the Admin API listeners (default 127.0.0.1;
                          elsewhere a private --admin-secret is required)
  --admin-secret <text>   Admin API secret (default janusoverlord)
  --rtc-ip <ip>           address the media (ICE) sockets bind to; repeat for several
                          (default: every non-loopback IPv4 address of the host)
  --announced-ip <ip>     address put in ICE candidates (public IP behind NAT); alone, the
                          media sockets bind 0.0.0.0
  --rtc-port <port>       UDP (and ICE-TCP) port of worker 0; worker i uses port + i
                          (default: a free port per worker)
  --ice-tcp               also offer ICE-TCP candidates
  --workers <n>           mediasoup workers (default: one per core less one, at least 1)
  --log-level <level>     fatal, error, warn, info, debug or trace (default info)
  --log-format <fmt>      json or pretty (default json; pretty is coloured on a terminal)
  --metrics-port <port>   /metrics, /health and /ready (default 9464 on 127.0.0.1; "off" = none)
  --tls-cert <file>       PEM certificate: the Janus and Admin APIs speak https:// and wss://
  --tls-key <file>        its PEM key (both reloaded on SIGHUP)
  --demos                 serve the demo pages at http://<host>:<http-port>/demos/ (and load
                          lua/echotest.lua and lua/videoroom.lua when no script is given)
  -h, --help              show this help
  -v, --version           show the version
`;

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; config: LuasfuConfig }
  /** --check-config: the effective config, to print. */
  | { kind: 'check'; config: LuasfuConfig };

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 0 || n > 65535) throw new ConfigError(flag, 'must be a port number from 0 to 65535');
  return n;
}

/**
 * Parses argv (without node and script). `packageDir` locates the default script.
 * Throws ConfigError for bad flags or config.
 */
export function parseCli(argv: readonly string[], packageDir: string): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        script: { type: 'string', multiple: true },
        'modules-path': { type: 'string' },
        'script-config': { type: 'string' },
        config: { type: 'string' },
        'check-config': { type: 'string' },
        'listen-ip': { type: 'string' },
        'http-port': { type: 'string' },
        'ws-port': { type: 'string' },
        'admin-http-port': { type: 'string' },
        'admin-ws-port': { type: 'string' },
        'admin-secret': { type: 'string' },
        'admin-ip': { type: 'string' },
        'rtc-ip': { type: 'string', multiple: true },
        'rtc-port': { type: 'string' },
        'ice-tcp': { type: 'boolean' },
        'announced-ip': { type: 'string' },
        workers: { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        demos: { type: 'boolean' },
        'metrics-port': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    throw new ConfigError('arguments', `are invalid: ${(error as Error).message}`);
  }
  const flags = parsed.values;
  if (flags.help) return { kind: 'help' };
  if (flags.version) return { kind: 'version' };

  if (flags.config !== undefined && flags['check-config'] !== undefined) {
    throw new ConfigError('--check-config', 'names the config file itself: give it instead of --config');
  }
  const file = flags['check-config'] ?? flags.config;
  const config = file !== undefined ? loadConfigFile(file) : defaultConfig();
  if (flags.script && flags.script.length > 0) {
    config.scripts = flags.script.map((path, index) => readScript({ path }, `--script[${index}]`));
  }
  if (flags.demos) config.demos.enabled = true;
  if (config.scripts.length === 0) {
    const defaults = config.demos.enabled ? DEMO_SCRIPTS : [DEFAULT_SCRIPT];
    config.scripts = defaults.map((path, index) => readScript({ path: resolve(packageDir, path) }, `scripts[${index}]`));
  }
  for (const script of config.scripts) {
    if (flags['modules-path'] !== undefined) script.modulesPath = flags['modules-path'];
    if (flags['script-config'] !== undefined) script.config = flags['script-config'];
  }
  if (flags['listen-ip'] !== undefined) config.listenIp = flags['listen-ip'];
  if (flags['http-port'] !== undefined) config.http.port = port(flags['http-port'], '--http-port');
  if (flags['ws-port'] !== undefined) config.websocket.port = port(flags['ws-port'], '--ws-port');
  if (flags['admin-http-port'] !== undefined) config.adminHttp.port = port(flags['admin-http-port'], '--admin-http-port');
  if (flags['admin-ws-port'] !== undefined) config.adminWebsocket.port = port(flags['admin-ws-port'], '--admin-ws-port');
  if (flags['admin-secret'] !== undefined) config.adminSecret = flags['admin-secret'];
  if (flags['admin-ip'] !== undefined) config.adminListenIp = flags['admin-ip'];
  if (flags['rtc-ip'] !== undefined && flags['rtc-ip'].length > 0) {
    config.media.listenIps = flags['rtc-ip'].map((ip) => ({ ip }));
  }
  if (flags['announced-ip'] !== undefined) {
    config.media.listenIps = withAnnouncedIp(config.media.listenIps, flags['announced-ip']);
  }
  if (flags['rtc-port'] !== undefined) {
    config.media.ports = [];
    config.media.basePort = port(flags['rtc-port'], '--rtc-port');
  }
  if (flags['ice-tcp']) config.media.iceTcp = true;
  if (flags.workers !== undefined) {
    const n = Number(flags.workers);
    if (!Number.isInteger(n) || n < 0 || n > 256) throw new ConfigError('--workers', 'must be an integer from 0 to 256');
    config.media.workers = n;
  }
  if (flags['log-level'] !== undefined) {
    if (!isLogLevel(flags['log-level'])) {
      throw new ConfigError('--log-level', 'must be one of fatal, error, warn, info, debug, trace');
    }
    config.log.level = flags['log-level'];
  }
  if (flags['log-format'] !== undefined) {
    const format = flags['log-format'];
    if (format !== 'json' && format !== 'pretty') throw new ConfigError('--log-format', 'must be json or pretty');
    config.log.format = format;
  }
  const metricsPort = flags['metrics-port'];
  if (metricsPort === 'off') config.metrics.enabled = false;
  else if (metricsPort !== undefined) config.metrics = { ...config.metrics, enabled: true, port: port(metricsPort, '--metrics-port') };
  if ((flags['tls-cert'] === undefined) !== (flags['tls-key'] === undefined)) {
    throw new ConfigError(flags['tls-cert'] === undefined ? '--tls-cert' : '--tls-key', 'is needed too (TLS takes both)');
  }
  if (flags['tls-cert'] !== undefined && flags['tls-key'] !== undefined) {
    config.tls = { ...config.tls, certFile: flags['tls-cert'], keyFile: flags['tls-key'] };
  }
  checkAdminExposure(config);
  return { kind: flags['check-config'] !== undefined ? 'check' : 'run', config };
}
