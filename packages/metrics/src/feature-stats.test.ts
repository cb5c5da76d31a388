import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { isGensynthError } from '@gensynth/core';
import { FeatureStats } from './feature-stats';
import { useCpuBackend } from './testing/backend';
import { expectClose, readVectors } from './testing/vectors';

beforeAll(useCpuBackend);

describe('FeatureStats', () => {
  it('gives the hand-computed mean and (n-1)-normalised covariance of a small case', () => {
    // x = (1, 2), (3, 6), (5, 7): mean (3, 5); deviations (-2,-3), (0,1), (2,2)
    // cov = [[8, 10], [10, 14]] / 2
    const stats = new FeatureStats(2).update([[1, 2]]).update([
      [3, 6],
      [5, 7],
    ]);
    expect(Array.from(stats.mean())).toEqual([3, 5]);
    expect(Array.from(stats.covariance())).toEqual([4, 5, 5, 7]);
    expect(stats.count).toBe(3);
  });

  it('keeps full precision for features with a large common offset', () => {
    // raw sums of squares would lose every digit here; the variance is exactly 1 for (-1, 0, 1)
    const offset = 1e9;
    const stats = new FeatureStats(1).update([[offset - 1], [offset]]).update([[offset + 1]]);
    expect(stats.covariance()[0]).toBe(1);
    expect(stats.mean()[0]).toBe(offset);
  });

  it('matches numpy mean/cov of the fid vectors, streamed in uneven batches', () => {
    const c = readVectors('fid_vectors.json').cases.find(
      (x: { id: string }) => x.id === 'fid_gauss_200x16_vs_300x16',
    );
    const streamed = new FeatureStats(16);
    const sizes = [1, 2, 50, 3, 97, 47];
    let start = 0;
    for (const size of sizes) {
      streamed.update(c.features1.slice(start, start + size));
      start += size;
    }
    const oneShot = new FeatureStats(16).update(c.features1);
    const mean = streamed.mean();
    const cov = streamed.covariance();
    const oneShotCov = oneShot.covariance();
    for (let i = 0; i < 16; i++) {
      expectClose(mean[i]!, c.mu1[i], 1e-13, 1e-15);
      for (let j = 0; j < 16; j++) {
        expectClose(cov[i * 16 + j]!, c.sigma1[i][j], 1e-12, 1e-14);
        expectClose(cov[i * 16 + j]!, oneShotCov[i * 16 + j]!, 1e-12, 1e-14);
      }
    }
  });

  it('merges two statistics as if all features were added to one', () => {
    const rows = Array.from({ length: 20 }, (_, i) => [Math.sin(i), Math.cos(3 * i), i / 7]);
    const a = new FeatureStats(3).update(rows.slice(0, 6));
    const b = new FeatureStats(3).update(rows.slice(6));
    const merged = a.merge(b);
    const direct = new FeatureStats(3).update(rows);
    merged.covariance().forEach((v, i) => expectClose(v, direct.covariance()[i]!, 1e-13, 1e-15));
  });

  it('accepts [B, D] tensors synchronously and asynchronously without disposing them', async () => {
    const features = tf.tensor2d([
      [1, 2],
      [3, 6],
      [5, 7],
    ]);
    const before = tf.memory().numTensors;
    const sync = new FeatureStats(2).update(features);
    const viaAsync = await new FeatureStats(2).updateAsync(features);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(sync.covariance())).toEqual([4, 5, 5, 7]);
    expect(Array.from(viaAsync.covariance())).toEqual([4, 5, 5, 7]);
    features.dispose();
  });

  it('round-trips through JSON and a file bit for bit', async () => {
    const rows = Array.from({ length: 9 }, (_, i) => [Math.PI * i, Math.exp(-i), 1 / (i + 1)]);
    const stats = new FeatureStats(3, { extractor: 'test' }).update(rows);
    const restored = FeatureStats.fromJSON(JSON.parse(JSON.stringify(stats.toJSON())));
    expect(restored.count).toBe(9);
    expect(restored.extractor).toBe('test');
    expect(Array.from(restored.mean())).toEqual(Array.from(stats.mean()));
    expect(Array.from(restored.covariance())).toEqual(Array.from(stats.covariance()));

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gensynth-stats-'));
    const file = path.join(dir, 'stats.json');
    await stats.save(file);
    const loaded = await FeatureStats.load(file);
    expect(Array.from(loaded.covariance())).toEqual(Array.from(stats.covariance()));
    // restored statistics keep streaming
    restored.update([[1, 2, 3]]);
    const direct = new FeatureStats(3).update([...rows, [1, 2, 3]]);
    restored.covariance().forEach((v, i) => expectClose(v, direct.covariance()[i]!, 1e-13, 1e-15));
    fs.rmSync(dir, { recursive: true });
  });

  it('rejects features of the wrong width, non-finite values and corrupt JSON', () => {
    const stats = new FeatureStats(2);
    expect(() => stats.update([[1, 2, 3]])).toThrow(
      'FeatureStats.update(features): expected [B, 2] features; received [1, 3]. Use one extractor for all batches of a FeatureStats.',
    );
    expect(() => stats.update([[1, NaN]])).toThrow(
      /finite feature values; received NaN at row 0, column 1/,
    );
    const json = new FeatureStats(2)
      .update([
        [1, 2],
        [3, 4],
      ])
      .toJSON();
    try {
      FeatureStats.fromJSON({ ...json, comomentLower: json.mean });
      throw new Error('did not throw');
    } catch (error) {
      expect(isGensynthError(error, 'DATA_FORMAT')).toBe(true);
    }
    expect(() => new FeatureStats(1).update([[1]]).covariance()).toThrow(
      /at least 2 feature vectors/,
    );
  });

  it('reports a missing file as DATA_NOT_FOUND', async () => {
    await expect(FeatureStats.load('/nonexistent/stats.json')).rejects.toMatchObject({
      code: 'DATA_NOT_FOUND',
    });
  });
});
