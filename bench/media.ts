// Media benchmark: N concurrent echo sessions (video + audio from libwebrtc peers in this
// process) through luasfu's echotest.lua, for a fixed time. luasfu runs as a child process
// (`node dist/src/cli.js`, every listener on 127.0.0.1), so its own CPU and memory (the Node
// process and its mediasoup worker children) can be read from /proc.
//
//   npm run bench:media -- [--sessions 4] [--seconds 20] [--warmup 3] [--width 640 --height 480]
//                          [--workers 2] [--json]
//   npm run bench:media -- --churn 5000 [--lanes 4] [--workers 2]
//
// Reports:
//   - server CPU ms per 1,000 RTP packets relayed. "Relayed" = RTP packets the peers received
//     back from the server (inbound-rtp packetsReceived, summed over peers and kinds, in the
//     measured window): every one of them crossed the server (in, routed, out). The packets
//     the peers sent (outbound-rtp packetsSent) are printed beside it: in an echo the two
//     should match to within loss.
//   - server RSS (node + mediasoup workers), at the end and the peak seen;
//   - per session: video frames and audio chunks received (in the window), decoded size;
//   - offer -> webrtcup: from sending the `message` with the offer to the `webrtcup` event
//     arriving (p50/max over sessions); offer -> answer likewise.
// --churn N runs N attach -> offer -> answer -> detach cycles instead (no ICE; one recorded
// offer with audio, video and data; every 10th cycle detaches without waiting for the
// answer), printing the server's memory and the workers' open file descriptors each 1,000
// cycles, so a leak shows as a trend.
//
// Everything binds 127.0.0.1; every wait is bounded; the run stops by itself (a hard deadline
// kills the server and exits). Linux only (/proc).

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { JsonObject } from '../src/plugin/json';
import { JanusWsClient, createAndAttach } from '../test/support/janus-ws-client';
import { CLOCK_TICKS_PER_SECOND, readStat } from './lib/proc';
import { freePort, sleep, waitUntilListening } from './lib/server';
import { NodePeer } from '../test/support/wrtc-peer';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const ECHOTEST = join(ROOT, 'lua', 'echotest.lua');
const PLUGIN = 'janus.plugin.echolua';

interface Options {
  sessions: number;
  seconds: number;
  warmup: number;
  width: number;
  height: number;
  workers: number;
  churn: number;
  lanes: number;
  json: boolean;
  url?: string;
  serverPid?: number;
  plugin: string;
}

const USAGE = `Usage: node dist/bench/media.js [options]
  --sessions <n>   concurrent echo sessions, video + audio each (default 4)
  --seconds <s>    measured seconds (default 20)
  --warmup <s>     seconds after the last session is up, not measured (default 3)
  --width <px>     generated video width (default 640)
  --height <px>    generated video height (default 480)
  --workers <n>    mediasoup workers in the server (default 2)
  --churn <n>      instead: n attach/negotiate/detach cycles, memory every 1,000
  --lanes <n>      concurrent connections for --churn (default 4)
  --url <ws-url>   drive a running Janus-API server instead of starting luasfu
                   (e.g. Janus itself, for a comparison on the same machine)
  --server-pid <p> with --url: the server process, for its CPU and RSS (children included)
  --plugin <pkg>   plugin to attach to (default janus.plugin.echolua; Janus's C echo test
                   is janus.plugin.echotest)
  --json           print the summary as one JSON line too`;

function parseOptions(argv: string[]): Options {
  const options: Options = {
    sessions: 4, seconds: 20, warmup: 3, width: 640, height: 480, workers: 2, churn: 0, lanes: 4, json: false, plugin: PLUGIN,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const number = (min: number, max: number): number => {
      const value = Number(argv[++i]);
      if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${flag} must be a number from ${min} to ${max}`);
      return value;
    };
    switch (flag) {
      case '--sessions': options.sessions = Math.floor(number(1, 200)); break;
      case '--seconds': options.seconds = number(1, 3600); break;
      case '--warmup': options.warmup = number(0, 600); break;
      case '--width': options.width = Math.floor(number(16, 3840) / 2) * 2; break;
      case '--height': options.height = Math.floor(number(16, 2160) / 2) * 2; break;
      case '--workers': options.workers = Math.floor(number(1, 64)); break;
      case '--churn': options.churn = Math.floor(number(1, 10_000_000)); break;
      case '--lanes': options.lanes = Math.floor(number(1, 64)); break;
      case '--json': options.json = true; break;
      case '--url': options.url = argv[++i]; break;
      case '--server-pid': options.serverPid = Math.floor(number(1, 4_194_304)); break;
      case '--plugin': options.plugin = argv[++i] ?? PLUGIN; break;
      case '-h': case '--help': process.stdout.write(`${USAGE}\n`); process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default: throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  if (options.serverPid !== undefined && !options.url) throw new Error('--server-pid needs --url');
  if (options.url && !/^ws:\/\/127\.0\.0\.1[:/]/.test(options.url)) throw new Error('--url must be ws://127.0.0.1:<port>');
  return options;
}

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

// --- the server child and /proc ------------------------------------------------------------

/** Server log lines (stderr) by level and message, with counts. */
const serverLog = new Map<string, number>();

function printServerLog(): void {
  if (serverLog.size === 0) {
    out('server log: nothing at warn or above');
    return;
  }
  out('server log (warn and up), counts:');
  for (const [key, count] of serverLog) out(`  ${String(count).padStart(6)}  ${key}`);
}

interface ServerProcess {
  /** Absent for a server we did not start (--url). */
  child?: ChildProcess;
  /** 0 when unknown (--url without --server-pid): no CPU or memory figures then. */
  pid: number;
  wsUrl: string;
  /** luasfu's Admin API (only for a server we started). */
  adminUrl?: string;
  exited: () => boolean;
  stop(): Promise<void>;
}

async function startServer(workers: number): Promise<ServerProcess> {
  const ports = { http: await freePort(), ws: await freePort(), adminHttp: await freePort(), adminWs: await freePort() };
  const child = spawn(process.execPath, [
    CLI,
    '--script', ECHOTEST,
    '--listen-ip', '127.0.0.1',
    '--rtc-ip', '127.0.0.1',
    '--http-port', String(ports.http),
    '--ws-port', String(ports.ws),
    '--admin-http-port', String(ports.adminHttp),
    '--admin-ws-port', String(ports.adminWs),
    '--workers', String(workers),
    '--log-level', 'warn',
  ], { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe'] });
  // The server logs JSON lines (warn and up) on stderr: show the first of each message, count
  // the rest (the churn's detach-before-answer cycles log one warning each, by design).
  let buffered = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      let key = line;
      try {
        const entry = JSON.parse(line) as { level?: string; msg?: string };
        key = `${entry.level ?? '?'}: ${entry.msg ?? line}`;
      } catch {
        // not JSON: count the line itself
      }
      const seen = serverLog.get(key) ?? 0;
      serverLog.set(key, seen + 1);
      if (seen === 0) process.stdout.write(`server (first of its kind): ${line.length > 600 ? `${line.slice(0, 600)}...` : line}\n`);
    }
  });
  let exited = false;
  const exit = new Promise<void>((done) => child.once('exit', () => { exited = true; done(); }));
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    await Promise.race([exit, sleep(12_000)]);
    if (!exited) {
      child.kill('SIGKILL');
      await Promise.race([exit, sleep(3000)]);
    }
  };
  if (await waitUntilListening(ports.ws, () => exited)) {
    return {
      child, pid: child.pid!, exited: () => exited, stop,
      wsUrl: `ws://127.0.0.1:${ports.ws}`,
      adminUrl: `http://127.0.0.1:${ports.adminHttp}/admin`,
    };
  }
  await stop();
  throw new Error(exited ? 'luasfu exited before listening' : 'luasfu did not listen within 30 s');
}

/** A server already running (--url): we neither start nor stop it. */
function attachToServer(url: string, pid: number): ServerProcess {
  if (pid > 0 && !readStat(pid)) throw new Error(`no process ${pid}`);
  return { pid, wsUrl: url, exited: () => pid > 0 && !readStat(pid), stop: async () => undefined };
}

/** Child pids of `pid`: /proc/<pid>/task/<tid>/children, else a scan of /proc/<n>/stat. */
function childrenOf(pid: number): number[] {
  const found = new Set<number>();
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/)) {
          if (child) found.add(Number(child));
        }
      } catch {
        // thread gone, or no children file on this kernel
      }
    }
  } catch {
    return [];
  }
  if (found.size === 0) {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      if (readStat(Number(entry))?.ppid === pid) found.add(Number(entry));
    }
  }
  return [...found];
}

function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function openFds(pid: number): { total: number; sockets: number } {
  try {
    const fds = readdirSync(`/proc/${pid}/fd`);
    let sockets = 0;
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
      } catch {
        // closed meanwhile
      }
    }
    return { total: fds.length, sockets };
  } catch {
    return { total: 0, sockets: 0 };
  }
}

interface ServerSample {
  at: number;
  /** CPU ms (user + system, all threads) of the node process and of its workers. */
  nodeCpuMs: number;
  workersCpuMs: number;
  nodeRss: number;
  workersRss: number;
  workers: number;
}

function sampleServer(server: ServerProcess): ServerSample {
  const node = readStat(server.pid);
  // luasfu's children are its mediasoup workers; for another server (--server-pid), count
  // whatever children it has.
  const workerPids = server.pid > 0 ? childrenOf(server.pid).filter((pid) => !server.child || (readStat(pid)?.comm.startsWith('mediasoup-work') ?? false)) : [];
  let workersTicks = 0;
  let workersRss = 0;
  for (const pid of workerPids) {
    workersTicks += readStat(pid)?.ticks ?? 0;
    workersRss += rssBytes(pid);
  }
  return {
    at: performance.now(),
    nodeCpuMs: ((node?.ticks ?? 0) * 1000) / CLOCK_TICKS_PER_SECOND,
    workersCpuMs: (workersTicks * 1000) / CLOCK_TICKS_PER_SECOND,
    nodeRss: server.pid > 0 ? rssBytes(server.pid) : 0,
    workersRss,
    workers: workerPids.length,
  };
}

function workerFds(server: ServerProcess): { total: number; sockets: number } {
  let total = 0;
  let sockets = 0;
  for (const pid of server.pid > 0 ? childrenOf(server.pid) : []) {
    if (server.child && !readStat(pid)?.comm.startsWith('mediasoup-work')) continue;
    const fds = openFds(pid);
    total += fds.total;
    sockets += fds.sockets;
  }
  return { total, sockets };
}

const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function adminListSessions(server: ServerProcess): Promise<number | undefined> {
  if (!server.adminUrl) return undefined;
  try {
    const response = await fetch(server.adminUrl, {
      method: 'POST',
      body: JSON.stringify({ janus: 'list_sessions', transaction: 'ls', admin_secret: 'janusoverlord' }),
      signal: AbortSignal.timeout(3000),
    });
    const reply = (await response.json()) as { sessions?: unknown[] };
    return Array.isArray(reply.sessions) ? reply.sessions.length : undefined;
  } catch {
    return undefined;
  }
}

// --- echo sessions -------------------------------------------------------------------------

interface PeerCounters {
  inAudio: number;
  inVideo: number;
  outAudio: number;
  outVideo: number;
  /** Everything on the peers' transports (RTP, RTX, padding, RTCP), from the transport stats. */
  wireIn: number;
  wireOut: number;
}

interface EchoSession {
  index: number;
  client: JanusWsClient;
  sessionId: number;
  handleId: number;
  peer: NodePeer;
  offerToAnswerMs: number;
  offerToWebrtcupMs: number;
  keepalive: NodeJS.Timeout;
}

async function counters(peer: NodePeer): Promise<PeerCounters> {
  const c: PeerCounters = { inAudio: 0, inVideo: 0, outAudio: 0, outVideo: 0, wireIn: 0, wireOut: 0 };
  (await peer.pc.getStats()).forEach((stat) => {
    const kind = (stat.kind ?? stat.mediaType) as string;
    if (stat.type === 'inbound-rtp') {
      if (kind === 'audio') c.inAudio += Number(stat.packetsReceived ?? 0);
      else if (kind === 'video') c.inVideo += Number(stat.packetsReceived ?? 0);
    } else if (stat.type === 'outbound-rtp') {
      if (kind === 'audio') c.outAudio += Number(stat.packetsSent ?? 0);
      else if (kind === 'video') c.outVideo += Number(stat.packetsSent ?? 0);
    } else if (stat.type === 'transport') {
      c.wireIn += Number(stat.packetsReceived ?? 0);
      c.wireOut += Number(stat.packetsSent ?? 0);
    }
  });
  return c;
}

async function totals(sessions: EchoSession[]): Promise<PeerCounters> {
  const all = await Promise.all(sessions.map((s) => counters(s.peer)));
  return all.reduce((a, b) => ({
    inAudio: a.inAudio + b.inAudio, inVideo: a.inVideo + b.inVideo,
    outAudio: a.outAudio + b.outAudio, outVideo: a.outVideo + b.outVideo,
    wireIn: a.wireIn + b.wireIn, wireOut: a.wireOut + b.wireOut,
  }), { inAudio: 0, inVideo: 0, outAudio: 0, outVideo: 0, wireIn: 0, wireOut: 0 });
}

async function openEchoSession(server: ServerProcess, index: number, options: Options): Promise<EchoSession> {
  const client = await JanusWsClient.connect(server.wsUrl);
  let webrtcupAt = 0;
  client.socket.on('message', (data) => {
    if (webrtcupAt === 0 && data.toString().includes('"webrtcup"')) webrtcupAt = performance.now();
  });
  const { sessionId, handleId } = await createAndAttach(client, options.plugin);
  const keepalive = setInterval(() => client.send({ janus: 'keepalive', session_id: sessionId, transaction: `ka${index}` }), 20_000);
  const peer = new NodePeer({ audio: true, video: true, width: options.width, height: options.height });
  // Trickle our candidates, as janus.js does: luasfu (ICE-lite) ignores them, but a full-ICE
  // server (Janus, with --url) needs them to connect quickly.
  type CandidateEvent = { candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null };
  (peer.pc as unknown as { onicecandidate: ((event: CandidateEvent) => void) | null }).onicecandidate = (event) => {
    if (!client.isOpen) return;
    const candidate = event.candidate;
    client.send({
      janus: 'trickle', session_id: sessionId, handle_id: handleId, transaction: `trickle${index}`,
      candidate: candidate
        ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? '0', sdpMLineIndex: candidate.sdpMLineIndex ?? 0 }
        : { completed: true },
    });
  };
  const offer = await peer.offer();
  const sentAt = performance.now();
  client.send({
    janus: 'message', session_id: sessionId, handle_id: handleId, transaction: `offer${index}`,
    body: { audio: true, video: true },
    jsep: { type: offer.type, sdp: offer.sdp },
  });
  const event = await client.next((m) => m.janus === 'event' && m.jsep !== undefined, 10_000);
  const offerToAnswerMs = performance.now() - sentAt;
  await peer.accept({ type: 'answer', sdp: (event.jsep as JsonObject).sdp as string });
  await client.next((m) => m.janus === 'webrtcup' && m.sender === handleId, 10_000);
  return { index, client, sessionId, handleId, peer, offerToAnswerMs, offerToWebrtcupMs: webrtcupAt - sentAt, keepalive };
}

async function closeEchoSession(session: EchoSession): Promise<void> {
  clearInterval(session.keepalive);
  session.peer.close();
  if (session.client.isOpen) {
    await session.client.request({ janus: 'destroy', session_id: session.sessionId }, 3000).catch(() => undefined);
  }
  await session.client.close();
}

async function runEcho(options: Options, server: ServerProcess): Promise<boolean> {
  const idle0 = sampleServer(server);
  await sleep(2000);
  const idle1 = sampleServer(server);
  const idleCpuMsPerS = ((idle1.nodeCpuMs + idle1.workersCpuMs - idle0.nodeCpuMs - idle0.workersCpuMs) * 1000) / (idle1.at - idle0.at);
  out(`${options.url ? `server at ${options.url} (${options.plugin}), pid ${server.pid || 'unknown: no CPU/RSS figures'}` : `luasfu pid ${server.pid}`} ` +
    `with ${idle1.workers} ${server.child ? 'mediasoup workers' : 'child processes'}; idle: ${idleCpuMsPerS.toFixed(1)} CPU ms/s, ` +
    `RSS main ${mb(idle1.nodeRss)} MB + children ${mb(idle1.workersRss)} MB`);

  const sessions: EchoSession[] = [];
  try {
    for (let i = 0; i < options.sessions; i++) {
      const session = await openEchoSession(server, i, options);
      sessions.push(session);
      out(`session ${i}: offer->answer ${session.offerToAnswerMs.toFixed(1)} ms, offer->webrtcup ${session.offerToWebrtcupMs.toFixed(1)} ms`);
    }
    out(`${sessions.length} sessions up; warming up ${options.warmup} s`);
    await sleep(options.warmup * 1000);

    const frames0 = sessions.map((s) => ({ video: s.peer.videoFrames, audio: s.peer.audioChunks }));
    const packets0 = await totals(sessions);
    const cpu0 = sampleServer(server);
    let previous = { packets: packets0, cpu: cpu0 };
    let peakRss = cpu0.nodeRss + cpu0.workersRss;
    const end = performance.now() + options.seconds * 1000;
    let second = 0;
    while (performance.now() < end && !server.exited()) {
      await sleep(Math.min(1000, Math.max(0, end - performance.now())));
      second++;
      const packets = await totals(sessions);
      const cpu = sampleServer(server);
      peakRss = Math.max(peakRss, cpu.nodeRss + cpu.workersRss);
      const relayed = packets.inAudio + packets.inVideo - previous.packets.inAudio - previous.packets.inVideo;
      const cpuMs = cpu.nodeCpuMs + cpu.workersCpuMs - previous.cpu.nodeCpuMs - previous.cpu.workersCpuMs;
      const seconds = (cpu.at - previous.cpu.at) / 1000;
      out(`  ${String(second).padStart(3)} s: ${Math.round(relayed / seconds)} pkt/s relayed, server CPU ${Math.round(cpuMs / seconds)} ms/s ` +
        `(main ${Math.round((cpu.nodeCpuMs - previous.cpu.nodeCpuMs) / seconds)}, workers ${Math.round((cpu.workersCpuMs - previous.cpu.workersCpuMs) / seconds)}), ` +
        `${relayed > 0 ? ((cpuMs * 1000) / relayed).toFixed(1) : '?'} ms/1k pkt, RSS ${mb(cpu.nodeRss + cpu.workersRss)} MB`);
      previous = { packets, cpu };
    }
    if (server.exited()) throw new Error('the server exited during the run');
    const packets1 = await totals(sessions);
    const cpu1 = sampleServer(server);
    const elapsed = (cpu1.at - cpu0.at) / 1000;
    const relayedIn = packets1.inAudio + packets1.inVideo - packets0.inAudio - packets0.inVideo;
    const sentOut = packets1.outAudio + packets1.outVideo - packets0.outAudio - packets0.outVideo;
    const wireIn = packets1.wireIn - packets0.wireIn;
    const wireOut = packets1.wireOut - packets0.wireOut;
    const nodeMs = cpu1.nodeCpuMs - cpu0.nodeCpuMs;
    const workersMs = cpu1.workersCpuMs - cpu0.workersCpuMs;
    const perSession = sessions.map((s, i) => ({
      session: i,
      videoFrames: s.peer.videoFrames - frames0[i]!.video,
      audioChunks: s.peer.audioChunks - frames0[i]!.audio,
      frameSize: `${s.peer.lastFrameSize.width}x${s.peer.lastFrameSize.height}`,
    }));
    const allMedia = perSession.every((s) => s.videoFrames > 0 && s.audioChunks > 0);
    const webrtcup = sessions.map((s) => s.offerToWebrtcupMs);
    const answer = sessions.map((s) => s.offerToAnswerMs);
    const summary = {
      target: options.url ? `${options.url} ${options.plugin}` : `luasfu ${options.plugin}`,
      sessions: sessions.length,
      seconds: Number(elapsed.toFixed(2)),
      video: `${options.width}x${options.height}`,
      workers: cpu1.workers,
      packetsRelayed: relayedIn,
      packetsRelayedAudio: packets1.inAudio - packets0.inAudio,
      packetsRelayedVideo: packets1.inVideo - packets0.inVideo,
      packetsSentByPeers: sentOut,
      wirePacketsToPeers: wireIn,
      wirePacketsFromPeers: wireOut,
      packetsPerSecond: Math.round(relayedIn / elapsed),
      serverCpuMs: Math.round(nodeMs + workersMs),
      serverCpuMsPer1kPackets: relayedIn > 0 ? Number((((nodeMs + workersMs) * 1000) / relayedIn).toFixed(2)) : null,
      nodeCpuMsPer1kPackets: relayedIn > 0 ? Number(((nodeMs * 1000) / relayedIn).toFixed(2)) : null,
      workersCpuMsPer1kPackets: relayedIn > 0 ? Number(((workersMs * 1000) / relayedIn).toFixed(2)) : null,
      idleCpuMsPerSecond: Number(idleCpuMsPerS.toFixed(1)),
      rssNodeMb: Number(mb(cpu1.nodeRss)),
      rssWorkersMb: Number(mb(cpu1.workersRss)),
      rssPeakMb: Number(mb(peakRss)),
      offerToWebrtcupP50Ms: Number(percentile(webrtcup, 50).toFixed(1)),
      offerToWebrtcupMaxMs: Number(Math.max(...webrtcup).toFixed(1)),
      // The first session also pays for cold paths (first script call, first transport).
      offerToWebrtcupFirstMs: Number(webrtcup[0]!.toFixed(1)),
      offerToWebrtcupWarmP50Ms: webrtcup.length > 1 ? Number(percentile(webrtcup.slice(1), 50).toFixed(1)) : null,
      offerToWebrtcupWarmMaxMs: webrtcup.length > 1 ? Number(Math.max(...webrtcup.slice(1)).toFixed(1)) : null,
      offerToAnswerP50Ms: Number(percentile(answer, 50).toFixed(1)),
      offerToAnswerMaxMs: Number(Math.max(...answer).toFixed(1)),
      everySessionGotVideoAndAudio: allMedia,
      perSession,
      load: loadavg().map((l) => Number(l.toFixed(2))),
    };
    out('');
    for (const s of perSession) {
      out(`session ${s.session}: ${s.videoFrames} video frames (last ${s.frameSize}), ${s.audioChunks} audio chunks in the window` +
        `${s.videoFrames > 0 && s.audioChunks > 0 ? '' : '  <-- MISSING MEDIA'}`);
    }
    out(`\n${summary.sessions} sessions x ${summary.seconds} s at ${summary.video}, ${summary.workers} workers: ` +
      `${relayedIn} RTP packets relayed (${summary.packetsRelayedAudio} audio, ${summary.packetsRelayedVideo} video; peers sent ${sentOut}), ` +
      `${summary.packetsPerSecond} pkt/s`);
    out(`on the wire (peers' transport stats: RTP, RTX, padding, RTCP): ${wireIn} packets server->peers, ${wireOut} peers->server` +
      `${wireIn > 0 ? ` (${(((nodeMs + workersMs) * 1000) / wireIn).toFixed(2)} ms per 1,000 server->peer packets)` : ''}`);
    out(`server CPU: ${summary.serverCpuMs} ms = ${summary.serverCpuMsPer1kPackets} ms per 1,000 packets ` +
      `(main process ${summary.nodeCpuMsPer1kPackets}, workers ${summary.workersCpuMsPer1kPackets}); idle ${summary.idleCpuMsPerSecond} ms/s`);
    out(`server RSS: main process ${summary.rssNodeMb} MB + workers ${summary.rssWorkersMb} MB (peak total ${summary.rssPeakMb} MB)`);
    out(`offer->webrtcup p50 ${summary.offerToWebrtcupP50Ms} ms, max ${summary.offerToWebrtcupMaxMs} ms ` +
      `(first session ${summary.offerToWebrtcupFirstMs} ms; the others p50 ${summary.offerToWebrtcupWarmP50Ms ?? '-'} ms, ` +
      `max ${summary.offerToWebrtcupWarmMaxMs ?? '-'} ms); offer->answer p50 ${summary.offerToAnswerP50Ms} ms, max ${summary.offerToAnswerMaxMs} ms`);
    out(`every session received video and audio: ${allMedia ? 'yes' : 'NO'}`);
    out(`machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), ${mb(totalmem())} MB; load average ${summary.load.join(' ')}`);
    if (options.json) out(JSON.stringify(summary));
    return allMedia;
  } finally {
    await Promise.all(sessions.map((s) => closeEchoSession(s)));
  }
}

// --- churn ---------------------------------------------------------------------------------

async function runChurn(options: Options, server: ServerProcess): Promise<boolean> {
  // One recorded libwebrtc offer (audio, video, data), reused by every cycle.
  const recorder = new NodePeer({ data: true, width: 160, height: 120 });
  const recorded = await recorder.offer();
  recorder.close();

  await sleep(500);
  const base = sampleServer(server);
  const baseFds = workerFds(server);
  out(`server pid ${server.pid} with ${base.workers} mediasoup workers; before: RSS node ${mb(base.nodeRss)} MB + workers ` +
    `${mb(base.workersRss)} MB, worker fds ${baseFds.total} (${baseFds.sockets} sockets)`);
  out(`churn: ${options.churn} cycles of attach -> offer -> answer -> detach over ${options.lanes} connections ` +
    '(every 10th detaches without waiting for the answer)');

  let next = 0;
  let done = 0;
  let answered = 0;
  let raced = 0;
  let errors = 0;
  let firstError: unknown;
  const started = performance.now();
  const deadline = started + Math.max(60_000, options.churn * 200);
  let reported = 0;
  let previous = { done: 0, at: started, cpu: base };

  const report = (final: boolean): void => {
    const sample = sampleServer(server);
    const fds = workerFds(server);
    const cycles = done - previous.done;
    const cpuMs = sample.nodeCpuMs + sample.workersCpuMs - previous.cpu.nodeCpuMs - previous.cpu.workersCpuMs;
    out(`  ${final ? 'end' : 'at'} ${String(done).padStart(7)} cycles: RSS node ${mb(sample.nodeRss)} MB + workers ${mb(sample.workersRss)} MB, ` +
      `worker fds ${fds.total} (${fds.sockets} sockets), ${cycles > 0 ? (cpuMs / cycles).toFixed(2) : '?'} server CPU ms/cycle, ` +
      `${Math.round((cycles * 1000) / (sample.at - previous.at))} cycles/s`);
    previous = { done, at: sample.at, cpu: sample };
  };

  const lane = async (laneIndex: number): Promise<void> => {
    let client: JanusWsClient | undefined;
    let sessionId = 0;
    let used = 0;
    while (next < options.churn && performance.now() < deadline && !server.exited()) {
      // A fresh connection and session every 200 cycles keeps the client's frame log short.
      if (!client || used >= 200) {
        if (client) {
          await client.request({ janus: 'destroy', session_id: sessionId }, 5000).catch(() => undefined);
          await client.close();
        }
        client = await JanusWsClient.connect(server.wsUrl);
        sessionId = ((await client.request({ janus: 'create' }, 5000)).data as JsonObject).id as number;
        used = 0;
      }
      const cycle = next++;
      used++;
      try {
        const attached = await client.request({ janus: 'attach', session_id: sessionId, plugin: options.plugin }, 5000);
        const handleId = (attached.data as JsonObject).id as number;
        const ack = await client.request({
          janus: 'message', session_id: sessionId, handle_id: handleId,
          body: { audio: true, video: true, data: true },
          jsep: { type: 'offer', sdp: recorded.sdp },
        }, 5000);
        if (ack.janus !== 'ack') throw new Error(`message: ${JSON.stringify(ack)}`);
        if (cycle % 10 === 9) {
          raced++;
        } else {
          const event = await client.next((m) => m.janus === 'event' && m.sender === handleId && m.jsep !== undefined, 10_000);
          if ((event.jsep as JsonObject).type !== 'answer') throw new Error('no answer');
          answered++;
        }
        const detached = await client.request({ janus: 'detach', session_id: sessionId, handle_id: handleId }, 5000);
        if (detached.janus !== 'success') throw new Error(`detach: ${JSON.stringify(detached)}`);
        await client.next((m) => m.janus === 'detached' && m.sender === handleId, 5000);
      } catch (error) {
        errors++;
        firstError ??= error;
        if (errors > 20) throw new Error(`too many errors in lane ${laneIndex}; first: ${String(firstError)}`);
      }
      done++;
    }
    if (client) {
      await client.request({ janus: 'destroy', session_id: sessionId }, 5000).catch(() => undefined);
      await client.close();
    }
  };

  const progress = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000;
    out(`  ${elapsed.toFixed(0).padStart(4)} s: ${done} cycles (${answered} answered, ${raced} raced, ${errors} errors)`);
    while (done - reported >= 1000) {
      reported += 1000;
      report(false);
    }
  }, 1000);
  try {
    await Promise.all(Array.from({ length: options.lanes }, (_, i) => lane(i)));
  } finally {
    clearInterval(progress);
  }
  // Let the last closes land, then the final figures.
  await sleep(2000);
  report(true);
  const end = sampleServer(server);
  const endFds = workerFds(server);
  const sessionsLeft = await adminListSessions(server);
  const seconds = (performance.now() - started) / 1000;
  out(`\n${done} cycles in ${seconds.toFixed(1)} s (${answered} answered, ${raced} detached before the answer, ${errors} errors)`);
  out(`RSS: node ${mb(base.nodeRss)} -> ${mb(end.nodeRss)} MB, workers ${mb(base.workersRss)} -> ${mb(end.workersRss)} MB; ` +
    `worker fds ${baseFds.total} -> ${endFds.total} (sockets ${baseFds.sockets} -> ${endFds.sockets}); ` +
    `sessions left (Admin API): ${sessionsLeft ?? '?'}`);
  if (firstError) out(`first error: ${String(firstError)}`);
  out(`machine: ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (options.json) {
    out(JSON.stringify({
      cycles: done, answered, raced, errors, seconds: Number(seconds.toFixed(1)),
      rssNodeMb: [Number(mb(base.nodeRss)), Number(mb(end.nodeRss))],
      rssWorkersMb: [Number(mb(base.workersRss)), Number(mb(end.workersRss))],
      workerSockets: [baseFds.sockets, endFds.sockets], sessionsLeft,
    }));
  }
  return errors === 0 && done === options.churn && endFds.sockets === baseFds.sockets && (sessionsLeft === 0 || !server.adminUrl);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const budgetMs = options.churn > 0
    ? Math.max(60_000, options.churn * 200) + 60_000
    : (options.warmup + options.seconds) * 1000 + options.sessions * 15_000 + 60_000;
  // The run stops by itself whatever happens.
  let server: ServerProcess | undefined;
  const hardStop = setTimeout(() => {
    out(`bench: over its ${Math.round(budgetMs / 1000)} s budget, stopping`);
    server?.child?.kill('SIGKILL');
    process.exit(3);
  }, budgetMs);
  hardStop.unref();
  server = options.url ? attachToServer(options.url, options.serverPid ?? 0) : await startServer(options.workers);
  let ok = false;
  try {
    ok = options.churn > 0 ? await runChurn(options, server) : await runEcho(options, server);
  } finally {
    await server.stop();
    printServerLog();
  }
  process.exitCode = ok ? 0 : 1;
}

main().then(() => process.exit(process.exitCode ?? 0), (error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
