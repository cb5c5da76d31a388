import { Rng } from '@gensynth/core';
import { useCpuBackend } from '../testing/tf-setup';
import { fromArrays } from './arrays';
import { ImageDataset } from './dataset';
import { epochOrder } from './stream';

/** N 1x1 gray images whose pixel value is the example index, labels = index % 3. */
function indexed(n: number) {
  return fromArrays(
    Uint8Array.from({ length: n }, (_, i) => i),
    [n, 1, 1, 1],
    Array.from({ length: n }, (_, i) => i % 3),
  );
}

async function ids(images: {
  data(): Promise<Float32Array | Int32Array | Uint8Array>;
}): Promise<number[]> {
  return Array.from(await images.data(), (v) => Math.round((v + 1) * 127.5));
}

beforeAll(useCpuBackend);

describe('epochOrder', () => {
  it('is a permutation, and a shuffle buffer keeps it one', () => {
    for (const buffer of [undefined, 1, 4, 100]) {
      const order = epochOrder(Rng.fromSeed(1), 50, true, buffer);
      expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
    expect(Array.from(epochOrder(Rng.fromSeed(1), 5, true, 1))).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps reads near sequential with a small buffer', () => {
    const order = epochOrder(Rng.fromSeed(2), 1000, true, 8);
    // Element k of the output came in at most... it cannot appear before position k - 8 + 1.
    order.forEach((value, position) => expect(value).toBeLessThanOrEqual(position + 8));
  });
});

describe('batch streams', () => {
  it('yields [B, H, W, C] float32 in [-1, 1] with int32 labels, covering the epoch', async () => {
    const ds = indexed(10);
    const seen: number[] = [];
    for await (const batch of ds.batches({ batchSize: 4, seed: 7, epochs: 1 })) {
      expect(batch.images.shape).toEqual([4, 1, 1, 1]);
      expect(batch.images.dtype).toBe('float32');
      expect(batch.labels?.dtype).toBe('int32');
      const batchIds = await ids(batch.images);
      expect(Array.from(await batch.labels!.data())).toEqual(batchIds.map((i) => i % 3));
      seen.push(...batchIds);
      batch.images.dispose();
      batch.labels?.dispose();
    }
    expect(seen).toHaveLength(8); // two full batches; the remainder of 2 is dropped
    expect(new Set(seen).size).toBe(8);
  });

  it('gives the same batches for the same seed and different ones for another', async () => {
    const take = async (seed: number) => {
      const stream = indexed(20).batches({ batchSize: 5, seed });
      const out: number[] = [];
      for (let k = 0; k < 6; k++) {
        const { value } = await stream.next();
        out.push(...(await ids(value.images)));
        value.images.dispose();
        value.labels?.dispose();
      }
      return out;
    };
    expect(await take(3)).toEqual(await take(3));
    expect(await take(3)).not.toEqual(await take(4));
  });

  it('resumes from a serialised cursor with the same next batch, across epochs', async () => {
    for (const shuffleBuffer of [undefined, 3]) {
      const full = indexed(11).batches({ batchSize: 3, seed: 5, shuffleBuffer });
      const reference: number[][] = [];
      let saved = '';
      for (let k = 0; k < 9; k++) {
        if (k === 4) saved = JSON.stringify(full.cursor());
        const { value } = await full.next();
        reference.push(await ids(value.images));
        value.images.dispose();
        value.labels?.dispose();
      }
      const cursor = JSON.parse(saved);
      expect(cursor.epoch).toBe(1); // 3 batches per epoch of 11
      const resumed = indexed(11).batches({ batchSize: 3, cursor, shuffleBuffer });
      for (let k = 4; k < 9; k++) {
        const { value } = await resumed.next();
        expect(await ids(value.images)).toEqual(reference[k]);
        value.images.dispose();
        value.labels?.dispose();
      }
    }
  });

  it('keeps the last smaller batch with dropRemainder false and stops after epochs', async () => {
    const sizes: number[] = [];
    for await (const batch of indexed(10).batches({
      batchSize: 4,
      shuffle: false,
      dropRemainder: false,
      epochs: 2,
    })) {
      sizes.push(batch.images.shape[0]);
      batch.images.dispose();
      batch.labels?.dispose();
    }
    expect(sizes).toEqual([4, 4, 2, 4, 4, 2]);
  });

  it('leaks no tensors when a stream is abandoned with prefetched batches', async () => {
    const tf = await useCpuBackend();
    const before = tf.memory().numTensors;
    const stream = indexed(40).batches({ batchSize: 4, prefetch: 4 });
    const { value } = await stream.next();
    value.images.dispose();
    value.labels?.dispose();
    await stream.return?.();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads the next prefetch batches ahead, and hands them out in order', async () => {
    const inner = indexed(40);
    const requested: number[][] = [];
    const ds = new ImageDataset(
      {
        size: inner.size,
        imageShape: inner.imageShape,
        read: (indices, out) => {
          requested.push(Array.from(indices));
          return inner.source.read(indices, out);
        },
      },
      { name: 'counted' },
    );
    for (const prefetch of [1, 3]) {
      requested.length = 0;
      const stream = ds.batches({ batchSize: 4, seed: 2, prefetch });
      const first = (await stream.next()).value;
      // The first batch, and then `prefetch` more already asked for before the consumer asks.
      expect(requested).toHaveLength(1 + prefetch);
      expect(await ids(first.images)).toEqual(requested[0]);
      first.images.dispose();
      const second = (await stream.next()).value;
      expect(await ids(second.images)).toEqual(requested[1]);
      second.images.dispose();
      await stream.return?.();
    }
  });

  it('explains a batch larger than the dataset', () => {
    expect(() => indexed(3).batches({ batchSize: 4 })).toThrow(
      /batches\(batchSize\): expected at most the dataset size 3/,
    );
  });
});
