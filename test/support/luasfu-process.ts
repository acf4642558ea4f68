// luasfu as a child process (`node dist/src/cli.js --config <tmp>`), every listener on
// 127.0.0.1 on a free port, for tests that need its pid (CPU and memory from /proc, as
// luasfu-bench --server-pid reads them) or a server that can be stopped underneath a client.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { JsonObject } from '../../src/plugin/json';

const ROOT = resolve(__dirname, '..', '..', '..');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (closed again before use). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); done(true); });
    socket.once('error', () => done(false));
  });
}

export interface LuasfuProcess {
  pid: number;
  urls: { ws: string; http: string; adminHttp: string };
  adminSecret: string;
  /** The server's stderr so far (warnings and errors, JSON lines). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts luasfu with `scripts` ({path, modulesPath?}), `workers` mediasoup workers and `extra`
 * config fields (e.g. apiSecret); resolves once every port accepts.
 */
export async function startLuasfuProcess(scripts: JsonObject[], workers = 1, extra: JsonObject = {}): Promise<LuasfuProcess> {
  const ports = { ws: await freePort(), http: await freePort(), adminHttp: await freePort() };
  const dir = mkdtempSync(join(tmpdir(), 'luasfu-test-'));
  const configPath = join(dir, 'config.json');
  const adminSecret = 'benchoverlord';
  writeFileSync(configPath, JSON.stringify({
    scripts,
    listenIp: '127.0.0.1',
    websocket: { enabled: true, port: ports.ws },
    http: { enabled: true, port: ports.http },
    adminHttp: { enabled: true, port: ports.adminHttp },
    adminWebsocket: { enabled: false },
    adminSecret,
    log: { level: 'warn', format: 'json' },
    media: { workers, listenIp: '127.0.0.1' },
    // A free port for the ops listener too: several of these servers run at once.
    metrics: { port: 0 },
    // A load test drives one connection faster than the production flood limit (2000/s) on a
    // quiet machine; the server would close it as a flooder mid-run.
    maxRequestsPerSecond: 1_000_000,
    ...extra,
  }));
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'cli.js'), '--config', configPath], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-20_000); });
  let exited = false;
  const exit = new Promise<void>((done) => child.once('exit', () => { exited = true; done(); }));
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      await Promise.race([exit, sleep(10_000)]);
      if (!exited) child.kill('SIGKILL');
      await Promise.race([exit, sleep(2000)]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 300 && !exited; i++) {
    if ((await canConnect(ports.ws)) && (await canConnect(ports.http)) && (await canConnect(ports.adminHttp))) {
      return {
        pid: child.pid!,
        urls: { ws: `ws://127.0.0.1:${ports.ws}`, http: `http://127.0.0.1:${ports.http}/janus`, adminHttp: `http://127.0.0.1:${ports.adminHttp}/admin` },
        adminSecret,
        log: () => stderr,
        stop,
      };
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`luasfu did not start: ${stderr.slice(-2000)}`);
}
