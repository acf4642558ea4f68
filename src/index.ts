// luasfu as a library: start a whole server from a config, or assemble the parts yourself
// (LuasfuServer + your own plugins and/or media plane) inside an existing Node service.
//
//   import { startLuasfu, parseConfig } from 'luasfu';
//   const sfu = await startLuasfu({ config: parseConfig({ scripts: ['lua/echotest.lua'] }) });
//   console.log(sfu.ports);          // { http: 8088, websocket: 8188, adminHttp: 7088, ... }
//   await sfu.stop();

import { extname } from 'node:path';
import { ConfigError, type LuasfuConfig, type ScriptConfig } from './config';
import { Logger } from './log';
import type { MediaPlane } from './media/media-plane';
import { MediasoupMediaPlane } from './media/plane';
import type { Plugin } from './plugin/plugin';
import { createJsPlugin } from './script/js-plugin';
import { createLuaPlugin } from './script/lua-plugin';
import { type ListeningPorts, LuasfuServer } from './server';

export * from './config';
export { Logger, silentLogger, type LogLevel, type LogFields } from './log';
export { JanusError, JanusErrorCode } from './janus/errors';
export type * from './plugin/plugin';
export type * from './plugin/media';
export type * from './plugin/monitor';
export type { JsonObject, JsonValue } from './plugin/json';
export type * from './media/media-plane';
export { MediasoupMediaPlane } from './media/plane';
export { LuasfuServer, type LuasfuServerOptions, type ListeningPorts } from './server';
export { createLuaPlugin } from './script/lua-plugin';
export { createJsPlugin } from './script/js-plugin';

export interface StartOptions {
  config: LuasfuConfig;
  /** Defaults to a JSON logger on stderr at config.log.level. */
  logger?: Logger;
  /** Plain TypeScript plugins, registered beside the configured scripts. */
  plugins?: Plugin[];
  /** Defaults to mediasoup workers per config.media. */
  mediaPlane?: MediaPlane;
}

export interface Luasfu {
  server: LuasfuServer;
  mediaPlane: MediaPlane;
  ports: ListeningPorts;
  stop(): Promise<void>;
}

/** The plugin for a configured script, by its extension. */
export function scriptPlugin(script: ScriptConfig, logger: Logger): Plugin {
  const kind = extname(script.path).toLowerCase();
  if (kind === '.lua') return createLuaPlugin(script, logger);
  if (kind === '.js') return createJsPlugin(script, logger, { timeLimitMs: script.timeLimitMs });
  throw new ConfigError('scripts.path', `must name a .lua or .js script (got ${script.path})`);
}

/** Starts mediasoup, the script plugins and the Janus API listeners. */
export async function startLuasfu(options: StartOptions): Promise<Luasfu> {
  const { config } = options;
  const logger = options.logger ?? Logger.create({ level: config.log.level, format: config.log.format });
  const plugins = [...config.scripts.map((script) => scriptPlugin(script, logger)), ...(options.plugins ?? [])];
  const mediaPlane = options.mediaPlane ?? (await MediasoupMediaPlane.start(config.media, logger));
  const server = new LuasfuServer({ config, logger, plugins, mediaPlane, ownsMediaPlane: !options.mediaPlane });
  let ports: ListeningPorts;
  try {
    ports = await server.start();
  } catch (error) {
    await server.stop().catch(() => undefined);
    if (!options.mediaPlane) await mediaPlane.close().catch(() => undefined);
    throw error;
  }
  return { server, mediaPlane, ports, stop: () => server.stop() };
}
