// The Janus JavaScript (Duktape) plugin: a ScriptPlugin whose worker runs the script in a
// node:vm context with the Duktape plugin's globals and rules (docs/contract.md §6).

import type { ScriptConfig } from '../config';
import type { Logger } from '../log';
import { ScriptPlugin, type ScriptPluginOptions } from './script-plugin';

export type JsPluginOptions = Omit<ScriptPluginOptions, 'runtime' | 'errorReason'>;

/**
 * A Plugin running `script` (a Janus Duktape plugin script, e.g. echotest.js). Call
 * init(host) to load it. `timeLimitMs` bounds each callback (default 2 s); handleMessage
 * failures reach the client as 462 "Duktape error".
 */
export function createJsPlugin(script: ScriptConfig, logger: Logger, options: JsPluginOptions = {}): ScriptPlugin {
  return new ScriptPlugin(script, logger, { ...options, runtime: 'js', errorReason: 'Duktape error' });
}
