import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, FeatureExtractor } from '@gensynth/core';
import { computeFid, datasetStatistics, extractFeatures, extractStatistics } from './compute';
import { FeatureStats } from './feature-stats';
import { frechetDistance } from './fid';
import { useCpuBackend } from './testing/backend';

beforeAll(useCpuBackend);

/** Features = per-channel spatial mean and max: [B, 2C]. Independent of the code under test. */
const meanMaxExtractor: FeatureExtractor = {
  name: 'mean-max',
  inputSize: [4, 4],
  inputChannels: 3,
  inputRange: [-1, 1],
  featureDim: 6,
  extract: (images) =>
    tf.tidy(() => tf.concat([tf.mean(images, [1, 2]), tf.max(images, [1, 2])], 1) as tf.Tensor2D),
  dispose: () => undefined,
};

function images(n: number, seed: number, shift = 0): tf.Tensor4D {
  return tf.tidy(() =>
    tf.add(tf.randomUniform([n, 4, 4, 3], -1, 1, 'float32', seed), shift),
  ) as tf.Tensor4D;
}

async function* batchesOf(all: tf.Tensor4D, size: number): AsyncGenerator<Batch> {
  for (let start = 0; start < all.shape[0]; start += size) {
    const count = Math.min(size, all.shape[0] - start);
    yield {
      images: tf.slice(all, [start, 0, 0, 0], [count, -1, -1, -1]),
      labels: tf.zeros([count], 'int32'),
    };
  }
}

describe('computeFid', () => {
  it('equals the FID of statistics of all features, for tensors and batch streams, without leaks', async () => {
    const real = images(23, 1);
    const fake = images(17, 2, 0.1);
    const [realFeatures, fakeFeatures] = [real, fake].map((x) => meanMaxExtractor.extract(x));
    const expected = frechetDistance(
      new FeatureStats(6).update(realFeatures!),
      new FeatureStats(6).update(fakeFeatures!),
    );
    tf.dispose([realFeatures!, fakeFeatures!]);
    const before = tf.memory().numTensors;
    const result = await computeFid({
      extractor: meanMaxExtractor,
      real,
      fake: batchesOf(fake, 5),
      batchSize: 4,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.fid).toBeCloseTo(expected, 10);
    expect(result.real.count).toBe(23);
    expect(result.fake.count).toBe(17);
    expect(result.real.extractor).toBe('mean-max');
    expect(real.isDisposed).toBe(false);
    tf.dispose([real, fake]);
  });

  it('reuses saved reference statistics and stops a sampler at maxImages', async () => {
    const real = images(30, 3);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gensynth-fid-'));
    const file = path.join(dir, 'real.json');
    await datasetStatistics({
      extractor: meanMaxExtractor,
      images: real,
      path: file,
      batchSize: 7,
    });
    const reference = await FeatureStats.load(file);
    const calls: number[] = [];
    const sampler = (n: number, index: number) => {
      calls.push(n);
      return images(n, 100 + index, 0.2);
    };
    const before = tf.memory().numTensors;
    const result = await computeFid({
      extractor: meanMaxExtractor,
      real: reference,
      fake: sampler,
      maxImages: 12,
      batchSize: 5,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(calls).toEqual([5, 5, 2]);
    expect(result.fake.count).toBe(12);
    const direct = await extractStatistics(meanMaxExtractor, real);
    expect(result.fid).toBeCloseTo(frechetDistance(direct, result.fake), 10);
    tf.dispose(real);
    fs.rmSync(dir, { recursive: true });
  });

  it('requires maxImages for a sampler', async () => {
    const real = images(3, 1);
    await expect(
      computeFid({ extractor: meanMaxExtractor, real, fake: (n) => images(n, 1) }),
    ).rejects.toThrow(/^extractStatistics\(maxImages\): expected a number of images for a sampler/);
  });
});

describe('extractFeatures', () => {
  it('collects [N, D] rows in order and disposes stream batches', async () => {
    const all = images(9, 4);
    const seen: Batch[] = [];
    async function* tracked() {
      for await (const batch of batchesOf(all, 4)) {
        seen.push(batch);
        yield batch;
      }
    }
    const rows = await extractFeatures(meanMaxExtractor, tracked(), { maxImages: 6 });
    expect([rows.rows, rows.cols]).toEqual([6, 6]);
    const direct = meanMaxExtractor.extract(all);
    const expected = (await direct.data()).slice(0, 36);
    Array.from(rows.values).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    expect(seen.every((b) => b.images.isDisposed && b.labels!.isDisposed)).toBe(true);
    tf.dispose([all, direct]);
  });
});
