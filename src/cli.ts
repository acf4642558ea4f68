#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=50 --single-threaded-gc --no-memory-reducer
// The luasfu command: parse flags and config, start, stop cleanly on SIGINT/SIGTERM.
// V8 flags (in the shebang, which `npm start` runs, and deploy/), measured in bench/README.md "Memory": 8 MiB
// semispaces instead of 16 (2 MiB cost 1.4x the CPU per join, in V8's GC helpers) and old
// generations that grow by 1.5x instead of up to 4x; the churn plateau stays under 140 MiB.
// --single-threaded-gc: V8's parallel and concurrent GC helper threads only contend with the
// main and script threads for the cores; without them server CPU per API message is 0.93x
// and per connected join 0.95x, with the same p99 and plateau (bench/README.md).
// --no-memory-reducer: the reducer's idle GCs let the maps of objects no session holds at that
// moment die, which throws away the optimized code of the whole join path; the next joins ran
// deoptimized and recompiled (10 offers at once after 10 s idle: 0.79x the server's CPU without
// it). The cost: an idle server keeps its working heap (~30 MiB), the plateau is unchanged.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCli, USAGE } from './cli-args';
import { ConfigError, redactSecrets } from './config';
import { startLuasfu } from './index';
import { Logger } from './log';
import { MediaListenError } from './media/engine';
import { startupSummary } from './startup';
import { ListenError } from './transports/uws';

const PACKAGE_DIR = join(__dirname, '..', '..');

function version(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function fail(message: string): never {
  process.stderr.write(`luasfu: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let command;
  try {
    command = parseCli(process.argv.slice(2), PACKAGE_DIR);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  if (command.kind === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (command.kind === 'version') {
    process.stdout.write(`luasfu ${version()}\n`);
    return;
  }
  if (command.kind === 'check') {
    process.stdout.write(`${JSON.stringify(redactSecrets(command.config), null, 2)}\n`);
    return;
  }
  const { config } = command;
  const logger = Logger.create({ level: config.log.level, format: config.log.format });
  let sfu;
  try {
    sfu = await startLuasfu({ config, logger });
  } catch (error) {
    // A port in use or a bad setting needs one line, not a stack.
    if (error instanceof ListenError || error instanceof MediaListenError || error instanceof ConfigError) fail(error.message);
    logger.fatal('luasfu could not start', { error: error as Error });
    fail(error instanceof Error ? error.message.split('\n')[0]! : String(error));
  }
  const summary = startupSummary(config, sfu.ports, sfu.mediaPlane.addresses?.() ?? []);
  logger.info('luasfu listening', { version: version(), ...summary, listenIp: config.listenIp, ...sfu.ports });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const force = setTimeout(() => {
      logger.error('shutdown took too long, exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    sfu.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: error as Error });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // SIGHUP, as operators expect of a daemon: read the TLS files again (renewed certificates) and
  // load every script again from its file. A bad pair or a failing script keeps the old one.
  process.on('SIGHUP', () => {
    if (stopping) return;
    try {
      if (sfu.server.reloadTls()) logger.info('TLS certificate and key reloaded', { certFile: config.tls?.certFile });
    } catch (error) {
      logger.error('TLS reload failed; still serving the previous certificate', { error: error as Error });
    }
    logger.info('reloading scripts', { signal: 'SIGHUP' });
    void sfu.reloadScripts().then((outcomes) => {
      for (const { name, script, error } of outcomes) {
        if (error) logger.error('script reload failed; the previous version keeps running', { plugin: name, script, error: error.message });
        else logger.info('script reloaded', { plugin: name, script });
      }
    });
  });
}

void main();
