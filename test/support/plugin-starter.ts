// Starts script plugins (Lua or JavaScript) on recording hosts for the tests of one suite, each
// with its own captured log, and destroys every one after each test.

import type { ScriptConfig } from '../../src/config';
import type { Logger } from '../../src/log';
import type { ScriptPlugin } from '../../src/script/script-plugin';
import { FakeHost } from '../lua-fixtures';
import { type CapturedLog, captureLogger } from './log-capture';

export type CreateScriptPlugin<O> = (script: ScriptConfig, logger: Logger, options: O) => ScriptPlugin;

export interface PluginStarter<O> {
  /** Every plugin started (or pushed) since the last test ended. */
  readonly plugins: ScriptPlugin[];
  /** The log of the plugin started last. */
  readonly log: CapturedLog;
  /** Creates the plugin for script `name` and inits it on `host`. */
  start(name: string, extra?: Partial<ScriptConfig>, options?: O, host?: FakeHost): Promise<{ plugin: ScriptPlugin; host: FakeHost }>;
}

/** A starter for the current suite; registers the afterEach that destroys the plugins. */
export function usePluginStarter<O extends object>(
  create: CreateScriptPlugin<O>,
  config: (name: string, extra: Partial<ScriptConfig>) => ScriptConfig,
): PluginStarter<O> {
  const plugins: ScriptPlugin[] = [];
  let log: CapturedLog | undefined;
  afterEach(async function () {
    await Promise.all(plugins.splice(0).map((p) => p.destroy()));
  });
  return {
    plugins,
    get log(): CapturedLog {
      if (!log) throw new Error('no plugin started yet');
      return log;
    },
    async start(name, extra = {}, options = {} as O, host = new FakeHost(true)) {
      log = captureLogger();
      const plugin = create(config(name, extra), log.logger, options);
      plugins.push(plugin);
      await plugin.init(host);
      return { plugin, host };
    },
  };
}
