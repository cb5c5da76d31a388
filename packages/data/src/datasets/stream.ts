/**
 * Seeded, resumable batch streams.
 *
 * The order of epoch e is a pure function of the generator state at the start of epoch e: a
 * full permutation (default) or, with `shuffleBuffer: K`, the order a K-slot shuffle buffer
 * produces over 0..N-1 (reads stay near sequential, for LMDB and large folders). The cursor
 * stores `{ epoch, index, rng }` with `rng` the state at the start of the epoch, so a stream
 * built from a saved cursor recomputes the same order and continues with the same next batch.
 * Reads of the next `prefetch` batches run ahead; tensors are created only when a batch is
 * handed out, so a stream that is abandoned leaks nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  invalidArgument,
  Rng,
  type Batch,
  type BatchOptions,
  type BatchStream,
  type DataCursor,
  type RngState,
} from '@gensynth/core';
import type { ImageDataset } from './dataset';

export interface StreamOptions extends BatchOptions {
  /** Shuffle with a buffer of this many slots instead of a full permutation. */
  shuffleBuffer?: number;
  /** Batches read ahead of the consumer (default 2). */
  prefetch?: number;
}

export const STREAM_DEFAULTS = Object.freeze({
  seed: 0,
  shuffle: true,
  dropRemainder: true,
  prefetch: 2,
});

/** The order of one epoch; advances `rng` exactly as far as the order needs. */
export function epochOrder(
  rng: Rng,
  size: number,
  shuffle: boolean,
  shuffleBuffer?: number,
): Int32Array {
  if (!shuffle) return Int32Array.from({ length: size }, (_, i) => i);
  if (shuffleBuffer === undefined || shuffleBuffer >= size) return rng.permutation(size);
  const order = new Int32Array(size);
  const buffer = Array.from({ length: Math.min(shuffleBuffer, size) }, (_, i) => i);
  let out = 0;
  for (let next = buffer.length; next < size; next++) {
    const slot = rng.nextInt(buffer.length);
    order[out++] = buffer[slot] as number;
    buffer[slot] = next;
  }
  for (const i of rng.shuffle(buffer)) order[out++] = i;
  return order;
}

interface Pending {
  indices: Int32Array;
  pixels: Promise<Uint8Array>;
  after: DataCursor;
}

function checkOptions(dataset: ImageDataset, o: StreamOptions): void {
  const where = `${dataset.name}.batches`;
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
    throw invalidArgument(
      `${where}(batchSize)`,
      'a positive integer',
      o.batchSize,
      'Pass e.g. { batchSize: 64 }.',
    );
  }
  if ((o.dropRemainder ?? true) && o.batchSize > dataset.size) {
    throw invalidArgument(
      `${where}(batchSize)`,
      `at most the dataset size ${dataset.size} when dropRemainder is true`,
      o.batchSize,
      'Use a smaller batch size, or pass dropRemainder: false.',
    );
  }
  if (
    o.shuffleBuffer !== undefined &&
    !(Number.isInteger(o.shuffleBuffer) && o.shuffleBuffer > 0)
  ) {
    throw invalidArgument(
      `${where}(shuffleBuffer)`,
      'a positive integer',
      o.shuffleBuffer,
      'Pass e.g. 1024, or omit for a full shuffle.',
    );
  }
  const c = o.cursor;
  if (
    c !== undefined &&
    !(
      Number.isInteger(c.epoch) &&
      c.epoch >= 0 &&
      Number.isInteger(c.index) &&
      c.index >= 0 &&
      c.index <= dataset.size
    )
  ) {
    throw invalidArgument(
      `${where}(cursor)`,
      `{ epoch, index in [0, ${dataset.size}], rng }`,
      c,
      'Pass a cursor saved from stream.cursor() of the same dataset.',
    );
  }
}

/** See the file comment. Called by `ImageDataset.batches`. */
export function createBatchStream(dataset: ImageDataset, options: StreamOptions): BatchStream {
  checkOptions(dataset, options);
  const o = { ...STREAM_DEFAULTS, ...options };
  const { height, width, channels } = dataset.imageShape;
  const imageBytes = height * width * channels;
  const size = dataset.size;

  // Planning state: the position of the next batch to *schedule* (ahead of the consumer).
  const rng = o.cursor ? Rng.fromState(o.cursor.rng) : Rng.fromSeed(o.seed);
  let epoch = o.cursor?.epoch ?? 0;
  let index = o.cursor?.index ?? 0;
  let epochState: RngState = rng.state();
  let order = epochOrder(rng, size, o.shuffle, o.shuffleBuffer);
  let consumerCursor: DataCursor = { epoch, index, rng: epochState };

  const epochDone = () => (o.dropRemainder ? index + o.batchSize > size : index >= size);
  const normalise = () => {
    while (epochDone()) {
      epoch += 1;
      index = 0;
      epochState = rng.state();
      order = epochOrder(rng, size, o.shuffle, o.shuffleBuffer);
    }
  };
  normalise();
  consumerCursor = { epoch, index, rng: epochState };
  const finished = () => o.epochs !== undefined && epoch >= o.epochs;

  const queue: Pending[] = [];
  const schedule = () => {
    while (queue.length < Math.max(1, o.prefetch) && !finished()) {
      const indices = order.slice(index, Math.min(index + o.batchSize, size));
      const pixels = new Uint8Array(indices.length * imageBytes);
      index += indices.length;
      normalise();
      const after = { epoch, index, rng: epochState };
      const read = Promise.resolve()
        .then(() => dataset.source.read(indices, pixels))
        .then(() => pixels);
      read.catch(() => undefined); // reported when the consumer reaches this batch
      queue.push({ indices, after, pixels: read });
    }
  };

  const stream: BatchStream = {
    async next(): Promise<IteratorResult<Batch>> {
      schedule();
      const head = queue.shift();
      if (!head) return { done: true, value: undefined };
      const pixels = await head.pixels;
      consumerCursor = head.after;
      schedule();
      const n = head.indices.length;
      const values = new Float32Array(pixels.length);
      for (let i = 0; i < pixels.length; i++) values[i] = (pixels[i] as number) / 127.5 - 1;
      const images = tf.tensor4d(values, [n, height, width, channels], 'float32');
      const all = dataset.labels;
      if (!all) return { done: false, value: { images } };
      const labels = tf.tensor1d(
        head.indices.map((i) => all[i] as number),
        'int32',
      );
      return { done: false, value: { images, labels } };
    },
    async return(): Promise<IteratorResult<Batch>> {
      queue.length = 0;
      return { done: true, value: undefined };
    },
    cursor(): DataCursor {
      return {
        epoch: consumerCursor.epoch,
        index: consumerCursor.index,
        rng: { ...consumerCursor.rng, key: [...consumerCursor.rng.key] },
      };
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
