/**
 * What a finished run prints: where everything is and what to run next.
 */
import path from 'node:path';
import type { ExperimentResult } from './experiment';

function rel(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r === '' ? '.' : r.startsWith('..') ? p : r;
}

/** A few lines: backend, steps, losses, metrics, artifact paths and follow-up commands. */
export function formatRunSummary(result: ExperimentResult): string {
  const run = rel(result.runDir);
  const losses = Object.entries(result.losses)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join(' | ');
  const metrics = Object.entries(result.metrics)
    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
    .join(' | ');
  const lines = [
    '',
    `run ${result.stopped} at step ${result.step} in ${(result.elapsedMs / 1000).toFixed(1)} s on ${result.backend.name}`,
    ...(losses ? [`  last losses   ${losses}`] : []),
    ...(metrics ? [`  metrics       ${metrics}`] : []),
    `  samples       ${path.join(run, 'samples')}/`,
    `  report        ${path.join(run, 'report.html')}`,
    `  checkpoints   ${path.join(run, 'checkpoints')}/`,
    `  TensorBoard   ${path.join(run, 'events')}/`,
    `  metrics log   ${path.join(run, 'metrics.jsonl')}`,
    '',
    'next:',
    // An interrupted run continues to its own total; a finished one needs a new one.
    result.stopped === 'aborted'
      ? `  npx gensynth resume ${run}`
      : `  npx gensynth resume ${run} --steps ${result.step * 2}`,
    // Into the run directory, so that following it from a checkout leaves no stray file.
    `  npx gensynth sample ${run} --n 64 --out ${path.join(run, 'grid.png')}`,
    `  tensorboard --logdir ${path.join(run, 'events')}`,
  ];
  return lines.join('\n');
}
