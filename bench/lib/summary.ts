// The human summary table (the scenario's rows plus errors, server and client), as text.

import type { JsonObject } from '../../src/plugin/json';
import { isJsonObject } from '../../src/plugin/json';
import type { BenchResult } from './run';

/** The rows every report shows: the scenario's, then errors, server, client. */
export function summaryRows(result: BenchResult): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const target = result.target as JsonObject;
  rows.push(['scenario', `${String(result.scenario)} against ${String(target.url)} (${String(target.transport)}), plugin ${String(target.plugin)}`]);
  rows.push(['elapsed', `${String(result.elapsedSec)} s`]);
  for (const row of (result.rows as string[][]) ?? []) rows.push([row[0]!, row[1]!]);
  const errors = result.errors as JsonObject;
  const byCode = isJsonObject(errors.byCode) ? Object.entries(errors.byCode).map(([code, n]) => `${code}: ${String(n)}`).join(', ') : '';
  rows.push(['errors', `${String(errors.total)}${byCode ? ` (${byCode})` : ''}`]);
  if (errors.first) rows.push(['first error', String(errors.first)]);
  const server = result.server as JsonObject;
  if (server.measured === true) {
    const cpu = server.cpuPercent as JsonObject;
    const rss = server.rssMb as JsonObject;
    rows.push(['server CPU', `${String(cpu.mean)}% mean, ${String(cpu.max)}% max (pid ${String(server.pid)}, ${String(server.processes)} process${server.processes === 1 ? '' : 'es'})`]);
    const parts = server.cpuMsByPart as JsonObject;
    rows.push(['server CPU by part', `${String(server.cpuMs)} ms: main thread ${String(parts.mainThread)}, other threads ${String(parts.otherThreads)}, child processes ${String(parts.children)}`]);
    rows.push(['server memory', `${String(rss.start)} -> ${String(rss.end)} MB RSS (max ${String(rss.max)}), ${server.rssSlopeMbPerMin === null ? 'no slope (run too short)' : `slope ${String(server.rssSlopeMbPerMin)} MB/min`}`]);
  } else {
    rows.push(['server CPU', 'not measured (give --server-pid)']);
    rows.push(['server memory', 'not measured (give --server-pid)']);
  }
  const admin = result.adminSessions;
  rows.push(['server sessions', isJsonObject(admin) ? `${String(admin.before)} before, ${String(admin.after)} after (Admin API)` : String(admin)]);
  const client = result.client as JsonObject;
  rows.push(['client (this tool)', `CPU ${String(client.cpuPercent)}%, event loop busy ${(Number(client.eventLoopUtilization) * 100).toFixed(0)}%`]);
  const machine = result.machine as JsonObject;
  rows.push(['machine', `${String(machine.cores)} cores, load ${(machine.loadAverage as number[]).join(' ')}`]);
  return rows;
}

export function summaryText(result: BenchResult): string {
  const rows = summaryRows(result);
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`);
  const client = result.client as JsonObject;
  if (client.warning) lines.push(`  WARNING: ${String(client.warning)}`);
  const status = result.interrupted ? 'INTERRUPTED' : result.ok ? 'OK' : `FAILED: ${String(result.failure)}`;
  return `\nluasfu-bench ${String(result.scenario)}: ${status}\n${lines.join('\n')}\n`;
}
