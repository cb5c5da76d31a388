/**
 * Stream images through a feature extractor into float64 statistics or feature rows, batch by
 * batch, and compute FID between two image sources.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument, type Batch, type Dataset, type FeatureExtractor } from '@gensynth/core';
import { FeatureStats } from './feature-stats';
import type { FeatureRows } from './features';
import {
  frechetDistanceTerms,
  type FrechetDistanceOptions,
  type FrechetDistanceTerms,
} from './fid';

/**
 * Where images come from:
 * - a `[N, H, W, C]` tensor in [-1, 1] (not disposed);
 * - a `Dataset` (one pass over it, in order);
 * - an (async) iterable of `Batch`es, e.g. `dataset.batches({ batchSize, epochs: 1 })` (the
 *   batches' tensors are disposed after use, as their consumer should);
 * - a sampler `(n, batchIndex) => Tensor4D` such as `(n, i) => model.sample(n, { seed: i })`
 *   (its outputs are disposed; needs `maxImages`).
 */
export type ImageSource =
  | tf.Tensor4D
  | Dataset
  | AsyncIterable<Batch>
  | Iterable<Batch>
  | ((n: number, batchIndex: number) => tf.Tensor4D);

export interface StreamOptions {
  /** Images per extractor call (default 50). */
  batchSize?: number;
  /** Stop after this many images (required for samplers and endless streams). */
  maxImages?: number | null;
}

export const STREAM_DEFAULTS: Readonly<Required<StreamOptions>> = Object.freeze({
  batchSize: 50,
  maxImages: null,
});

function isDataset(source: unknown): source is Dataset {
  return (
    typeof source === 'object' && source !== null && 'batches' in source && 'imageShape' in source
  );
}

/** Yield `[b, H, W, C]` tensors the caller must dispose, at most `maxImages` images in all. */
async function* imageBatches(source: ImageSource, options: Required<StreamOptions>, where: string) {
  const { batchSize, maxImages } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw invalidArgument(`${where}(batchSize)`, 'an integer >= 1', batchSize, 'Use e.g. 50.');
  }
  const limit = maxImages ?? Infinity;
  if (source instanceof tf.Tensor) {
    const n = Math.min(source.shape[0], limit);
    for (let start = 0; start < n; start += batchSize) {
      yield tf.slice(source, [start, 0, 0, 0], [Math.min(batchSize, n - start), -1, -1, -1]);
    }
    return;
  }
  if (typeof source === 'function') {
    if (!Number.isFinite(limit)) {
      throw invalidArgument(
        `${where}(maxImages)`,
        'a number of images for a sampler',
        maxImages,
        'Pass maxImages, e.g. 10000.',
      );
    }
    for (let start = 0, index = 0; start < limit; start += batchSize, index++) {
      yield source(Math.min(batchSize, limit - start), index);
    }
    return;
  }
  const batches = isDataset(source)
    ? source.batches({ batchSize, epochs: 1, shuffle: false, dropRemainder: false })
    : source;
  let seen = 0;
  for await (const batch of batches as AsyncIterable<Batch>) {
    batch.labels?.dispose();
    if (seen >= limit) {
      batch.images.dispose();
      break;
    }
    const take = Math.min(batch.images.shape[0], limit - seen);
    seen += take;
    if (take === batch.images.shape[0]) {
      yield batch.images;
    } else {
      const part = tf.slice(batch.images, [0, 0, 0, 0], [take, -1, -1, -1]);
      batch.images.dispose();
      yield part;
    }
    if (seen >= limit) break;
  }
}

async function forEachFeatureBatch(
  extractor: FeatureExtractor,
  source: ImageSource,
  options: StreamOptions,
  where: string,
  use: (features: tf.Tensor2D) => Promise<void>,
): Promise<number> {
  const config = { ...STREAM_DEFAULTS, ...options };
  let count = 0;
  for await (const images of imageBatches(source, config, where)) {
    let features: tf.Tensor2D | undefined;
    try {
      features = extractor.extract(images);
      await use(features);
      count += images.shape[0];
    } finally {
      features?.dispose();
      if (images !== source) images.dispose();
    }
  }
  return count;
}

/** Float64 mean/covariance of `extractor` features over all images of `source`. */
export async function extractStatistics(
  extractor: FeatureExtractor,
  source: ImageSource,
  options: StreamOptions = {},
): Promise<FeatureStats> {
  const stats = new FeatureStats(extractor.featureDim, { extractor: extractor.name });
  await forEachFeatureBatch(extractor, source, options, 'extractStatistics', async (features) => {
    await stats.updateAsync(features);
  });
  return stats;
}

/** All features `[N, D]` (float32) of `source`, e.g. for `kid` or `precisionRecall`. */
export async function extractFeatures(
  extractor: FeatureExtractor,
  source: ImageSource,
  options: StreamOptions = {},
): Promise<FeatureRows> {
  const parts: Float32Array[] = [];
  const rows = await forEachFeatureBatch(
    extractor,
    source,
    options,
    'extractFeatures',
    async (f) => {
      parts.push((await f.data()) as Float32Array);
    },
  );
  const values = new Float32Array(rows * extractor.featureDim);
  let offset = 0;
  for (const part of parts) {
    values.set(part, offset);
    offset += part.length;
  }
  return { values, rows, cols: extractor.featureDim };
}

export interface DatasetStatisticsOptions extends StreamOptions {
  extractor: FeatureExtractor;
  images: ImageSource;
  /** Also save the statistics to this file (Node), for reuse with `FeatureStats.load`. */
  path?: string;
}

/** Precompute (and optionally save) the reference statistics of a dataset. */
export async function datasetStatistics(options: DatasetStatisticsOptions): Promise<FeatureStats> {
  const stats = await extractStatistics(options.extractor, options.images, options);
  if (options.path !== undefined) await stats.save(options.path);
  return stats;
}

export interface ComputeFidOptions extends StreamOptions {
  extractor: FeatureExtractor;
  /** Real images, or their precomputed statistics. */
  real: ImageSource | FeatureStats;
  /** Generated images, or their statistics. */
  fake: ImageSource | FeatureStats;
  /** Options of the distance itself. */
  distance?: FrechetDistanceOptions;
}

export interface ComputeFidResult extends FrechetDistanceTerms {
  real: FeatureStats;
  fake: FeatureStats;
}

/**
 * FID between two image sources (or saved statistics) under `extractor`. Leaves no tensors
 * behind; the statistics are returned for reuse.
 */
export async function computeFid(options: ComputeFidOptions): Promise<ComputeFidResult> {
  const toStats = (source: ImageSource | FeatureStats) =>
    source instanceof FeatureStats ? source : extractStatistics(options.extractor, source, options);
  const real = await toStats(options.real);
  const fake = await toStats(options.fake);
  return { ...frechetDistanceTerms(real, fake, options.distance), real, fake };
}
