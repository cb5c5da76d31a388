/**
 * CIFAR-10 binary version (https://www.cs.toronto.edu/~kriz/cifar.html): `data_batch_1.bin` ...
 * `data_batch_5.bin` and `test_batch.bin`, each a run of 3073-byte records: one label byte, then
 * 1024 red, 1024 green and 1024 blue bytes of a 32x32 image, row-major. Class names come from
 * `batches.meta.txt`, one per line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GensynthError, getLogger, invalidArgument } from '@gensynth/core';
import { fromArrays, type ArrayDatasetOptions } from './arrays';
import type { ImageDataset } from './dataset';

export const CIFAR_RECORD_BYTES = 3073;
const SIDE = 32;
const PLANE = SIDE * SIDE;

export interface Cifar10Options extends ArrayDatasetOptions {
  /** `'train'` (data_batch_1..5, default), `'test'` (test_batch) or `'all'`. */
  split?: 'train' | 'test' | 'all';
  /** 3 (default) or 1 (ITU-R 601-2 luma). */
  channels?: 1 | 3;
}

/** Records of one batch file -> HWC pixels and labels; a size not a multiple of 3073 is an error. */
export function readCifarBatch(file: string): { pixels: Uint8Array; labels: Uint8Array } {
  const bytes = fs.readFileSync(file);
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD_BYTES !== 0) {
    throw new GensynthError('DATA_FORMAT', {
      where: file,
      expected: `a size that is a multiple of the ${CIFAR_RECORD_BYTES}-byte CIFAR-10 record`,
      received: `${bytes.length} bytes (${Math.floor(bytes.length / CIFAR_RECORD_BYTES)} records and ${bytes.length % CIFAR_RECORD_BYTES} bytes over)`,
      fix: 'The file is truncated or not a CIFAR-10 binary batch; re-download cifar-10-binary.tar.gz.',
    });
  }
  const n = bytes.length / CIFAR_RECORD_BYTES;
  const pixels = new Uint8Array(n * PLANE * 3);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const base = r * CIFAR_RECORD_BYTES;
    labels[r] = bytes[base] as number;
    const out = r * PLANE * 3;
    for (let p = 0; p < PLANE; p++) {
      pixels[out + 3 * p] = bytes[base + 1 + p] as number; // R plane
      pixels[out + 3 * p + 1] = bytes[base + 1 + PLANE + p] as number; // G plane
      pixels[out + 3 * p + 2] = bytes[base + 1 + 2 * PLANE + p] as number; // B plane
    }
  }
  return { pixels, labels };
}

function classNames(dir: string): string[] {
  const meta = path.join(dir, 'batches.meta.txt');
  if (!fs.existsSync(meta)) {
    getLogger().warn(`cifar10: ${meta} not found; class names are the label numbers`);
    return Array.from({ length: 10 }, (_, i) => String(i));
  }
  return fs
    .readFileSync(meta, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** CIFAR-10 from the folder of the binary version (`cifar-10-batches-bin`). */
export function cifar10(dir: string, options: Cifar10Options = {}): ImageDataset {
  const split = options.split ?? 'train';
  if (!['train', 'test', 'all'].includes(split)) {
    throw invalidArgument(
      'cifar10(split)',
      "'train', 'test' or 'all'",
      split,
      "Pass split: 'train'.",
    );
  }
  const train = [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`);
  const names =
    split === 'train'
      ? train
      : split === 'test'
        ? ['test_batch.bin']
        : [...train, 'test_batch.bin'];
  const files = names.map((n) => path.join(dir, n));
  const missing = files.filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    throw new GensynthError('DATA_NOT_FOUND', {
      where: 'cifar10(dir)',
      expected: `${names.join(', ')} in ${dir}`,
      received: `missing ${missing.map((f) => path.basename(f)).join(', ')}`,
      fix: 'Pass the cifar-10-batches-bin folder extracted from cifar-10-binary.tar.gz.',
    });
  }
  const parts = files.map(readCifarBatch);
  const n = parts.reduce((a, p) => a + p.labels.length, 0);
  let pixels = new Uint8Array(n * PLANE * 3);
  const labels = new Uint8Array(n);
  let at = 0;
  for (const part of parts) {
    pixels.set(part.pixels, at * PLANE * 3);
    labels.set(part.labels, at);
    at += part.labels.length;
  }
  const names10 = classNames(dir);
  if (labels.some((l) => l >= names10.length)) {
    throw new GensynthError('DATA_FORMAT', {
      where: 'cifar10',
      expected: `labels below ${names10.length} (the class names in batches.meta.txt)`,
      received: `label ${Math.max(...labels)}`,
      fix: 'Check that the files are CIFAR-10, not CIFAR-100.',
    });
  }
  if (options.channels === 1) {
    const gray = new Uint8Array(n * PLANE);
    for (let i = 0; i < gray.length; i++) {
      gray[i] =
        (19595 * (pixels[3 * i] as number) +
          38470 * (pixels[3 * i + 1] as number) +
          7471 * (pixels[3 * i + 2] as number) +
          32768) >>>
        16;
    }
    pixels = gray;
  }
  return fromArrays(pixels, [n, SIDE, SIDE, options.channels ?? 3], labels, {
    name: `cifar10/${split}`,
    classNames: names10,
    ...options,
    details: {
      source: 'cifar10',
      dir: path.resolve(dir),
      split,
      files: files.map((f) => path.basename(f)),
    },
  });
}
