/**
 * `metrics.jsonl`: one JSON object per line, one line per logged step and per evaluation, e.g.
 * `{"step":500,"loss/d":1.2345,"loss/g":0.6789,"time":1733250000.123}` (time in Unix seconds).
 */
import { promises as fs } from 'node:fs';
import { replaceFileAtomic } from './checkpoint/durable-fs';

export const METRICS_FILE = 'metrics.jsonl';

/** One line of `metrics.jsonl`: `step`, `time` and named values. */
export type MetricsRecord = { step: number; time: number } & Record<string, number>;

/** Append records to a metrics file. */
export async function appendMetrics(file: string, records: MetricsRecord[]): Promise<void> {
  if (records.length === 0) return;
  await fs.appendFile(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/** Read a metrics file; a torn last line (crash mid-append) is skipped. Missing file: []. */
export async function readMetrics(file: string): Promise<MetricsRecord[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return [];
  }
  const records: MetricsRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as MetricsRecord);
    } catch {
      // A line cut short by a crash; everything before it is intact.
    }
  }
  return records;
}

/**
 * Drop records after `step` (a resumed run replays those steps and logs them again), rewriting
 * the file atomically.
 */
export async function truncateMetrics(file: string, step: number): Promise<void> {
  const records = await readMetrics(file);
  const kept = records.filter((r) => r.step <= step);
  await replaceFileAtomic(file, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
}
