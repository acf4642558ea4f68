// luasfu as a library (the package's entry, for `import` and `require` alike):
//
//   import { createServer } from 'luasfu';
//   const sfu = createServer({ listenIp: '127.0.0.1', scripts: ['rooms.lua'] });
//   sfu.on('scriptError', (event) => console.error(event));
//   console.log(await sfu.listen());  // { http: 8088, websocket: 8188, adminHttp: 7088, adminWebsocket: 7188 }
//   await sfu.close();
//
// createServer (src/luasfu.ts) is the whole server; LuasfuServer, the plugins and the media
// plane are the parts, for applications that assemble their own.

import type { LuasfuConfig } from './config';
import type { Logger } from './log';
import { Luasfu } from './luasfu';
import type { MediaPlane } from './plugin/media-plane';
import type { Plugin } from './plugin/plugin';

export * from './config';
export { Logger, silentLogger, type LogLevel, type LogFields } from './log';
export { JanusError, JanusErrorCode } from './janus/errors';
export { InvalidSdpError, UnexpectedAnswerError, InvalidStateError } from './plugin/media-errors';
export type { TransportConnection, TransportInfo, ReplySink } from './janus/connection';
export { PluginRegistrationError } from './janus/core';
export { WEBSOCKETS_TRANSPORT, HTTP_TRANSPORT } from './common/identity';
export type * from './plugin/plugin';
export { PushEventResult } from './plugin/plugin';
export type * from './plugin/media';
export type * from './plugin/monitor';
export type { JsonObject, JsonValue } from './plugin/json';
export type * from './plugin/media-plane';
export { MediasoupMediaPlane } from './media/plane';
export { LuasfuServer, type LuasfuServerOptions, type ListeningPorts } from './server';
export { createLuaPlugin } from './script/lua-plugin';
export { createJsPlugin } from './script/js-plugin';
export {
  ScriptLoadError, type ScriptObserver, type ScriptErrorReport, type ScriptRestartReport,
} from './script/script-plugin';
export {
  Luasfu, createServer, scriptPlugin, ServerStateError, ScriptReloadError,
  type LuasfuParts, type PluginStatus, type ReloadOutcome, type TransportOptions, type HttpHandlerOptions, type HttpRequestHandler,
} from './luasfu';
export type { LuasfuOptions, LuasfuConfigOptions, ScriptOptions, ListenerOption, DeepPartial } from './options';
export type * from './events/server-events';
export {
  TransportAdapter, AdapterConnection,
  type TransportAdapterOptions, type TransportPeer, type TextRequestProcessor, type WebSocketLike, type TransportMessage,
} from './transports/adapter';
export type { JsonLayout } from './transports/uws';

/** The WebSocket subprotocols clients ask for (the Janus API and the Admin API). */
export const JANUS_PROTOCOL = 'janus-protocol';
export const JANUS_ADMIN_PROTOCOL = 'janus-admin-protocol';

export interface StartOptions {
  config: LuasfuConfig;
  /** Defaults to a JSON logger on stderr at config.log.level. */
  logger?: Logger;
  /** Plain TypeScript plugins, registered after the configured scripts. */
  plugins?: Plugin[];
  /** Defaults to mediasoup workers per config.media (stopped by stop()). */
  mediaPlane?: MediaPlane;
}

/** Starts a server from an already validated config (what the CLI does); createServer is the typed way. */
export async function startLuasfu(options: StartOptions): Promise<Luasfu> {
  const sfu = new Luasfu({
    config: options.config,
    entries: [
      ...options.config.scripts.map((config) => ({ kind: 'script' as const, config })),
      ...(options.plugins ?? []).map((plugin) => ({ kind: 'plugin' as const, plugin })),
    ],
    logger: options.logger,
    mediaPlane: options.mediaPlane,
  });
  await sfu.listen();
  return sfu;
}
