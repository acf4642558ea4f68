// A process's CPU time from /proc (Linux).

import { readFileSync } from 'node:fs';

export const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** /proc/<pid>/stat: parent, CPU clock ticks (user + system, all threads) and command name. */
export function readStat(pid: number): { ppid: number; ticks: number; comm: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
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

/** CPU seconds (user + system, all threads) a process has used so far. */
export function processCpuSeconds(pid: number): number | undefined {
  const stat = readStat(pid);
  return stat === undefined ? undefined : stat.ticks / CLOCK_TICKS_PER_SECOND;
}
