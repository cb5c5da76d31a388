/**
 * `gensynth data inspect <source>`: what a dataset holds and which files it would skip.
 */
import { formatInspectReport, inspectSource, type SourceKind } from '@gensynth/data';

export const SOURCE_KINDS: readonly SourceKind[] = Object.freeze([
  'imageFolder',
  'cifar10',
  'mnistIdx',
  'mnistPackage',
  'emoji',
  'celebA',
  'lsun',
]);

export async function runInspect(source: string, opts: { type?: string; json?: boolean }): Promise<void> {
  const report = await inspectSource(source, opts.type ? { kind: opts.type as SourceKind } : {});
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatInspectReport(report)}\n`);
}
