// Memory of the luasfu process tree (node + mediasoup workers): idle, then under session churn.
//
//   node dist/bench/memory.js [--cycles 1500] [--lanes 4] [--node-flags "<flags>"]
//
// Starts `node <flags> dist/src/cli.js` (default: the flags of its shebang, as `luasfu` runs) on 127.0.0.1 (free ports, echotest.lua, default worker
// count), waits 5 s, reads the idle RSS (and PSS) of the tree from /proc, reads it again 30 s
// after the start (settled: with node's default flags V8's memory reducer shrinks both
// isolates' heaps once the process has been idle ~8 s; luasfu's own flags turn it off), then
// runs the cycles
// in `lanes` parallel loops, each cycle on a connection of its own: create, attach, a libwebrtc peer's offer, answer,
// webrtcup, hangup, detach, destroy. RSS every 100 cycles; at the end the least-squares slope
// of the samples of the second half, in MiB per 100 cycles. Linux only.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { isJsonObject } from '../src/plugin/json';
import { JanusConnection } from './lib/janus-client';
import { MediaPeer } from './lib/peer';
import { childrenOf } from './lib/proc';
import { HandleWatch } from './scenarios/common';

const CLI = join(__dirname, '..', 'src', 'cli.js');

interface Options {
  cycles: number;
  lanes: number;
  nodeFlags: string[];
}

/** The node flags of the luasfu command's shebang (`#!/usr/bin/env -S node <flags>`). */
function shebangFlags(): string[] {
  const first = readFileSync(CLI, 'utf8').split('\n')[0] ?? '';
  const match = /^#!.*\bnode\b(.*)$/.exec(first);
  return match ? match[1]!.split(' ').filter(Boolean) : [];
}

function parseOptions(argv: string[]): Options {
  const options: Options = { cycles: 1500, lanes: 4, nodeFlags: shebangFlags() };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1] ?? '';
    switch (argv[i]) {
      case '--cycles': options.cycles = Number(value); i++; break;
      case '--lanes': options.lanes = Number(value); i++; break;
      case '--node-flags': options.nodeFlags = value.split(' ').filter(Boolean); i++; break;
      default: throw new Error(`unknown option ${argv[i]} (see the header of bench/memory.ts)`);
    }
  }
  if (!Number.isInteger(options.cycles) || options.cycles < 100) throw new Error('--cycles must be an integer >= 100');
  return options;
}

/** A /proc/<pid>/smaps_rollup or status field, in MiB (0 once the process is gone). */
function procMiB(pid: number, file: 'status' | 'smaps_rollup', field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

interface TreeMemory {
  node: number;
  workers: number;
  total: number;
  /** Proportional set size: shared pages (the node and worker binaries) counted once. */
  pss: number;
}

function treeMemory(pid: number): TreeMemory {
  const workers = childrenOf(pid);
  const node = procMiB(pid, 'status', 'VmRSS');
  const workersRss = workers.reduce((sum, child) => sum + procMiB(child, 'status', 'VmRSS'), 0);
  const pss = [pid, ...workers].reduce((sum, p) => sum + procMiB(p, 'smaps_rollup', 'Pss'), 0);
  return { node, workers: workersRss, total: node + workersRss, pss };
}

/** When the settled idle figure is read: V8's memory reducer, when on, starts ~8 s after the last GC. */
const IDLE_SETTLED_MS = 30_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const f1 = (x: number): string => x.toFixed(1);

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
}

const REPLY_MS = 10_000;

/** One cycle on its own session: create, attach, offer, answer, webrtcup, hangup, detach, destroy. */
async function cycle(url: string): Promise<void> {
  const connection = await JanusConnection.open({ url, timeoutMs: REPLY_MS });
  let peer: MediaPeer | undefined;
  let watch: HandleWatch | undefined;
  try {
    await connection.createSession();
    const handleId = await connection.attach('janus.plugin.echolua');
    watch = new HandleWatch(connection, handleId);
    peer = new MediaPeer({ audio: true, video: true, data: false, width: 160, height: 120, fps: 15 });
    const reply = await connection.message(handleId, { audio: true, video: true }, { ...(await peer.offer()) });
    const jsep = reply.jsep;
    if (!isJsonObject(jsep) || typeof jsep.sdp !== 'string') throw new Error(`no answer in ${JSON.stringify(reply).slice(0, 200)}`);
    await peer.accept({ type: 'answer', sdp: jsep.sdp });
    await watch.wait('webrtcup', REPLY_MS, AbortSignal.timeout(REPLY_MS));
    await connection.call({ janus: 'hangup', session_id: connection.sessionId, handle_id: handleId });
    await watch.wait('hangup', REPLY_MS, AbortSignal.timeout(REPLY_MS));
    await connection.call({ janus: 'detach', session_id: connection.sessionId, handle_id: handleId });
  } finally {
    watch?.close();
    peer?.close();
    // Destroys the session (if any) and closes the connection, bounded.
    await connection.close();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const args = [...options.nodeFlags, CLI, '--listen-ip', '127.0.0.1', '--rtc-ip', '127.0.0.1',
    '--http-port', '0', '--ws-port', '0', '--admin-http-port', '0', '--admin-ws-port', '0', '--metrics-port', '0'];
  const server = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const collect = (chunk: Buffer): void => {
    log += chunk.toString('utf8');
  };
  server.stderr!.on('data', collect);
  const started = Date.now();
  while (!log.includes('"luasfu listening"')) {
    if (Date.now() - started > 30000 || server.exitCode !== null) throw new Error(`luasfu did not start:\n${log}`);
    await sleep(100);
  }
  const line = JSON.parse(log.split('\n').find((l) => l.includes('"luasfu listening"'))!) as { websocket: number };
  server.stderr!.off('data', collect);
  server.stderr!.resume();
  const url = `ws://127.0.0.1:${line.websocket}`;
  const pid = server.pid!;
  try {
    await sleep(5000);
    console.log(`luasfu (node ${options.nodeFlags.join(' ')}) pid ${pid}, ${childrenOf(pid).length} workers`);
    const idle = (label: string): void => {
      const m = treeMemory(pid);
      console.log(`${label}: RSS ${f1(m.total)} MiB (node ${f1(m.node)} + workers ${f1(m.workers)}), PSS ${f1(m.pss)} MiB; ` +
        `load ${loadavg().map(f1).join(' ')}`);
    };
    idle('idle 5 s');
    await sleep(IDLE_SETTLED_MS - 5000);
    idle('idle 30 s (settled)');
    const samples: Array<[number, number]> = [];
    let next = 0;
    let done = 0;
    let errors = 0;
    const t0 = Date.now();
    const lane = async (): Promise<void> => {
      while (next < options.cycles) {
        next++;
        try {
          await cycle(url);
        } catch (error) {
          errors++;
          if (errors <= 3) console.log(`cycle failed: ${String(error)}`);
          if (errors > 20) throw new Error('too many failed cycles');
        }
        done++;
        if (done % 100 === 0) {
          const now = treeMemory(pid);
          samples.push([done, now.total]);
          console.log(`  ${String(done).padStart(5)} cycles: RSS ${f1(now.total)} MiB (node ${f1(now.node)} + workers ${f1(now.workers)}), ` +
            `${((Date.now() - t0) / 1000).toFixed(0)} s, load ${f1(loadavg()[0]!)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: options.lanes }, () => lane()));
    await sleep(3000);
    const end = treeMemory(pid);
    const secondHalf = samples.filter(([cycles]) => cycles >= options.cycles / 2);
    console.log(`after ${done} cycles (${errors} failed, ${((Date.now() - t0) / 1000).toFixed(0)} s): RSS ${f1(end.total)} MiB ` +
      `(node ${f1(end.node)} + workers ${f1(end.workers)}), PSS ${f1(end.pss)} MiB, peak sample ${f1(Math.max(...samples.map((s) => s[1])))} MiB, ` +
      `second-half slope ${(slope(secondHalf) * 100).toFixed(2)} MiB per 100 cycles; load ${loadavg().map(f1).join(' ')}`);
  } finally {
    server.kill('SIGTERM');
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
