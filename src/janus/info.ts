// The `server_info` reply (janus_info() in janus.c), with the fields janus.js and janode read.

import type { JsonObject } from '../plugin/json';
import type { PluginInfo } from '../plugin/plugin';
import type { TransportInfo } from './connection';
import { AUTHOR, SERVER_NAME, SERVER_VERSION, SERVER_VERSION_STRING } from '../common/identity';

export interface ServerInfoInput {
  transaction: string | undefined;
  plugins: readonly PluginInfo[];
  transports: readonly TransportInfo[];
  sessionTimeout: number;
  reclaimSessionTimeout: number;
  apiSecret: boolean;
  tokenAuth: boolean;
  eventHandlers: boolean;
  acceptingNewSessions: boolean;
  serverName: string;
  localIp: string;
  /** ICE-TCP candidates are offered (the media plane says). */
  iceTcp: boolean;
}

function describe(entry: PluginInfo): JsonObject {
  return {
    name: entry.name,
    author: entry.author,
    description: entry.description,
    version_string: entry.versionString,
    version: entry.version,
  };
}

export function buildServerInfo(input: ServerInfoInput): JsonObject {
  const info: JsonObject = { janus: 'server_info' };
  if (input.transaction !== undefined) info.transaction = input.transaction;
  const plugins: JsonObject = {};
  for (const plugin of input.plugins) plugins[plugin.package] = describe(plugin);
  const transports: JsonObject = {};
  for (const transport of input.transports) transports[transport.package] = describe(transport);
  Object.assign(info, {
    name: SERVER_NAME,
    version: SERVER_VERSION,
    version_string: SERVER_VERSION_STRING,
    author: AUTHOR,
    'commit-hash': 'not-a-git-repo',
    'compile-time': '',
    'log-to-stdout': true,
    'log-to-file': false,
    data_channels: true,
    'accepting-new-sessions': input.acceptingNewSessions,
    'session-timeout': input.sessionTimeout,
    'reclaim-session-timeout': input.reclaimSessionTimeout,
    'candidates-timeout': 45,
    'server-name': input.serverName,
    'local-ip': input.localIp,
    ipv6: false,
    'ice-lite': false,
    'ice-tcp': input.iceTcp,
    'full-trickle': false,
    'mdns-enabled': false,
    'min-nack-queue': 200,
    'twcc-period': 200,
    'dtls-mtu': 1200,
    'static-event-loops': 0,
    api_secret: input.apiSecret,
    auth_token: input.tokenAuth,
    event_handlers: input.eventHandlers,
    opaqueid_in_api: false,
    dependencies: {},
    transports,
    events: {},
    loggers: {},
    plugins,
  } satisfies JsonObject);
  return info;
}
