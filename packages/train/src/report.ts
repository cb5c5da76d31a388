/**
 * `report.html`: one self-contained page per run (no external assets): loss curves and metric
 * curves as inline SVG from metrics.jsonl, the metric values, the sample grids over time as
 * base64 PNGs, and the run's config.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseCheckpointDirName } from './checkpoint/format';
import { replaceFileAtomic } from './checkpoint/durable-fs';
import { METRICS_FILE, readMetrics, type MetricsRecord } from './metrics-log';
import { defaultBestMetric } from './options';

export const REPORT_FILE = 'report.html';

const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
];

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function formatNumber(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  return abs >= 1e4 || abs < 1e-3 ? value.toExponential(3) : value.toPrecision(5);
}

type Series = { name: string; points: [number, number][] };

/** An SVG line chart of `series` (x = step). */
export function lineChartSvg(title: string, series: Series[], width = 640, height = 260): string {
  const margin = { left: 64, right: 16, top: 28, bottom: 36 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const sx = (x: number) => margin.left + (x1 === x0 ? plotW / 2 : ((x - x0) / (x1 - x0)) * plotW);
  const sy = (y: number) => margin.top + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const lines = series.map((s, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const points = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    const dots =
      s.points.length === 1
        ? `<circle cx="${sx(s.points[0]![0])}" cy="${sy(s.points[0]![1])}" r="3" fill="${color}"/>`
        : '';
    return `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points}"/>${dots}`;
  });
  const legend = series.map((s, i) => {
    const x = margin.left + 8 + i * 120;
    const color = COLORS[i % COLORS.length] as string;
    const swatch = `<rect x="${x}" y="8" width="10" height="10" fill="${color}"/>`;
    return `${swatch}<text x="${x + 14}" y="17">${escapeHtml(s.name)}</text>`;
  });
  const bottom = margin.top + plotH;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img"`,
    ` aria-label="${escapeHtml(title)}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeHtml(title)}</title>`,
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}"`,
    ` fill="#fafafa" stroke="#ccc"/>`,
    `<text x="${margin.left - 4}" y="${margin.top + 4}" text-anchor="end">${formatNumber(y1)}</text>`,
    `<text x="${margin.left - 4}" y="${bottom}" text-anchor="end">${formatNumber(y0)}</text>`,
    `<text x="${margin.left}" y="${bottom + 14}">${x0}</text>`,
    `<text x="${margin.left + plotW}" y="${bottom + 14}" text-anchor="end">${x1}</text>`,
    `<text x="${margin.left + plotW / 2}" y="${bottom + 28}" text-anchor="middle">step</text>`,
    ...legend,
    ...lines,
    '</svg>',
  ].join('\n');
}

function seriesOf(records: MetricsRecord[], names: string[]): Series[] {
  return names.map((name) => ({
    name,
    points: records
      .filter((r) => typeof r[name] === 'number')
      .map((r) => [r.step, r[name] as number]),
  }));
}

async function sampleImages(runDir: string): Promise<{ step: number; dataUri: string }[]> {
  let names: string[];
  try {
    names = await fs.readdir(path.join(runDir, 'samples'));
  } catch {
    return [];
  }
  const samples = names
    .map((name) => ({ name, step: parseCheckpointDirName(name.replace(/\.png$/, '')) }))
    .filter(
      (s): s is { name: string; step: number } => s.step !== undefined && s.name.endsWith('.png'),
    )
    .sort((a, b) => a.step - b.step);
  return Promise.all(
    samples.map(async ({ name, step }) => {
      const png = await fs.readFile(path.join(runDir, 'samples', name));
      return { step, dataUri: `data:image/png;base64,${png.toString('base64')}` };
    }),
  );
}

interface Sections {
  lossNames: string[];
  /** Other per-step training values (e.g. `d/real`), logged on the same lines as losses. */
  trainingNames: string[];
  /** Evaluation metrics, logged on lines of their own. */
  metricNames: string[];
}

function classify(records: MetricsRecord[]): Sections {
  const training = new Set<string>();
  const all = new Set<string>();
  for (const record of records) {
    const keys = Object.keys(record).filter((k) => k !== 'step' && k !== 'time');
    keys.forEach((k) => all.add(k));
    if (keys.some((k) => k.startsWith('loss/'))) keys.forEach((k) => training.add(k));
  }
  const names = [...all];
  return {
    lossNames: names.filter((n) => n.startsWith('loss/')),
    trainingNames: names.filter((n) => training.has(n) && !n.startsWith('loss/')),
    metricNames: names.filter((n) => !training.has(n)),
  };
}

function metricsTable(records: MetricsRecord[], names: string[]): string {
  if (names.length === 0) return '<p>No evaluations.</p>';
  const rows = names.map((name) => {
    const values = records
      .filter((r) => typeof r[name] === 'number')
      .map((r) => ({ step: r.step, value: r[name] as number }));
    const last = values[values.length - 1];
    const best = defaultBestMetric([name])?.mode === 'max' ? Math.max : Math.min;
    const bestValue = best(...values.map((v) => v.value));
    const bestStep = values.find((v) => v.value === bestValue)?.step;
    const cells = [
      escapeHtml(name),
      last ? formatNumber(last.value) : '',
      `${last?.step ?? ''}`,
      `${formatNumber(bestValue)} (step ${bestStep})`,
    ];
    return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  const header = '<tr><th>metric</th><th>last</th><th>at step</th><th>best</th></tr>';
  return `<table>\n${header}\n${rows.join('\n')}\n</table>`;
}

function samplesSection(samples: { step: number; dataUri: string }[]): string {
  if (samples.length === 0) return '<p>No samples.</p>';
  return samples
    .map(
      (s) =>
        `<figure><img alt="samples at step ${s.step}" src="${s.dataUri}">` +
        `<figcaption>step ${s.step}</figcaption></figure>`,
    )
    .join('\n');
}

const STYLE = `body { font-family: sans-serif; margin: 2rem; color: #222; max-width: 1100px; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 4px 8px; }
figure { display: inline-block; margin: 0 12px 12px 0; }
img { image-rendering: pixelated; width: 256px; }
pre { background: #f4f4f4; padding: 1rem; overflow-x: auto; }`;

/** Build report.html for the run in `runDir` from its files. Returns the report's path. */
export async function writeReport(runDir: string): Promise<string> {
  const records = await readMetrics(path.join(runDir, METRICS_FILE));
  let configText = '{}';
  try {
    configText = await fs.readFile(path.join(runDir, 'config.json'), 'utf8');
  } catch {
    // A report of a run without config.json still shows its curves.
  }
  const { lossNames, trainingNames, metricNames } = classify(records);
  const lastStep = records.reduce((m, r) => Math.max(m, r.step), 0);
  const runName = escapeHtml(path.basename(path.resolve(runDir)));
  const losses =
    lossNames.length > 0
      ? lineChartSvg('losses', seriesOf(records, lossNames))
      : '<p>No losses logged yet.</p>';
  const body = [
    `<h1>gensynth run ${runName}</h1>`,
    `<p>Steps logged: ${lastStep}. Generated ${escapeHtml(new Date().toISOString())}.</p>`,
    '<h2>Losses</h2>',
    losses,
    trainingNames.length > 0
      ? lineChartSvg('other training values', seriesOf(records, trainingNames))
      : '',
    '<h2>Metrics</h2>',
    metricsTable(records, metricNames),
    ...metricNames.map((name) => lineChartSvg(name, seriesOf(records, [name]))),
    '<h2>Samples</h2>',
    samplesSection(await sampleImages(runDir)),
    '<h2>Config</h2>',
    `<pre>${escapeHtml(configText)}</pre>`,
  ];
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>gensynth run ${runName}</title>`,
    `<style>\n${STYLE}\n</style>`,
    '</head>',
    '<body>',
    ...body.filter((part) => part !== ''),
    '</body>',
    '</html>',
    '',
  ].join('\n');
  const file = path.join(runDir, REPORT_FILE);
  await replaceFileAtomic(file, html);
  return file;
}
