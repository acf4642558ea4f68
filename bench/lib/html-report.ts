// The self-contained HTML report: the summary table, a histogram per latency figure, and
// charts over time (throughput, sessions, server and client CPU, server memory), as inline
// SVG drawn here: no script, no external assets, opens anywhere.

import { writeFileSync } from 'node:fs';
import type { JsonObject } from '../../src/plugin/json';
import type { BenchResult, NamedHistogram, TimelinePoint } from './run';
import { summaryRows } from './summary';

const W = 640;
const H = 220;
const PAD = { left: 56, right: 16, top: 28, bottom: 36 };

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fmt = (n: number): string => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));

function axes(xLabel: string, yMax: number, yLabel: string): string {
  const x0 = PAD.left;
  const y0 = H - PAD.bottom;
  const ticks = [0, 0.5, 1].map((f) => {
    const y = y0 - f * (y0 - PAD.top);
    return `<line x1="${x0 - 4}" y1="${y}" x2="${W - PAD.right}" y2="${y}" class="grid"/><text x="${x0 - 6}" y="${y + 4}" text-anchor="end">${fmt(f * yMax)}</text>`;
  });
  return `<line x1="${x0}" y1="${PAD.top}" x2="${x0}" y2="${y0}" class="axis"/><line x1="${x0}" y1="${y0}" x2="${W - PAD.right}" y2="${y0}" class="axis"/>` +
    ticks.join('') +
    `<text x="${(x0 + W - PAD.right) / 2}" y="${H - 6}" text-anchor="middle">${escape(xLabel)}</text>` +
    `<text x="${x0}" y="12" class="unit">${escape(yLabel)}</text>`;
}

/** Bars, one per bucket; x labels at the first, middle and last bucket bounds. */
export function histogramSvg(histogram: NamedHistogram): string {
  const buckets = histogram.buckets;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const barW = buckets.length > 0 ? plotW / buckets.length : plotW;
  const bars = buckets.map((b, i) => {
    const h = (b.count / max) * plotH;
    return `<rect class="bar" x="${(PAD.left + i * barW + 1).toFixed(1)}" y="${(H - PAD.bottom - h).toFixed(1)}" width="${Math.max(1, barW - 2).toFixed(1)}" ` +
      `height="${h.toFixed(1)}"><title>${fmt(b.from)}–${fmt(b.to)} ms: ${b.count}</title></rect>`;
  });
  const labels = buckets.length === 0 ? [] : [0, Math.floor(buckets.length / 2), buckets.length - 1].map((i) =>
    `<text x="${(PAD.left + i * barW + barW / 2).toFixed(1)}" y="${H - PAD.bottom + 14}" text-anchor="middle">${fmt(buckets[i]!.from)}</text>`);
  return `<svg class="chart" data-chart="histogram" data-name="${escape(histogram.name)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escape(histogram.title)}">` +
    `${axes('milliseconds (logarithmic buckets)', max, 'count')}${bars.join('')}${labels.join('')}` +
    `${buckets.length === 0 ? `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no samples</text>` : ''}</svg>`;
}

/** A line per series over the run's seconds; series with no values are left out. */
export function lineChartSvg(name: string, title: string, unit: string, points: TimelinePoint[], series: Array<keyof TimelinePoint>): string {
  const tMax = Math.max(1, ...points.map((p) => p.tSec));
  const values = points.flatMap((p) => series.map((s) => p[s])).filter((v): v is number => typeof v === 'number');
  const yMax = Math.max(1e-9, ...values) * 1.1;
  const x = (t: number): number => PAD.left + (t / tMax) * (W - PAD.left - PAD.right);
  const y = (v: number): number => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  const lines = series.map((s, i) => {
    const pts = points.filter((p) => typeof p[s] === 'number').map((p) => `${x(p.tSec).toFixed(1)},${y(p[s] as number).toFixed(1)}`);
    if (pts.length === 0) {
      return `<text x="${W - PAD.right - 4}" y="${PAD.top + 14 * (i + 1)}" text-anchor="end" class="unit">${escape(String(s))}: not measured</text>`;
    }
    return `<polyline class="line" data-series="${escape(String(s))}" fill="none" stroke="${colors[i % colors.length]}" stroke-width="2" points="${pts.join(' ')}"/>` +
      `<text x="${W - PAD.right - 4}" y="${PAD.top + 14 * (i + 1)}" text-anchor="end" fill="${colors[i % colors.length]}">${escape(String(s))}</text>`;
  });
  const empty = !lines.some((l) => l.startsWith('<polyline'));
  const xTicks = [0, tMax / 2, tMax].map((t) => `<text x="${x(t).toFixed(1)}" y="${H - PAD.bottom + 14}" text-anchor="middle">${fmt(t)}</text>`);
  return `<svg class="chart" data-chart="timeline" data-name="${escape(name)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escape(title)}">` +
    `${axes('seconds', empty ? 0 : yMax, unit)}${xTicks.join('')}${lines.join('')}` +
    `${empty ? `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">not measured</text>` : ''}</svg>`;
}

export function renderReport(result: BenchResult): string {
  const timeline = (result.timeline as unknown as TimelinePoint[]) ?? [];
  const histograms = (result.histograms as unknown as NamedHistogram[]) ?? [];
  const rows = summaryRows(result).map(([label, value]) => `<tr><th>${escape(label)}</th><td>${escape(value)}</td></tr>`).join('');
  const client = result.client as JsonObject;
  const status = result.interrupted ? 'interrupted' : result.ok ? 'ok' : `failed: ${String(result.failure)}`;
  const unit = String(result.unit ?? 'operations');
  const sections = [
    ...histograms.map((h) => `<section><h2>${escape(h.title)}</h2>${histogramSvg(h)}</section>`),
    `<section><h2>Throughput over time</h2>${lineChartSvg('throughput', 'throughput', `${unit}/s`, timeline, ['opsPerSec'])}</section>`,
    `<section><h2>CPU over time</h2>${lineChartSvg('cpu', 'CPU', '% of one core', timeline, ['serverCpuPercent', 'clientCpuPercent'])}</section>`,
    `<section><h2>Sessions up</h2>${lineChartSvg('sessions', 'sessions up', 'sessions', timeline, ['sessionsUp'])}</section>`,
    `<section><h2>Server memory</h2>${lineChartSvg('memory', 'server RSS', 'MB', timeline, ['serverRssMb'])}</section>`,
  ];
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>luasfu-bench ${escape(String(result.scenario))} ${escape(String(result.startedAt))}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:60em;color:#222}
table{border-collapse:collapse}th,td{text-align:left;padding:.2em .8em;border-bottom:1px solid #ddd;vertical-align:top}
th{font-weight:600;white-space:nowrap}.status{font-weight:600}.warn{color:#a40}
svg text{font-size:11px;fill:#444}.axis{stroke:#444}.grid{stroke:#ddd}.bar{fill:#1f77b4}.unit{font-style:italic}
section{margin:1.5em 0}
</style></head><body>
<h1>luasfu-bench: ${escape(String(result.scenario))}</h1>
<p class="status">Result: ${escape(status)}</p>
${client.warning ? `<p class="warn">Warning: ${escape(String(client.warning))}</p>` : ''}
<table>${rows}</table>
${sections.join('\n')}
<details><summary>All figures (JSON)</summary><pre>${escape(JSON.stringify({ ...result, timeline: undefined }, null, 2))}</pre></details>
</body></html>
`;
}

export function writeReport(path: string, result: BenchResult): void {
  writeFileSync(path, renderReport(result));
}
