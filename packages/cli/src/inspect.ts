/**
 * `gensynth data inspect <source>`: what a dataset holds and which files it would skip.
 */
import {
  formatInspectReport,
  inspectSource,
  type InspectOptions,
  type SourceKind,
} from '@gensynth/data';

export const SOURCE_KINDS: readonly SourceKind[] = Object.freeze([
  'imageFolder',
  'cifar10',
  'mnistIdx',
  'mnistPackage',
  'emoji',
  'celebA',
  'lsun',
]);

export interface InspectCommandOptions {
  type?: string;
  json?: boolean;
  /** Decode every image, so truncated and corrupt files are listed too (not only bad headers). */
  full?: boolean;
  /** IDX labels file, for an MNIST images file. */
  labels?: string;
  /** CIFAR-10 or CelebA split. */
  split?: string;
}

export async function runInspect(source: string, opts: InspectCommandOptions): Promise<void> {
  const options: InspectOptions = {
    ...(opts.type ? { kind: opts.type as SourceKind } : {}),
    ...(opts.full ? { full: true } : {}),
    ...(opts.labels ? { labels: opts.labels } : {}),
    ...(opts.split ? { split: opts.split } : {}),
  };
  const report = await inspectSource(source, options);
  const text = opts.json ? JSON.stringify(report, null, 2) : formatInspectReport(report);
  process.stdout.write(`${text}\n`);
}
