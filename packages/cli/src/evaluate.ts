/**
 * FID during and after training, with the digit classifier that ships in @gensynth/metrics.
 * The reference statistics of the validation digits are computed once per evaluator.
 */
import { deriveSeed, getLogger, type Dataset, type GenerativeModel } from '@gensynth/core';
import {
  computeFid,
  createDigitFeatureExtractor,
  extractStatistics,
  type DigitFeatureExtractor,
  type FeatureStats,
} from '@gensynth/metrics';
import type { EvaluateFn } from '@gensynth/train';
import type { ExperimentConfig } from './config';

/** Stream of seeds for evaluation samples, apart from the trainer's streams. */
const EVAL_SEED_STREAM = 7;

/** Sources whose images the digit classifier understands. */
const DIGIT_SOURCES = new Set(['mnist-package', 'mnist-idx']);

export type FidEvaluator = EvaluateFn & { dispose(): void };

/**
 * An `evaluate` callback for `train()` returning `{ fid }`: FID of `eval.numSamples` generated
 * images against `reference` under the digit classifier's features. Undefined (with a warning)
 * for sources that are not digits, where those features mean nothing.
 */
export function createFidEvaluator(
  config: ExperimentConfig,
  reference: Dataset,
): FidEvaluator | undefined {
  if (!DIGIT_SOURCES.has(config.data.source)) {
    getLogger().warn(
      `eval: FID uses the shipped digit classifier, which is meaningless for '${config.data.source}' images; ` +
        'skipping it (use `gensynth eval` with your own feature extractor)',
    );
    return undefined;
  }
  let extractor: DigitFeatureExtractor | undefined;
  let referenceStats: FeatureStats | undefined;
  const evaluate = async (model: GenerativeModel): Promise<Record<string, number>> => {
    extractor ??= createDigitFeatureExtractor();
    referenceStats ??= await extractStatistics(extractor, reference);
    const result = await computeFid({
      extractor,
      real: referenceStats,
      fake: (n, batch) =>
        model.sample(n, { seed: deriveSeed(config.seed, EVAL_SEED_STREAM, batch) }),
      maxImages: config.eval.numSamples,
      batchSize: 100,
    });
    return { fid: result.fid };
  };
  return Object.assign(evaluate, {
    dispose: () => {
      extractor?.dispose();
      extractor = undefined;
    },
  });
}

/**
 * FID of `maxImages` training images against the validation images under the digit features:
 * the floor a generator can hope to reach when scored with as many samples.
 */
export async function fidFloor(
  train: Dataset,
  validation: Dataset,
  maxImages?: number,
): Promise<number> {
  const extractor = createDigitFeatureExtractor();
  try {
    const result = await computeFid({
      extractor,
      real: validation,
      fake: train,
      batchSize: 200,
      ...(maxImages !== undefined ? { maxImages } : {}),
    });
    return result.fid;
  } finally {
    extractor.dispose();
  }
}
