// Runs the built luasfu-bench command (dist/bench/cli.js) as a child process, bounded in time.

import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { JsonObject } from '../../src/plugin/json';

const CLI = resolve(__dirname, '..', '..', 'bench', 'cli.js');

export interface BenchRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** stdout parsed, with --json. */
  json(): JsonObject;
}

/** luasfu-bench `args`; killed after `timeoutMs`; `onStart` gets the child (to send it signals). */
export function runBench(args: string[], timeoutMs: number, onStart?: (pid: number) => void): Promise<BenchRun> {
  return new Promise((resolveRun) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    onStart?.(child.pid!);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // Let the pipes drain.
      setImmediate(() => resolveRun({
        code, signal, stdout, stderr, ms: Date.now() - started,
        json: () => JSON.parse(stdout) as JsonObject,
      }));
    });
  });
}
