// createServer's options: the config file's settings as typed, optional fields (checked at
// compile time, then validated by parseConfig like a config file, so the defaults are the
// CLI's), plus what only code can pass: plugin objects, a logger, a media plane.

import { resolve } from 'node:path';
import {
  type EventHandlersConfig, type HttpListenerConfig, type ListenerConfig, type LuasfuConfig, type ScriptConfig,
  defaultScriptPath, parseConfig,
} from './config';
import type { Logger } from './log';
import type { MediaPlane } from './plugin/media-plane';
import type { Plugin } from './plugin/plugin';

/** Every field optional, recursively (arrays as they are). */
export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

/** A script with its limits (defaults as in a config file); relative paths are taken from the current folder. */
export type ScriptOptions = Partial<ScriptConfig> & { path: string };

/** A Janus API or Admin API listener: `false` turns it off (e.g. when you bring your own transport). */
export type ListenerOption<T extends ListenerConfig> = DeepPartial<T> | boolean;

type Listeners = 'http' | 'websocket' | 'adminHttp' | 'adminWebsocket';

export type LuasfuConfigOptions = DeepPartial<Omit<LuasfuConfig, 'scripts' | 'eventHandlers' | Listeners>> & {
  http?: ListenerOption<HttpListenerConfig>;
  websocket?: ListenerOption<ListenerConfig>;
  adminHttp?: ListenerOption<HttpListenerConfig>;
  adminWebsocket?: ListenerOption<ListenerConfig>;
  eventHandlers?: boolean | (DeepPartial<EventHandlersConfig> & { enabled: boolean });
};

export interface LuasfuOptions extends LuasfuConfigOptions {
  /**
   * Scripts (.lua or .js) by path or with their limits, and plugin objects implementing
   * `Plugin`, registered in this order under their package names. Default (absent): the
   * package's lua/echotest.lua, as the CLI. `[]`: none.
   */
  scripts?: Array<string | ScriptOptions | Plugin>;
  /** Default: a JSON logger on stderr at `log.level`. */
  logger?: Logger;
  /** Default: mediasoup workers per `media`, started by listen() and stopped by close(). A plane passed in stays yours to close. */
  mediaPlane?: MediaPlane;
}

/** One entry of `scripts`, after validation. */
export type ScriptEntry = { kind: 'script'; config: ScriptConfig } | { kind: 'plugin'; plugin: Plugin };

export interface ResolvedOptions {
  config: LuasfuConfig;
  /** Scripts and plugin objects in their order; the scripts are also config.scripts. */
  entries: ScriptEntry[];
}

function isPlugin(entry: string | ScriptOptions | Plugin): entry is Plugin {
  return typeof entry === 'object' && typeof (entry as Partial<Plugin>).init === 'function';
}

function listener<T extends ListenerConfig>(option: ListenerOption<T> | undefined): DeepPartial<T> | undefined {
  if (typeof option === 'boolean') return { enabled: option } as DeepPartial<T>;
  return option;
}

/** Validates options as a config file (ConfigError names the field) and fills in the CLI's defaults. */
export function resolveOptions(options: LuasfuOptions): ResolvedOptions {
  const { scripts, logger: _logger, mediaPlane: _mediaPlane, http, websocket, adminHttp, adminWebsocket, ...settings } = options;
  const given = scripts ?? [defaultScriptPath()];
  const document: Record<string, unknown> = {
    ...settings,
    scripts: given.filter((entry) => !isPlugin(entry)),
  };
  for (const [key, value] of [['http', http], ['websocket', websocket], ['adminHttp', adminHttp], ['adminWebsocket', adminWebsocket]] as const) {
    const resolved = listener(value);
    if (resolved !== undefined) document[key] = resolved;
  }
  const config = parseConfig(document);
  // Absolute paths: reloads and logs must not depend on the current folder later on.
  for (const script of config.scripts) {
    script.path = resolve(script.path);
    if (script.modulesPath !== undefined) script.modulesPath = resolve(script.modulesPath);
  }
  const parsed = [...config.scripts];
  const entries: ScriptEntry[] = given.map((entry) =>
    isPlugin(entry) ? { kind: 'plugin', plugin: entry } : { kind: 'script', config: parsed.shift() as ScriptConfig },
  );
  return { config, entries };
}
