// CPU time and memory of a process tree from /proc (Linux): the server given by --server-pid
// and its children (luasfu's mediasoup workers; Janus has none), recursively.

import { readFileSync, readdirSync } from 'node:fs';

export const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface ProcStat {
  ppid: number;
  /** user + system clock ticks, all threads. */
  ticks: number;
  comm: string;
}

/**
 * /proc/<pid>/stat: parent, CPU clock ticks (user + system, all threads) and command name; with
 * `tid`, /proc/<pid>/task/<tid>/stat, i.e. that one thread's ticks.
 */
export function readStat(pid: number, tid?: number): ProcStat | undefined {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is state (stat field 3): ppid is field 4, utime 14, stime 15.
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), comm };
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in bytes (VmRSS), undefined when it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The text of /proc/<pid>/task/<tid>/<file> for each thread of `pid` that still has it (threads
 * that end meanwhile are skipped); undefined when the process is gone.
 */
function threadFiles(pid: number, file: string): string[] | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  const texts: string[] = [];
  for (const tid of tasks) {
    try {
      texts.push(readFileSync(`/proc/${pid}/task/${tid}/${file}`, 'utf8'));
    } catch {
      // thread gone, or no such file on this kernel
    }
  }
  return texts;
}

/** Direct children: /proc/<pid>/task/<tid>/children, else a scan of /proc/<n>/stat by parent. */
export function childrenOf(pid: number): number[] {
  const texts = threadFiles(pid, 'children');
  if (texts === undefined) return [];
  const found = new Set<number>();
  for (const text of texts) for (const child of text.trim().split(/\s+/)) if (child) found.add(Number(child));
  if (texts.length === 0) {
    for (const entry of readdirSync('/proc')) {
      if (/^\d+$/.test(entry) && readStat(Number(entry))?.ppid === pid) found.add(Number(entry));
    }
  }
  return [...found];
}

/**
 * Nanoseconds every thread of `pid` and its descendants has run so far (the first field of
 * /proc/<pid>/task/<tid>/schedstat): precise where the stat ticks (10 ms) are too coarse for a
 * window of a few tens of ms. Threads that ended before the call are not in it.
 */
export function treeRunNs(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    for (const schedstat of threadFiles(p, 'schedstat') ?? []) total += Number(schedstat.split(' ')[0]);
  }
  return total;
}

/** `pid` and all its descendants (bounded depth, in case of a loop through reused pids). */
export function processTree(pid: number): number[] {
  const tree: number[] = [];
  let level = [pid];
  for (let depth = 0; depth < 8 && level.length > 0; depth++) {
    tree.push(...level);
    level = level.flatMap((p) => childrenOf(p)).filter((p) => !tree.includes(p));
  }
  return tree;
}

export interface TreeSample {
  /** performance.now() of the sample. */
  at: number;
  /** CPU ms used by the tree since the sampler started (processes that came and went counted while seen). */
  cpuMs: number;
  /** Of which the root's main thread (luasfu: the Janus core, transports and media control). */
  mainThreadCpuMs: number;
  /** Of which the root's descendants (luasfu: the mediasoup workers). */
  childrenCpuMs: number;
  rssBytes: number;
  processes: number;
}

/** Samples a process tree's cumulative CPU and current memory. */
export class ProcessTreeSampler {
  /** Last ticks seen per pid, so a process that starts or ends mid-run adds only what it used meanwhile. */
  private readonly lastTicks = new Map<number, number>();
  private cpuTicks = 0;
  private childrenTicks = 0;
  private readonly firstMainTicks: number | undefined;
  private lastMainTicks: number | undefined;

  constructor(readonly pid: number) {
    this.firstMainTicks = readStat(pid, pid)?.ticks;
    this.lastMainTicks = this.firstMainTicks;
  }

  /** Whether the root process exists now. */
  alive(): boolean {
    return readStat(this.pid) !== undefined;
  }

  sample(): TreeSample {
    let rss = 0;
    let processes = 0;
    for (const pid of processTree(this.pid)) {
      const stat = readStat(pid);
      if (!stat) continue;
      processes++;
      rss += rssBytes(pid) ?? 0;
      const previous = this.lastTicks.get(pid);
      const used = previous === undefined ? 0 : Math.max(0, stat.ticks - previous);
      this.cpuTicks += used;
      if (pid !== this.pid) this.childrenTicks += used;
      this.lastTicks.set(pid, stat.ticks);
    }
    this.lastMainTicks = readStat(this.pid, this.pid)?.ticks ?? this.lastMainTicks;
    const ms = (ticks: number): number => (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
    return {
      at: performance.now(),
      cpuMs: ms(this.cpuTicks),
      mainThreadCpuMs: ms((this.lastMainTicks ?? 0) - (this.firstMainTicks ?? 0)),
      childrenCpuMs: ms(this.childrenTicks),
      rssBytes: rss,
      processes,
    };
  }
}
