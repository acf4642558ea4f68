// A test server in its own process, so a test can read its RSS from /proc: the TestPlugin
// on 127.0.0.1, config overrides from argv[2] (JSON), a JSON log on stderr, its ports as one
// JSON line on stdout. Stops on SIGTERM.

import { Logger } from '../../src/log';
import type { LuasfuConfig } from '../../src/config';
import { startTestServer } from './test-server';

async function main(): Promise<void> {
  const overrides = JSON.parse(process.argv[2] ?? '{}') as Partial<LuasfuConfig>;
  const ts = await startTestServer({ config: overrides, logger: Logger.create({ level: 'warn' }) });
  process.stdout.write(`${JSON.stringify({ ws: ts.urls.ws, adminHttp: ts.urls.adminHttp })}\n`);
  process.on('SIGTERM', () => {
    void ts.close().then(() => process.exit(0));
  });
}

void main();
