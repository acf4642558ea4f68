#!/usr/bin/env node
// luasfu-bench: load-tests a Janus-API server (luasfu or Janus). See bench/README.md.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchFailure, Interrupted, UsageError, oneLine } from './lib/errors';
import { writeReport } from './lib/html-report';
import { type BenchOptions, USAGE, parseOptions } from './lib/options';
import { type Scenario, runScenario } from './lib/run';
import { summaryText } from './lib/summary';
import { ApiScenario } from './scenarios/api';
import { ChurnScenario } from './scenarios/churn';
import { EchoScenario } from './scenarios/echo';
import { VideoRoomScenario } from './scenarios/videoroom';

const PACKAGE_DIR = join(__dirname, '..', '..');

function version(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }).version;
}

function scenarioFor(options: BenchOptions): Scenario {
  switch (options.scenario) {
    case 'api':
      return new ApiScenario();
    case 'echo':
      return new EchoScenario();
    case 'videoroom':
      return new VideoRoomScenario();
    case 'churn':
      return new ChurnScenario();
  }
}

/** Leaves with `code` once stdout and stderr are flushed (libwebrtc threads would keep the process up). */
function exit(code: number): never {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  // Unreachable in practice; keeps the type `never` honest if a write callback never fires.
  setTimeout(() => process.exit(code), 2000).unref();
  return undefined as never;
}

async function main(): Promise<number> {
  let options: BenchOptions | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`luasfu-bench: ${error.message}\n(luasfu-bench --help for usage)\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const result = await runScenario(options, scenarioFor(options), version());
    const text = summaryText(result);
    if (options.json) {
      process.stderr.write(text);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write(text);
    }
    if (options.report) writeReport(options.report, result);
    if (result.interrupted) return 130;
    if (!result.ok) {
      process.stderr.write(`luasfu-bench: ${String(result.failure)}\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof Interrupted) {
      process.stderr.write('luasfu-bench: interrupted before anything was measured\n');
      return 130;
    }
    process.stderr.write(`luasfu-bench: ${error instanceof BenchFailure ? error.message : oneLine(error)}\n`);
    return 1;
  }
}

main().then(exit, (error: unknown) => {
  process.stderr.write(`luasfu-bench: ${oneLine(error)}\n`);
  exit(1);
});
