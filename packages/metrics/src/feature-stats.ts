/**
 * Streamed mean and covariance of features in float64.
 *
 * Each batch is centred on its own mean and merged with the running totals by the pairwise
 * update of Chan, Golub & LeVeque (1979):
 *   delta = mean_b - mean
 *   M2   += C_b + delta delta^T * n n_b / (n + n_b)      (C_b: the batch's centred co-moment)
 *   mean += delta * n_b / (n + n_b)
 * and `covariance() = M2 / (n - 1)`, numpy.cov's convention. No sum of raw squares is kept, so
 * features with a large mean lose no precision.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { GensynthError, invalidArgument } from '@gensynth/core';
import { base64ToFloat64, float64ToBase64 } from './encoding';
import { assertFinite, toMatrix64, type FeatureMatrix, type Matrix64 } from './features';

export const FEATURE_STATS_FORMAT = 'gensynth.feature-stats';
export const FEATURE_STATS_VERSION = 1;

/** The plain-JSON form written by `toJSON()` and `save()`. */
export interface FeatureStatsJSON {
  format: typeof FEATURE_STATS_FORMAT;
  version: number;
  dim: number;
  count: number;
  /** Name of the feature extractor, when known (FID is only meaningful between equal names). */
  extractor?: string;
  encoding: 'float64-le-base64';
  /** `[D]` mean. */
  mean: string;
  /** Lower triangle of the co-moment `M2`, row by row: `M2[i][j]` for `j <= i`. */
  comomentLower: string;
}

/** Mean and covariance given directly (e.g. published reference statistics). */
export interface GaussianMoments {
  /** `[D]` */
  mean: ArrayLike<number>;
  /** `[D, D]` as rows, or flat row-major `[D * D]`. */
  covariance: ArrayLike<number> | ArrayLike<number>[];
}

export class FeatureStats {
  readonly dim: number;
  /** Name of the extractor that produced the features, if set. */
  extractor: string | undefined;
  private n = 0;
  private readonly runningMean: Float64Array;
  /** `[D, D]`; only the lower triangle is kept up to date. */
  private readonly comoment: Float64Array;

  /** Empty statistics of `dim`-dimensional features. */
  constructor(dim: number, options: { extractor?: string } = {}) {
    if (!Number.isInteger(dim) || dim < 1) {
      throw invalidArgument(
        'new FeatureStats(dim)',
        'an integer >= 1',
        dim,
        'Pass the feature dimension D, e.g. extractor.featureDim.',
      );
    }
    this.dim = dim;
    this.extractor = options.extractor;
    this.runningMean = new Float64Array(dim);
    this.comoment = new Float64Array(dim * dim);
  }

  /** Number of feature vectors seen. */
  get count(): number {
    return this.n;
  }

  /**
   * Add a batch of features `[B, D]`. A tensor is read with `dataSync()`; in async code prefer
   * `updateAsync`. The input is not disposed.
   */
  update(features: FeatureMatrix): this {
    const batch = toMatrix64(features, 'FeatureStats.update(features)');
    return this.addBatch(batch);
  }

  /** `update` for a `[B, D]` tensor, reading it without blocking. The tensor is not disposed. */
  async updateAsync(features: tf.Tensor2D): Promise<this> {
    if (features.rank !== 2) {
      throw invalidArgument(
        'FeatureStats.updateAsync(features)',
        'a [B, D] tensor',
        `shape [${features.shape}]`,
        'Pass extractor output of rank 2.',
      );
    }
    const [rows, cols] = features.shape;
    const values = Float64Array.from(await features.data());
    return this.addBatch({ values, rows, cols });
  }

  private addBatch(batch: Matrix64): this {
    const d = this.dim;
    if (batch.cols !== d) {
      throw new GensynthError('SHAPE_MISMATCH', {
        where: 'FeatureStats.update(features)',
        expected: `[B, ${d}] features`,
        received: `[${batch.rows}, ${batch.cols}]`,
        fix: 'Use one extractor for all batches of a FeatureStats.',
      });
    }
    if (batch.rows === 0) return this;
    assertFinite(batch, 'FeatureStats.update(features)');
    const b = batch.rows;

    // batch mean and centred columns, transposed to [D, B] for contiguous dot products
    const batchMean = new Float64Array(d);
    for (let r = 0; r < b; r++) {
      for (let i = 0; i < d; i++) batchMean[i]! += batch.values[r * d + i]!;
    }
    for (let i = 0; i < d; i++) batchMean[i]! /= b;
    const centred = new Float64Array(d * b);
    for (let r = 0; r < b; r++) {
      for (let i = 0; i < d; i++) centred[i * b + r] = batch.values[r * d + i]! - batchMean[i]!;
    }
    const batchComoment = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      const ci = i * b;
      for (let j = 0; j <= i; j++) {
        const cj = j * b;
        let sum = 0;
        for (let r = 0; r < b; r++) sum += centred[ci + r]! * centred[cj + r]!;
        batchComoment[i * d + j] = sum;
      }
    }
    this.mergeMoments(b, batchMean, batchComoment);
    return this;
  }

  /** Add the statistics of another `FeatureStats` (same `dim`) as if its features came here. */
  merge(other: FeatureStats): this {
    if (other.dim !== this.dim) {
      throw new GensynthError('SHAPE_MISMATCH', {
        where: 'FeatureStats.merge(other)',
        expected: `statistics of dimension ${this.dim}`,
        received: `dimension ${other.dim}`,
        fix: 'Merge only statistics computed with the same extractor.',
      });
    }
    if (other.n > 0) this.mergeMoments(other.n, other.runningMean, other.comoment);
    return this;
  }

  private mergeMoments(nb: number, meanB: Float64Array, comomentB: Float64Array): void {
    const d = this.dim;
    const total = this.n + nb;
    const weight = (this.n * nb) / total;
    const delta = new Float64Array(d);
    for (let i = 0; i < d; i++) delta[i] = meanB[i]! - this.runningMean[i]!;
    for (let i = 0; i < d; i++) {
      const row = i * d;
      const di = delta[i]! * weight;
      for (let j = 0; j <= i; j++) this.comoment[row + j]! += comomentB[row + j]! + di * delta[j]!;
    }
    for (let i = 0; i < d; i++) this.runningMean[i]! += (delta[i]! * nb) / total;
    this.n = total;
  }

  /** `[D]` mean (a copy). */
  mean(): Float64Array {
    return Float64Array.from(this.runningMean);
  }

  /** `[D, D]` row-major covariance, `M2 / (n - 1)` as `numpy.cov(x, rowvar=False)`. */
  covariance(): Float64Array {
    if (this.n < 2) {
      throw invalidArgument(
        'FeatureStats.covariance()',
        'at least 2 feature vectors',
        `count ${this.n}`,
        'Add more images before computing statistics.',
      );
    }
    const d = this.dim;
    const result = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        const value = this.comoment[i * d + j]! / (this.n - 1);
        result[i * d + j] = value;
        result[j * d + i] = value;
      }
    }
    return result;
  }

  /** Plain JSON (base64 float64), exact: `fromJSON(toJSON())` reproduces every bit. */
  toJSON(): FeatureStatsJSON {
    const d = this.dim;
    const lower = new Float64Array((d * (d + 1)) / 2);
    let k = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) lower[k++] = this.comoment[i * d + j]!;
    return {
      format: FEATURE_STATS_FORMAT,
      version: FEATURE_STATS_VERSION,
      dim: d,
      count: this.n,
      ...(this.extractor !== undefined ? { extractor: this.extractor } : {}),
      encoding: 'float64-le-base64',
      mean: float64ToBase64(this.runningMean),
      comomentLower: float64ToBase64(lower),
    };
  }

  static fromJSON(json: FeatureStatsJSON): FeatureStats {
    const where = 'FeatureStats.fromJSON(json)';
    if (json?.format !== FEATURE_STATS_FORMAT || json.version !== FEATURE_STATS_VERSION) {
      throw new GensynthError('DATA_FORMAT', {
        where,
        expected: `{ format: '${FEATURE_STATS_FORMAT}', version: ${FEATURE_STATS_VERSION} }`,
        received: `format ${JSON.stringify(json?.format)}, version ${JSON.stringify(json?.version)}`,
        fix: 'Pass an object written by FeatureStats.toJSON() or FeatureStats.save().',
      });
    }
    const stats = new FeatureStats(json.dim, { extractor: json.extractor });
    const d = json.dim;
    const mean = base64ToFloat64(json.mean);
    const lower = base64ToFloat64(json.comomentLower);
    if (!mean || mean.length !== d || !lower || lower.length !== (d * (d + 1)) / 2) {
      throw new GensynthError('DATA_FORMAT', {
        where,
        expected: `a ${d}-value mean and ${(d * (d + 1)) / 2}-value co-moment`,
        received: `${mean?.length ?? 'undecodable'} and ${lower?.length ?? 'undecodable'} values`,
        fix: 'The file is truncated or edited; compute the statistics again.',
      });
    }
    if (!Number.isInteger(json.count) || json.count < 0) {
      throw new GensynthError('DATA_FORMAT', {
        where,
        expected: 'an integer count >= 0',
        received: String(json.count),
        fix: 'Compute the statistics again.',
      });
    }
    stats.runningMean.set(mean);
    let k = 0;
    for (let i = 0; i < d; i++)
      for (let j = 0; j <= i; j++) stats.comoment[i * d + j] = lower[k++]!;
    stats.n = json.count;
    return stats;
  }

  /**
   * Statistics from a given mean and covariance (`numpy.cov` convention) of `count` samples,
   * e.g. published reference statistics. `count` only matters for later `update`/`merge` calls.
   */
  static fromMoments(
    moments: GaussianMoments,
    count: number,
    options: { extractor?: string } = {},
  ): FeatureStats {
    const d = moments.mean.length;
    const covariance = flattenSquare(moments.covariance, d, 'FeatureStats.fromMoments(covariance)');
    if (!Number.isInteger(count) || count < 2) {
      throw invalidArgument(
        'FeatureStats.fromMoments(count)',
        'an integer >= 2',
        count,
        'Pass the number of samples the moments came from.',
      );
    }
    const stats = new FeatureStats(d, options);
    for (let i = 0; i < d; i++) stats.runningMean[i] = moments.mean[i]!;
    for (let i = 0; i < d * d; i++) stats.comoment[i] = covariance[i]! * (count - 1);
    stats.n = count;
    return stats;
  }

  /** Write `toJSON()` to a file (Node only). */
  async save(path: string): Promise<void> {
    const fs = await import('node:fs/promises');
    await fs.writeFile(path, JSON.stringify(this.toJSON()));
  }

  /** Read statistics written by `save()` (Node only). */
  static async load(path: string): Promise<FeatureStats> {
    const fs = await import('node:fs/promises');
    let text: string;
    try {
      text = await fs.readFile(path, 'utf8');
    } catch (error) {
      throw new GensynthError(
        'DATA_NOT_FOUND',
        {
          where: 'FeatureStats.load(path)',
          expected: 'a readable statistics file',
          received: JSON.stringify(path),
          fix: 'Check the path, or compute the statistics with datasetStatistics().',
        },
        { cause: error },
      );
    }
    return FeatureStats.fromJSON(JSON.parse(text) as FeatureStatsJSON);
  }
}

/** `[D, D]` rows or flat `[D * D]` to a flat row-major float64 array. */
export function flattenSquare(
  matrix: ArrayLike<number> | ArrayLike<number>[],
  d: number,
  where: string,
): Float64Array {
  const out = new Float64Array(d * d);
  const first = (matrix as ArrayLike<unknown>)[0];
  if (typeof first === 'object' && first !== null) {
    const rows = matrix as ArrayLike<number>[];
    if (rows.length !== d || Array.from(rows).some((r) => r.length !== d)) {
      throw invalidArgument(
        where,
        `a ${d} x ${d} matrix`,
        `${rows.length} rows`,
        'Pass a square covariance matching the mean.',
      );
    }
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] = rows[i]![j]!;
    return out;
  }
  if (matrix.length !== d * d) {
    throw invalidArgument(
      where,
      `${d * d} values (a ${d} x ${d} matrix)`,
      `${matrix.length} values`,
      'Pass a square covariance matching the mean.',
    );
  }
  for (let i = 0; i < d * d; i++) out[i] = (matrix as ArrayLike<number>)[i]!;
  return out;
}
