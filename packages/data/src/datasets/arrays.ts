/**
 * In-memory datasets: one uint8 buffer `[N, H, W, C]` and optional int32 labels. Batches are
 * built from slices of the buffer, so there is no per-example allocation and nothing to leak.
 */
import { invalidArgument, type ImageShape } from '@gensynth/core';
import { fitImage, type FitOptions } from '../transforms/fit';
import { ImageDataset, type DatasetInfo, type ExampleSource } from './dataset';

export interface ArrayDatasetOptions extends FitOptions {
  name?: string;
  classNames?: readonly string[];
  /** Resize/pad every image once, at load, to this `[H, W]` (see `fit`). */
  imageSize?: [number, number] | number;
  details?: Record<string, unknown>;
}

export function toSize(size: [number, number] | number): [number, number] {
  return typeof size === 'number' ? [size, size] : size;
}

/** A source over one contiguous uint8 buffer of equally-shaped images. */
export function arraySource(
  pixels: Uint8Array,
  imageShape: ImageShape,
  size: number,
  labels?: Int32Array,
): ExampleSource {
  const bytes = imageShape.height * imageShape.width * imageShape.channels;
  return {
    size,
    imageShape,
    ...(labels ? { labels } : {}),
    read(indices, out) {
      indices.forEach((i, k) => out.set(pixels.subarray(i * bytes, (i + 1) * bytes), k * bytes));
    },
  };
}

/**
 * A dataset from uint8 pixels `[N, H, W, C]` (row-major, C = 1, 3 or 4) and optional labels
 * (`N` class ids, int). `options.imageSize` fits every image once to that size.
 */
export function fromArrays(
  pixels: Uint8Array,
  shape: [number, number, number, number],
  labels?: ArrayLike<number>,
  options: ArrayDatasetOptions = {},
): ImageDataset {
  const [n, h, w, c] = shape;
  if (![1, 3, 4].includes(c) || !shape.every((v) => Number.isInteger(v) && v > 0)) {
    throw invalidArgument(
      'fromArrays(shape)',
      '[N, H, W, C] positive integers with C = 1, 3 or 4',
      shape,
      'Pass e.g. [10000, 28, 28, 1].',
    );
  }
  if (pixels.length !== n * h * w * c) {
    throw invalidArgument(
      'fromArrays(pixels)',
      `${n * h * w * c} bytes for shape [${shape.join(', ')}]`,
      `${pixels.length} bytes`,
      'Pass N*H*W*C uint8 values.',
    );
  }
  let labelArray: Int32Array | undefined;
  if (labels !== undefined) {
    labelArray = Int32Array.from(labels);
    if (labelArray.length !== n || !labelArray.every((v) => v >= 0)) {
      throw invalidArgument(
        'fromArrays(labels)',
        `${n} non-negative class ids`,
        `${labelArray.length} labels`,
        'Pass one class id per image.',
      );
    }
  }
  const [outH, outW] = options.imageSize ? toSize(options.imageSize) : [h, w];
  let data = pixels;
  if (outH !== h || outW !== w) {
    const inBytes = h * w * c;
    data = new Uint8Array(n * outH * outW * c);
    for (let i = 0; i < n; i++) {
      data.set(
        fitImage(pixels.subarray(i * inBytes, (i + 1) * inBytes), h, w, c, [outH, outW], options),
        i * outH * outW * c,
      );
    }
  }
  const imageShape: ImageShape = {
    height: outH,
    width: outW,
    channels: c as ImageShape['channels'],
  };
  const info: DatasetInfo = {
    name: options.name ?? 'arrays',
    details: { source: 'arrays', ...options.details },
  };
  const maxLabel = labelArray ? labelArray.reduce((a, b) => Math.max(a, b), -1) : -1;
  if (options.classNames) info.classNames = options.classNames;
  else if (labelArray) info.classNames = Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  return new ImageDataset(arraySource(data, imageShape, n, labelArray), info);
}
