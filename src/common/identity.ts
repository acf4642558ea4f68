// What Janus 1.1.2 says about itself and its stock plugins, which clients may read: the
// server's name and version in `info`, and the default names and descriptions of the Lua
// (janus_lua.c) and Duktape (janus_duktape.c) plugins and of the transports we stand in for.
// The `author` fields are ours: no client reads them, and this code is not Janus's.

import type { PluginInfo } from './plugin-info';

export const SERVER_NAME = 'Janus WebRTC Server';
export const SERVER_VERSION = 1102;
export const SERVER_VERSION_STRING = '1.1.2';
/** The author reported for the server and its built-in plugins and transports. */
export const AUTHOR = 'luasfu';

/** janus_lua.c's info when the script defines no getters (getName etc.). */
export const LUA_PLUGIN_INFO: Readonly<PluginInfo> = {
  package: 'janus.plugin.lua',
  name: 'Janus Lua plugin',
  description: 'A custom plugin for the Lua framework.',
  author: AUTHOR,
  version: 1,
  versionString: '0.0.1',
};

/** janus_duktape.c's info when the script defines no getters (getName etc.). */
export const DUKTAPE_PLUGIN_INFO: Readonly<PluginInfo> = {
  package: 'janus.plugin.duktape',
  name: 'Janus JavaScript plugin (Duktape)',
  description: 'A custom plugin for implementing the logic in JavaScript, via Duktape.',
  author: AUTHOR,
  version: 1,
  versionString: '0.0.1',
};

/** janus_websockets.c, shown in `info` under `transports`. */
export const WEBSOCKETS_TRANSPORT: Readonly<PluginInfo> = {
  package: 'janus.transport.websockets',
  name: 'JANUS WebSockets transport plugin',
  description: 'This transport plugin adds WebSockets support to the Janus API via libwebsockets.',
  author: AUTHOR,
  version: 1,
  versionString: '0.0.1',
};

/** janus_http.c, shown in `info` under `transports`. */
export const HTTP_TRANSPORT: Readonly<PluginInfo> = {
  package: 'janus.transport.http',
  name: 'JANUS REST (HTTP/HTTPS) transport plugin',
  description: 'This transport plugin adds REST (HTTP/HTTPS) support to the Janus API via libmicrohttpd.',
  author: AUTHOR,
  version: 2,
  versionString: '0.0.2',
};
