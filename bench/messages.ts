// Message round-trip benchmark: how many Janus API `message` requests per second the whole
// stack answers (WebSocket -> core -> script worker -> Fengari -> back), with N concurrent
// sessions each waiting for its reply before sending the next one.
//
//   npm run bench:messages -- [--sessions 50] [--duration 10] [--warmup 1]
//                             [--script janus|ours|<path.lua>] [--url ws://host:port]
//                             [--plugin janus.plugin.echolua] [--body '{"audio":true}'] [--json]
//
// Without --url the benchmark starts luasfu as a child process (`node dist/src/cli.js`) on
// 127.0.0.1 with a free port and the chosen echotest script, and stops it at the end. With
// --url it drives an already running server (luasfu or Janus itself), so both can be compared
// with the same client. See bench/README.md for figures.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { processCpuSeconds } from './lib/proc';
import { freePort, sleep, waitUntilListening } from './lib/server';

interface Options {
  sessions: number;
  duration: number;
  warmup: number;
  script: string;
  url?: string;
  plugin: string;
  body: Record<string, unknown>;
  json: boolean;
  /** With --url: the server's pid, to report its CPU per reply too. */
  serverPid?: number;
}

const ROOT = resolve(__dirname, '..', '..');
const JANUS_ECHOTEST = join(ROOT, 'test', '.fixtures', 'janus', 'lua', 'echotest.lua');
const OUR_ECHOTEST = join(ROOT, 'lua', 'echotest.lua');

const USAGE = `Usage: node dist/bench/messages.js [options]
  --sessions <n>     concurrent sessions, one WebSocket each (default 50)
  --duration <s>     measured seconds (default 10)
  --warmup <s>       seconds run before measuring, not counted (default 1)
  --script <which>   janus (test/.fixtures/janus/lua/echotest.lua), ours (lua/echotest.lua)
                     or a path (default: janus if fetched, else ours)
  --url <ws-url>     benchmark a running server instead of starting luasfu
  --plugin <pkg>     plugin to attach to (default janus.plugin.echolua)
  --body <json>      message body (default {"audio":true})
  --server-pid <pid> with --url: report that process's CPU per reply (Linux /proc)
  --json             print the final summary as one JSON line too`;

function parseOptions(argv: string[]): Options {
  const options: Options = {
    sessions: 50,
    duration: 10,
    warmup: 1,
    script: existsSync(JANUS_ECHOTEST) ? 'janus' : 'ours',
    plugin: 'janus.plugin.echolua',
    body: { audio: true },
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const next = (): string => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${flag} needs a value`);
      return value;
    };
    const positive = (value: string, min: number): number => {
      const n = Number(value);
      if (!Number.isFinite(n) || n < min) throw new Error(`${flag} must be a number >= ${min}`);
      return n;
    };
    switch (flag) {
      case '--sessions': options.sessions = Math.floor(positive(next(), 1)); break;
      case '--duration': options.duration = positive(next(), 0.1); break;
      case '--warmup': options.warmup = positive(next(), 0); break;
      case '--script': options.script = next(); break;
      case '--url': options.url = next(); break;
      case '--plugin': options.plugin = next(); break;
      case '--body': options.body = JSON.parse(next()) as Record<string, unknown>; break;
      case '--json': options.json = true; break;
      case '--server-pid': options.serverPid = Math.floor(positive(next(), 1)); break;
      case '-h': case '--help': process.stdout.write(`${USAGE}\n`); process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default: throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return options;
}

function scriptPath(which: string): string {
  if (which === 'janus') {
    if (!existsSync(JANUS_ECHOTEST)) throw new Error(`${JANUS_ECHOTEST} is missing: run node scripts/test-setup.mjs`);
    return JANUS_ECHOTEST;
  }
  if (which === 'ours') return OUR_ECHOTEST;
  return resolve(which);
}

/** Starts luasfu with only the WebSocket listener; resolves once the port accepts. */
async function startLuasfu(script: string): Promise<{ url: string; child: ChildProcess; cleanup: () => void }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'luasfu-bench-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({
    scripts: [{ path: script, modulesPath: resolve(script, '..') }],
    listenIp: '127.0.0.1',
    websocket: { enabled: true, port },
    http: { enabled: false },
    adminHttp: { enabled: false },
    adminWebsocket: { enabled: false },
    // One connection carries one session here, well below this; keep it out of the way.
    maxRequestsPerSecond: 1_000_000,
    log: { level: 'warn', format: 'json' },
    media: { workers: 1, listenIp: '127.0.0.1' },
  }));
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'cli.js'), '--config', configPath], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const cleanup = () => {
    if (!exited) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  if (await waitUntilListening(port, () => exited)) return { url: `ws://127.0.0.1:${port}`, child, cleanup };
  cleanup();
  throw new Error(exited ? 'luasfu exited before listening' : 'luasfu did not listen within 30 s');
}

/** Percentile (0..100) of an ascending array. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

/** One client: its own WebSocket, Janus session and handle; sends, waits, repeats. */
class Client {
  private ws!: WebSocket;
  private sessionId = 0;
  private handleId = 0;
  private seq = 0;
  private pending = new Map<string, (reply: Record<string, unknown>) => void>();

  constructor(private readonly index: number) {}

  async open(url: string, plugin: string): Promise<void> {
    this.ws = new WebSocket(url, 'janus-protocol', { perMessageDeflate: false });
    this.ws.on('message', (data) => {
      const reply = JSON.parse(data.toString()) as Record<string, unknown>;
      const tr = reply.transaction;
      if (typeof tr !== 'string') return; // unsolicited event
      const resolveReply = this.pending.get(tr);
      if (resolveReply) {
        this.pending.delete(tr);
        resolveReply(reply);
      }
    });
    await new Promise<void>((ok, fail) => {
      this.ws.once('open', () => ok());
      this.ws.once('error', fail);
    });
    this.ws.on('error', () => this.failAll());
    this.ws.on('close', () => this.failAll());
    const created = await this.request({ janus: 'create' });
    this.sessionId = (created.data as { id: number }).id;
    const attached = await this.request({ janus: 'attach', session_id: this.sessionId, plugin });
    if (attached.janus !== 'success') throw new Error(`attach failed: ${JSON.stringify(attached)}`);
    this.handleId = (attached.data as { id: number }).id;
  }

  /** Resolve every outstanding request with an error (connection gone or run over). */
  failAll(): void {
    for (const resolveReply of this.pending.values()) resolveReply({ janus: 'error', error: { reason: 'connection lost' } });
    this.pending.clear();
  }

  request(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    const transaction = `${this.index}-${this.seq++}`;
    return new Promise((resolveReply) => {
      if (this.ws.readyState !== WebSocket.OPEN) {
        resolveReply({ janus: 'error', error: { reason: 'connection closed' } });
        return;
      }
      this.pending.set(transaction, resolveReply);
      this.ws.send(JSON.stringify({ ...message, transaction }));
    });
  }

  message(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.request({ janus: 'message', session_id: this.sessionId, handle_id: this.handleId, body });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) {
      await Promise.race([this.request({ janus: 'destroy', session_id: this.sessionId }), sleep(2000)]);
      this.ws.close();
    }
  }
}

interface Stats {
  count: number;
  errors: number;
  latencies: number[];
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  let server: Awaited<ReturnType<typeof startLuasfu>> | undefined;
  let url = options.url;
  let target = url ?? '';
  if (!url) {
    const script = scriptPath(options.script);
    server = await startLuasfu(script);
    url = server.url;
    target = `luasfu (${script})`;
  }
  try {
    const clients = Array.from({ length: options.sessions }, (_, i) => new Client(i));
    await Promise.all(clients.map((c) => c.open(url!, options.plugin)));
    process.stdout.write(`${options.sessions} sessions attached to ${options.plugin} on ${target}\n`);

    const stats: Stats = { count: 0, errors: 0, latencies: [] };
    let firstError: unknown;
    let measuring = false;
    const start = performance.now();
    const measureFrom = start + options.warmup * 1000;
    const end = measureFrom + options.duration * 1000;

    const loop = async (client: Client) => {
      while (performance.now() < end) {
        const sent = performance.now();
        const reply = await client.message(options.body);
        const now = performance.now();
        if (!measuring) continue;
        if (reply.janus === 'success') {
          stats.count++;
          stats.latencies.push(now - sent);
        } else {
          stats.errors++;
          firstError ??= reply;
        }
      }
    };

    // Progress once a second while measuring.
    let lastCount = 0;
    let seconds = 0;
    let progress: NodeJS.Timeout | undefined;
    // CPU used while measuring: the server (our child, or --server-pid) and this client process.
    const serverPid = server?.child.pid ?? options.serverPid;
    let serverCpuStart: number | undefined;
    let clientCpuStart = process.cpuUsage();
    const warmupTimer = setTimeout(() => {
      measuring = true;
      serverCpuStart = serverPid ? processCpuSeconds(serverPid) : undefined;
      clientCpuStart = process.cpuUsage();
      progress = setInterval(() => {
        seconds++;
        process.stdout.write(`  ${String(seconds).padStart(3)} s: ${stats.count - lastCount} msgs/s (total ${stats.count}, errors ${stats.errors})\n`);
        lastCount = stats.count;
      }, 1000);
    }, Math.max(0, measureFrom - performance.now()));
    // A reply that never comes must not hang the run: give up 5 s after the end.
    const watchdog = setTimeout(() => clients.forEach((c) => c.failAll()), end - performance.now() + 5000);
    await Promise.all(clients.map(loop));
    clearTimeout(watchdog);
    clearInterval(progress);
    clearTimeout(warmupTimer);
    const elapsed = (performance.now() - measureFrom) / 1000;
    const serverCpuEnd = serverPid ? processCpuSeconds(serverPid) : undefined;
    const clientCpu = process.cpuUsage(clientCpuStart);
    const serverCpu = serverCpuStart !== undefined && serverCpuEnd !== undefined ? serverCpuEnd - serverCpuStart : undefined;

    const sorted = Float64Array.from(stats.latencies).sort();
    const summary = {
      target,
      sessions: options.sessions,
      seconds: Number(elapsed.toFixed(2)),
      messages: stats.count,
      errors: stats.errors,
      msgsPerSecond: Math.round(stats.count / elapsed),
      p50Ms: Number(percentile(sorted, 50).toFixed(2)),
      p95Ms: Number(percentile(sorted, 95).toFixed(2)),
      p99Ms: Number(percentile(sorted, 99).toFixed(2)),
      maxMs: Number((sorted.length ? sorted[sorted.length - 1] : NaN).toFixed(2)),
      // Server CPU per reply (all its threads; null with --url): independent of how busy the
      // machine is, unlike msgs/s. Client CPU likewise, for this process.
      serverCpuUsPerMsg: serverCpu !== undefined && stats.count > 0 ? Math.round((serverCpu * 1e6) / stats.count) : null,
      clientCpuUsPerMsg: stats.count > 0 ? Math.round((clientCpu.user + clientCpu.system) / stats.count) : null,
      load: Number(loadavg()[0].toFixed(2)),
    };
    process.stdout.write(
      `\n${summary.messages} replies in ${summary.seconds} s: ${summary.msgsPerSecond} msgs/s, ` +
        `latency p50 ${summary.p50Ms} ms, p95 ${summary.p95Ms} ms, p99 ${summary.p99Ms} ms, max ${summary.maxMs} ms, ` +
        `errors ${summary.errors}\n` +
        `CPU per reply: server ${summary.serverCpuUsPerMsg ?? '?'} us, client ${summary.clientCpuUsPerMsg} us; ` +
        `load average ${summary.load} on ${availableParallelism()} cores\n`,
    );
    if (firstError) process.stdout.write(`first error: ${JSON.stringify(firstError)}\n`);
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    await Promise.all(clients.map((c) => c.close()));
    if (stats.count === 0) process.exitCode = 1;
  } finally {
    server?.cleanup();
  }
}

main().then(() => process.exit(process.exitCode ?? 0), (error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
