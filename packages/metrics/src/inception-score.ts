/**
 * Inception Score (Salimans et al. 2016, arXiv:1606.03498):
 *
 *   IS = exp( E_x KL(p(y|x) || p(y)) ),   p(y) = mean_x p(y|x)               per split
 *
 * Code names: `probabilities` = p(y|x) `[N, C]`, `marginal` = p(y). The N rows are cut into
 * `splits` consecutive parts, split i covering rows [i N / splits, (i + 1) N / splits) (integer
 * division, as improved-gan and torch-fidelity); the score is the mean and population std
 * (ddof 0) over splits. Terms with p = 0 contribute 0 (the limit of p log p), where the
 * original numpy code yields NaN.
 */
import { Rng, invalidArgument } from '@gensynth/core';
import { assertFinite, toMatrix64, type FeatureMatrix } from './features';

export interface InceptionScoreOptions {
  /** Number of splits (10 in the paper's setting of 50,000 samples). */
  splits?: number;
  /** Whether rows are class probabilities (summing to 1) or unnormalised logits. */
  input?: 'probabilities' | 'logits';
  /** Shuffle rows with this seed before splitting; `null` (default) keeps the given order. */
  shuffleSeed?: number | null;
}

export const INCEPTION_SCORE_DEFAULTS: Readonly<Required<InceptionScoreOptions>> = Object.freeze({
  splits: 10,
  input: 'probabilities',
  shuffleSeed: null,
});

export interface InceptionScoreResult {
  mean: number;
  std: number;
  perSplit: number[];
}

/** Inception Score of `[N, C]` class probabilities or logits (computed in float64). */
export function inceptionScore(
  predictions: FeatureMatrix,
  options: InceptionScoreOptions = {},
): InceptionScoreResult {
  const { splits, input, shuffleSeed } = { ...INCEPTION_SCORE_DEFAULTS, ...options };
  const matrix = toMatrix64(predictions, 'inceptionScore(predictions)');
  assertFinite(matrix, 'inceptionScore(predictions)');
  const { rows: n, cols: c } = matrix;
  if (!Number.isInteger(splits) || splits < 1 || splits > n) {
    throw invalidArgument(
      'inceptionScore(options.splits)',
      `an integer in [1, N = ${n}]`,
      splits,
      'Use fewer splits than samples (10 for 50,000 samples).',
    );
  }
  const logProbabilities =
    input === 'logits' ? logSoftmaxRows(matrix.values, n, c) : logOf(matrix.values, n, c);
  const probabilities = input === 'logits' ? logProbabilities.map(Math.exp) : matrix.values;
  const order = shuffleSeed === null ? null : Rng.fromSeed(shuffleSeed).permutation(n);

  const perSplit: number[] = [];
  for (let s = 0; s < splits; s++) {
    const start = Math.floor((s * n) / splits);
    const end = Math.floor(((s + 1) * n) / splits);
    const size = end - start;
    const row = (r: number) => (order ? order[r]! : r);

    // p(y) over the split, then mean_x sum_y p(y|x) (log p(y|x) - log p(y))
    const marginal = new Float64Array(c);
    for (let r = start; r < end; r++) {
      const offset = row(r) * c;
      for (let k = 0; k < c; k++) marginal[k]! += probabilities[offset + k]!;
    }
    const logMarginal = marginal.map((p) => Math.log(p / size));
    let klSum = 0;
    for (let r = start; r < end; r++) {
      const offset = row(r) * c;
      for (let k = 0; k < c; k++) {
        const logP = logProbabilities[offset + k]!;
        if (logP === -Infinity) continue; // 0 log 0 = 0
        klSum += probabilities[offset + k]! * (logP - logMarginal[k]!);
      }
    }
    perSplit.push(Math.exp(klSum / size));
  }
  const mean = perSplit.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(perSplit.reduce((a, b) => a + (b - mean) ** 2, 0) / splits);
  return { mean, std, perSplit };
}

function logOf(values: Float64Array, n: number, c: number): Float64Array {
  for (let i = 0; i < n * c; i++) {
    if (values[i]! < 0 || values[i]! > 1) {
      throw invalidArgument(
        'inceptionScore(predictions)',
        'probabilities in [0, 1]',
        `${values[i]} at row ${Math.floor(i / c)}`,
        "Pass softmax outputs, or set input: 'logits'.",
      );
    }
  }
  return values.map(Math.log);
}

function logSoftmaxRows(values: Float64Array, n: number, c: number): Float64Array {
  const out = new Float64Array(n * c);
  for (let r = 0; r < n; r++) {
    const offset = r * c;
    let max = -Infinity;
    for (let k = 0; k < c; k++) max = Math.max(max, values[offset + k]!);
    let sum = 0;
    for (let k = 0; k < c; k++) sum += Math.exp(values[offset + k]! - max);
    const logSum = max + Math.log(sum);
    for (let k = 0; k < c; k++) out[offset + k] = values[offset + k]! - logSum;
  }
  return out;
}
