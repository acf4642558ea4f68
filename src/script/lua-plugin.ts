// The Janus Lua plugin: a ScriptPlugin whose worker runs the script in Fengari.

import type { ScriptConfig } from '../config';
import type { Logger } from '../log';
import { ScriptPlugin, type ScriptPluginOptions } from './script-plugin';

export type LuaPluginOptions = Omit<ScriptPluginOptions, 'runtime'>;

/** A Plugin running `script` (a Janus Lua plugin script). Call init(host) to load it. */
export function createLuaPlugin(script: ScriptConfig, logger: Logger, options: LuaPluginOptions = {}): ScriptPlugin {
  return new ScriptPlugin(script, logger, { ...options, runtime: 'lua' });
}
