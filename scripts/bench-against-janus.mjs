// luasfu against Janus on one machine, as the README's Benchmarks section measures it: starts
// this checkout's luasfu (as `luasfu` runs it, one worker, Janus's own echotest.lua unmodified
// and lua/videoroom.lua) and Debian's Janus (the same echotest.lua through its Lua plugin, its
// C VideoRoom) side by side on free 127.0.0.1 ports, warms both, then runs luasfu-bench against
// each in turn, run by run, for --rounds rounds, and prints each figure per round with the
// ratio luasfu / Janus and the ratio of the sums. Every run's --json document is kept in --out.
// The echo figures run on a second pair of servers that POST their jsep and webrtc events
// (luasfu's eventHandlers.http, Janus's sample event handler) to a free port the echo runs
// listen on (--events-port), so they also come on each server's own clock, warmed with three
// 10-peer echo runs besides the joins; the other figures run on a pair without event handlers.
// By hand only (Janus is not a dependency of luasfu; tests never run this):
//
//   apt-get install janus lua-json lua-ansicolors     # once, for the comparison
//   npm run build && node scripts/bench-against-janus.mjs [--rounds 3] [--only api,join4,...]
//       [--out DIR] [--warmup-joins 3000] [--echotest janus|ours] [--pin]
//
// --pin: the servers (and their media processes) run on the first half of the CPUs and the
// bench on the other half (taskset), so the load generator cannot take the server's CPU time.
//
// --echotest ours: luasfu runs lua/echotest.lua (same protocol, no per-message logging or
// JSON re-encoding) instead of Janus's script.
//
// Figures (--only picks some): api, join4, join1, echo640, echo320, echo4, echo1, videoroom.

import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');
const BENCH = path.join(ROOT, 'dist', 'bench', 'cli.js');
const JANUS_LIB = '/usr/lib/x86_64-linux-gnu/janus';
const JANUS_LUA = '/usr/share/janus/lua';
/** Longest a single bench run may take before the comparison gives up. */
const RUN_TIMEOUT_MS = 5 * 60 * 1000;
/** 10-peer echo runs that warm the servers the echo figures run on. */
const ECHO_WARMUPS = 3;
/** Longest a server may take to answer /janus/info after its start. */
const START_TIMEOUT_MS = 60 * 1000;

/**
 * An echo figure with `sessions` peers joining at once, at one frame size: media CPU, and
 * offer → webrtcup as the client and as the server (its events) saw it.
 */
function peerEcho(sessions, width, height, duration) {
  const size = `${width}x${height}`;
  return {
    args: ['echo', '--sessions', String(sessions), '--width', String(width), '--height', String(height), '--fps', '15', '--duration', String(duration)],
    events: true,
    read: [[`echo ${size}, ${sessions} peers: server CPU ms per 1,000 relayed`, (d) => d.serverCpuMsPer1kPackets, 1],
      [`echo ${size}, ${sessions} peers: offer → webrtcup p50 ms`, (d) => d.offerToWebrtcupMs?.p50, 0, true],
      [`echo ${size}, ${sessions} peers, server clock: offer → answer event p50 ms`, (d) => d.serverJoinPhasesMs?.answer?.p50, 1, true],
      [`echo ${size}, ${sessions} peers, server clock: offer → webrtcup p50 ms`, (d) => d.serverJoinPhasesMs?.total?.p50, 0, true],
      [`echo ${size}, ${sessions} peers: answer and webrtcup waiting for the client p50 ms`, (d) => waitedForClient(d), 0, true],
      [`echo ${size}, ${sessions} peers: client event loop busy while joining`, (d) => d.clientDuringJoins?.eventLoopUtilization, 2],
      [`echo ${size}, ${sessions} peers: server CPU ms while joining`, (d) => d.cpuDuringJoins?.serverCpuMs, 1],
      [`echo ${size}, ${sessions} peers: bench CPU ms while joining`, (d) => d.cpuDuringJoins?.clientCpuMs, 1]],
  };
}

/**
 * How long the answer and webrtcup took from the server's event to the bench's handler (p50s
 * summed): on one machine that is the time they waited for the bench's busy event loop.
 */
function waitedForClient(doc) {
  const c = doc.crossingsMs;
  return c?.answerOut ? c.answerOut.p50 + c.webrtcupOut.p50 : undefined;
}

/** A figure: the bench arguments of its run and what to read from its --json document. */
const FIGURES = {
  api: {
    args: ['api', '--sessions', '50', '--messages', '1000'],
    read: [['API: server CPU µs per message', (d) => d.serverCpuUsPerMsg, 1], ['API: p99 ms', (d) => d.latencyMs?.p99, 1]],
  },
  join4: {
    args: ['churn', '--connect', '--sessions', '4', '--cycles', '2000', '--warmup', '3', '--duration', '120'],
    read: [['joins/s, 4 loops', (d) => d.cyclesPerSec, 0], ['offer → webrtcup p50 ms, 4 loops', (d) => d.offerToWebrtcupMs?.p50, 1],
      ['server CPU ms per join, 4 loops', (d) => d.serverCpuMsPerCycle, 2]],
  },
  join1: {
    args: ['churn', '--connect', '--sessions', '1', '--cycles', '400', '--warmup', '2', '--duration', '120'],
    read: [['joins/s, 1 loop', (d) => d.cyclesPerSec, 0], ['offer → webrtcup p50 ms, 1 loop', (d) => d.offerToWebrtcupMs?.p50, 1]],
  },
  echo640: peerEcho(10, 640, 480, 10),
  echo320: peerEcho(10, 320, 240, 6),
  // The bench's own default echo run: 4 sessions at 320x240.
  echo4: peerEcho(4, 320, 240, 6),
  echo1: {
    args: ['echo', '--sessions', '1', '--width', '320', '--height', '240', '--fps', '15', '--duration', '2'],
    events: true,
    read: [['echo, 1 peer: offer → webrtcup p50 ms', (d) => d.offerToWebrtcupMs?.p50, 1, true],
      ['echo, 1 peer, server clock: offer → webrtcup p50 ms', (d) => d.serverJoinPhasesMs?.total?.p50, 1, true],
      ['echo, 1 peer: answer and webrtcup waiting for the client p50 ms', (d) => waitedForClient(d), 1, true]],
  },
  videoroom: {
    args: ['videoroom', '--publishers', '1', '--subscribers', '20', '--duration', '10'],
    read: [['fan-out 1×20: server CPU ms per 1,000 delivered', (d) => d.serverCpuMsPer1kPackets, 1],
      ['fan-out: join → first frame p50 ms', (d) => d.firstFrameMs?.p50, 0]],
  },
};

function say(message) {
  process.stdout.write(`[against-janus ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function fail(message) {
  process.stderr.write(`[against-janus] ${message}\n`);
  process.exit(1);
}

function options() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      only: { type: 'string' },
      out: { type: 'string' },
      'warmup-joins': { type: 'string', default: '3000' },
      echotest: { type: 'string', default: 'janus' },
      pin: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n\n')[0].replace(/^\/\/ ?/gm, '') + '\n');
    process.exit(0);
  }
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) fail('--rounds: a whole number from 1 to 50');
  const warmupJoins = Number(values['warmup-joins']);
  if (!Number.isInteger(warmupJoins) || warmupJoins < 0 || warmupJoins > 100000) fail('--warmup-joins: a whole number from 0 to 100000');
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(FIGURES);
  const unknown = only.filter((name) => !(name in FIGURES));
  if (unknown.length) fail(`--only: unknown ${unknown.join(', ')} (known: ${Object.keys(FIGURES).join(', ')})`);
  if (!['janus', 'ours'].includes(values.echotest)) fail('--echotest: janus or ours');
  const echotest = values.echotest === 'janus' ? `${JANUS_LUA}/echotest.lua` : 'lua/echotest.lua';
  const out = values.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'luasfu-vs-janus-'));
  fs.mkdirSync(out, { recursive: true });
  if (values.pin) {
    const cpus = os.availableParallelism();
    if (cpus < 2) fail('--pin needs at least 2 CPUs');
    if (spawnSync('taskset', ['-V'], { stdio: 'ignore' }).error) fail('--pin needs taskset (util-linux)');
    const half = Math.floor(cpus / 2);
    pinning = { servers: `0-${half - 1}`, bench: `${half}-${cpus - 1}` };
  }
  return { rounds, only, out, warmupJoins, echotest };
}

/** --pin: the CPU lists of the servers and of the bench (taskset -c). */
let pinning;

/** `command args` as spawned, on `cpus` when pinning. */
function pinned(cpus, command, args) {
  return cpus === undefined ? [command, args] : ['taskset', ['-c', cpus, command, ...args]];
}

/** A TCP (or UDP) port on 127.0.0.1 that was free a moment ago. */
function freePort(udp = false) {
  return new Promise((resolve, reject) => {
    if (udp) {
      const socket = dgram.createSocket('udp4');
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        const { port } = socket.address();
        socket.close(() => resolve(port));
      });
      return;
    }
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Janus's configuration for the comparison, in a directory of its own. */
function writeJanusConfig(dir, ports, eventsUrl) {
  const plugins = fs.readdirSync(path.join(JANUS_LIB, 'plugins')).filter((f) => f.endsWith('.so'));
  const disabled = plugins.filter((f) => !/echotest|lua|videoroom/.test(f)).join(',');
  const handlers = fs.readdirSync(path.join(JANUS_LIB, 'events')).filter((f) => f.endsWith('.so') && !f.includes('sampleevh')).join(',');
  const files = {
    'janus.jcfg': `general: { configs_folder = "${dir}" plugins_folder = "${JANUS_LIB}/plugins" transports_folder = "${JANUS_LIB}/transports"
  events_folder = "${JANUS_LIB}/events" loggers_folder = "${JANUS_LIB}/loggers" debug_level = 3 admin_secret = "janusoverlord" }
nat: { ice_enforce_list = "lo" }
plugins: { disable = "${disabled}" }
transports: { disable = "libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so" }
events: { broadcast = ${eventsUrl ? 'true' : 'false'} disable = "${handlers}" }
`,
    'janus.eventhandler.sampleevh.jcfg': eventsUrl
      ? `general: { enabled = true events = "jsep,webrtc" grouping = true json = "compact" backend = "${eventsUrl}" }\n`
      : 'general: { enabled = false }\n',
    'janus.transport.websockets.jcfg': `general: { ws = true ws_port = ${ports.ws} ws_ip = "127.0.0.1" }\n`,
    'janus.transport.http.jcfg': `general: { http = true port = ${ports.http} ip = "127.0.0.1" base_path = "/janus" }\nadmin: { admin_http = false }\n`,
    'janus.plugin.lua.jcfg': `general: { path = "${JANUS_LUA}" script = "${JANUS_LUA}/echotest.lua" }\n`,
    'janus.plugin.echotest.jcfg': '',
    'janus.plugin.videoroom.jcfg': '',
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
}

/** Starts a server process in its own process group; its output goes to `log`. */
function startServer(name, command, args, log) {
  const out = fs.openSync(log, 'w');
  // taskset execs the server: the pid is the server's.
  const child = spawn(...pinned(pinning?.servers, command, args), { cwd: ROOT, stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  child.on('exit', (code, signal) => {
    if (!stopping) fail(`${name} exited (${signal ?? code}) during the comparison; see ${log}`);
  });
  return child;
}

/** Whether the server answers its /janus/info within 5 s. */
async function answers(url) {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(5000) })).ok;
  } catch {
    return false;
  }
}

async function waitForInfo(name, url) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await answers(url)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  fail(`${name} did not answer ${url} within ${START_TIMEOUT_MS / 1000} s`);
}

/** One luasfu-bench run; resolves with its --json document (null when the run failed). */
function bench(args) {
  return new Promise((resolve) => {
    const child = spawn(...pinned(pinning?.bench, process.execPath, [BENCH, ...args, '--json']), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGINT'), RUN_TIMEOUT_MS);
    child.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(stdout));
      } catch {
        say(`run failed: luasfu-bench ${args.join(' ')}: ${stderr.trim().split('\n').pop() ?? ''}`);
        resolve(null);
      }
    });
  });
}

/**
 * The figure's value with its marks: * client-bound run, † a join latency measured while the
 * bench's event loop had no slack (echo: joinsClientBound), (eN) N errors.
 */
function cell(doc, read, digits, joinLatency) {
  if (!doc) return { value: null, text: 'failed' };
  const value = Number(read(doc));
  if (!Number.isFinite(value)) return { value: null, text: 'n/a' };
  const marks = `${doc.client?.bottleneck ? '*' : ''}${joinLatency && doc.joinsClientBound ? '†' : ''}${doc.errors?.total ? ` (e${doc.errors.total})` : ''}`;
  return { value, text: `${value.toFixed(digits)}${marks}` };
}

/**
 * The table: one row per figure, the rounds of each server, the per-round ratio and the ratio
 * of the sums (rounds where either run failed are left out of the sums).
 */
function table(results, only) {
  const lines = ['| figure | luasfu | Janus 1.1.2 | luasfu / Janus per round; on the sums |', '|---|---|---|---|'];
  for (const name of only) {
    for (const [label, read, digits, joinLatency = false] of FIGURES[name].read) {
      const pairs = results.map((round) => [cell(round[name]?.luasfu, read, digits, joinLatency), cell(round[name]?.janus, read, digits, joinLatency)]);
      const both = pairs.filter(([a, j]) => a.value !== null && j.value !== null && j.value !== 0);
      const sumA = both.reduce((s, [a]) => s + a.value, 0);
      const sumJ = both.reduce((s, [, j]) => s + j.value, 0);
      const ratios = pairs.map(([a, j]) => (a.value !== null && j.value ? (a.value / j.value).toFixed(2) : '-'));
      lines.push(`| ${label} | ${pairs.map(([a]) => a.text).join(' / ')} | ${pairs.map(([, j]) => j.text).join(' / ')} | ${ratios.join(' / ')}; **${sumJ ? (sumA / sumJ).toFixed(2) : '-'}** |`);
    }
  }
  return lines.join('\n');
}

let stopping = false;
const children = [];
/** Signals each server's process group (luasfu's mediasoup workers are in it). */
function signalAll(signal) {
  stopping = true;
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  }
}
/** SIGTERM, and SIGKILL for a server still there after 5 s (a wedged Janus ignores SIGTERM). */
async function stopAll() {
  signalAll('SIGTERM');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && children.some((c) => c.exitCode === null && c.signalCode === null)) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  signalAll('SIGKILL');
}
process.on('exit', () => signalAll('SIGKILL'));
process.on('SIGINT', () => { void stopAll().then(() => process.exit(130)); });

/**
 * Starts luasfu and Janus side by side on fresh free ports (config and logs in `dir`), waits
 * for both, and warms both the same way (joins, then `echoWarmups` 10-peer echo runs). With
 * `eventsPort`, both POST their jsep and webrtc events there (luasfu's eventHandlers.http,
 * Janus's sample event handler).
 */
async function startPair(dir, { echotest, warmupJoins, eventsPort, echoWarmups = 0 }) {
  fs.mkdirSync(dir, { recursive: true });
  const [lWs, lHttp, lAdmin, lRtc, jWs, jHttp] = [await freePort(), await freePort(), await freePort(), await freePort(true), await freePort(), await freePort()];
  const eventsUrl = eventsPort === undefined ? undefined : `http://127.0.0.1:${eventsPort}/`;
  const janusDir = path.join(dir, 'janus-config');
  fs.mkdirSync(janusDir, { recursive: true });
  writeJanusConfig(janusDir, { ws: jWs, http: jHttp }, eventsUrl);
  const luasfuConfig = path.join(dir, 'luasfu.json');
  fs.writeFileSync(luasfuConfig, JSON.stringify({
    // The bench's 50 API sessions share one address: the flood guard would close them.
    maxRequestsPerSecond: 1000000,
    ...(eventsUrl ? { eventHandlers: { enabled: true, http: { url: eventsUrl, events: ['jsep', 'webrtc'], flushMs: 50 } } } : {}),
  }));
  stopping = false;
  const luasfu = startServer('luasfu', CLI, ['--config', luasfuConfig, '--script', echotest, '--script', 'lua/videoroom.lua',
    '--listen-ip', '127.0.0.1', '--workers', '1', '--log-level', 'warn', '--ws-port', String(lWs), '--http-port', String(lHttp),
    '--admin-http-port', String(lAdmin), '--rtc-port', String(lRtc), '--metrics-port', 'off'], path.join(dir, 'luasfu.log'));
  const janus = startServer('janus', 'janus', ['-F', janusDir], path.join(dir, 'janus.log'));
  children.push(luasfu, janus);
  const targets = [
    { key: 'luasfu', url: `ws://127.0.0.1:${lWs}`, pid: luasfu.pid, info: `http://127.0.0.1:${lHttp}/janus/info`, log: path.join(dir, 'luasfu.log') },
    { key: 'janus', url: `ws://127.0.0.1:${jWs}`, pid: janus.pid, info: `http://127.0.0.1:${jHttp}/janus/info`, log: path.join(dir, 'janus.log') },
  ];
  for (const target of targets) await waitForInfo(target.key, target.info);
  say(`luasfu pid ${luasfu.pid} on ws ${lWs}, Janus pid ${janus.pid} on ws ${jWs}${eventsUrl ? `, events to ${eventsUrl}` : ''}${pinning ? `; servers on CPUs ${pinning.servers}, bench on ${pinning.bench}` : ''}; logs in ${dir}`);

  // A JIT-compiled server's first few thousand joins cost up to 1.8x: warm both the same way.
  for (const target of targets) {
    say(`warming ${target.key}`);
    await bench(['api', '--url', target.url, '--sessions', '20', '--messages', '300']);
    if (warmupJoins > 0) {
      await bench(['churn', '--url', target.url, '--sessions', '4', '--cycles', String(warmupJoins), '--duration', '300']);
      await bench(['churn', '--url', target.url, '--connect', '--sessions', '4', '--cycles', String(warmupJoins), '--duration', '300']);
    }
    // The echo flow with libwebrtc peers takes paths the churn does not (trickle, media, the
    // event handlers' documents): luasfu's first such run deoptimised 42 functions and cost its
    // server 2x the CPU of the runs after it.
    for (let i = 0; i < echoWarmups; i++) await bench(['echo', '--url', target.url, '--sessions', '10', '--duration', '1', '--warmup', '0']);
  }
  return targets;
}

/**
 * Takes the servers' event POSTs on `port` whenever no echo run does (warm-up, the runs
 * between): refused, luasfu would queue thousands of warm-up events and deliver them into
 * the first measured run, loading both itself and the bench that parses them.
 */
class EventSink {
  constructor(port) {
    this.port = port;
    this.server = undefined;
  }

  async open() {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end());
    });
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  async close() {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** Every round of `names` against `targets`, each run's document kept in `out`; fills `results[round][name]`. */
async function runRounds(names, targets, { rounds, out, eventsPort, sink }, results) {
  for (let round = 1; round <= rounds; round++) {
    const docs = (results[round - 1] ??= {});
    for (const name of names) {
      docs[name] = {};
      for (const target of targets) {
        // The run's own collector takes the port; the sink has it again between runs.
        if (FIGURES[name].events) await sink.close();
        const doc = await bench([...FIGURES[name].args, '--url', target.url, '--server-pid', String(target.pid),
          ...(FIGURES[name].events ? ['--events-port', String(eventsPort)] : [])]);
        if (FIGURES[name].events) await sink.open();
        docs[name][target.key] = doc;
        // A server that stopped answering would fail every run after it: stop here instead.
        if ((!doc || doc.ok === false) && !(await answers(target.info))) {
          fail(`${target.key} no longer answers ${target.info} after ${name} in round ${round}; its log: ${target.log}`);
        }
        if (doc) fs.writeFileSync(path.join(out, `${name}-${round}-${target.key}.json`), JSON.stringify(doc, null, 2));
      }
      say(`round ${round}/${rounds}: ${name} done (load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`);
    }
  }
}

async function main() {
  const { rounds, only, out, warmupJoins, echotest } = options();
  if (!fs.existsSync(CLI) || !fs.existsSync(BENCH)) fail('dist/ is missing: run npm run build first');
  // `janus --version` prints its version and exits 1.
  if (spawnSync('janus', ['--version'], { stdio: 'ignore' }).error || !fs.existsSync(`${JANUS_LUA}/echotest.lua`)) {
    fail('Janus is not installed; for the comparison: apt-get install janus lua-json lua-ansicolors');
  }
  // Two pairs of servers, one after the other: without event handlers for the figures that do
  // not need them, then with them (both servers POSTing to the echo runs' --events-port).
  const results = [];
  const plain = only.filter((name) => !FIGURES[name].events);
  const withEvents = only.filter((name) => FIGURES[name].events);
  if (plain.length > 0) {
    const targets = await startPair(path.join(out, 'servers'), { echotest, warmupJoins });
    await runRounds(plain, targets, { rounds, out }, results);
    await stopAll();
  }
  if (withEvents.length > 0) {
    const eventsPort = await freePort();
    const sink = new EventSink(eventsPort);
    await sink.open();
    const targets = await startPair(path.join(out, 'servers-with-events'), { echotest, warmupJoins, eventsPort, echoWarmups: ECHO_WARMUPS });
    await runRounds(withEvents, targets, { rounds, out, eventsPort, sink }, results);
    await sink.close();
    await stopAll();
  }
  process.stdout.write(`\n${table(results, only)}\n\n* client-bound run, † join latency with the bench's event loop saturated while joining, (eN) N errors; runs in ${out}\n`);
}

main().catch((error) => fail(error instanceof Error ? error.message : String(error)));
