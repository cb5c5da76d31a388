/**
 * Kernel Inception Distance (Bińkowski, Sutherland, Arbel & Gretton 2018, arXiv:1801.01401): the
 * unbiased estimate of the squared MMD with the polynomial kernel, averaged over random subsets.
 *
 *   k(x, y) = (gamma x.y + coef0)^degree,  gamma = 1/D by default
 *   MMD^2_u = sum_{i!=j} k(x_i, x_j) / (m(m-1)) + sum_{i!=j} k(y_i, y_j) / (m(m-1))
 *             - 2 sum_{i,j} k(x_i, y_j) / m^2                (Gretton et al. 2012, JMLR, eq. 3)
 *
 * As in torch-fidelity and clean-fid, each subset draws m = min(N1, N2, subsetSize) rows of each
 * set without replacement; the result is the mean and the population std (ddof 0) over subsets.
 * The unbiased estimate can be negative when the distributions match.
 */
import { GensynthError, Rng, invalidArgument, warnOnce } from '@gensynth/core';
import { assertFinite, toMatrix64, type FeatureMatrix, type Matrix64 } from './features';

export interface KidOptions {
  /** Number of random subsets (torch-fidelity default 100). */
  numSubsets?: number;
  /** Rows per subset, clipped to min(N1, N2) (torch-fidelity default 1000). */
  subsetSize?: number;
  /** Polynomial kernel degree (3). */
  degree?: number;
  /** Kernel scale; `null` means 1/D. */
  gamma?: number | null;
  /** Kernel offset (1). */
  coef0?: number;
  /** Seed of the subset draws. */
  seed?: number;
  /**
   * Explicit subsets instead of random ones: row indices into each set, equal lengths per
   * subset. Overrides `numSubsets`, `subsetSize` and `seed`.
   */
  subsets?: { indices1: ArrayLike<number>; indices2: ArrayLike<number> }[] | null;
}

export const KID_DEFAULTS: Readonly<Required<KidOptions>> = Object.freeze({
  numSubsets: 100,
  subsetSize: 1000,
  degree: 3,
  gamma: null,
  coef0: 1,
  seed: 0,
  subsets: null,
});

export interface KidResult {
  /** Mean of the per-subset unbiased MMD^2 (papers often print it x 1000). */
  mean: number;
  /** Standard deviation over subsets (ddof 0). */
  std: number;
  perSubset: number[];
}

/** KID between two feature sets `[N1, D]` and `[N2, D]` (float64 throughout). */
export function kid(
  features1: FeatureMatrix,
  features2: FeatureMatrix,
  options: KidOptions = {},
): KidResult {
  const config = { ...KID_DEFAULTS, ...options };
  const x = toMatrix64(features1, 'kid(features1)');
  const y = toMatrix64(features2, 'kid(features2)');
  assertFinite(x, 'kid(features1)');
  assertFinite(y, 'kid(features2)');
  if (x.cols !== y.cols) {
    throw new GensynthError('SHAPE_MISMATCH', {
      where: 'kid(features1, features2)',
      expected: 'features of equal dimension D',
      received: `[${x.rows}, ${x.cols}] and [${y.rows}, ${y.cols}]`,
      fix: 'Extract both sets with the same feature extractor.',
    });
  }
  const gamma = config.gamma ?? 1 / x.cols;
  const kernel = (dot: number) => (gamma * dot + config.coef0) ** config.degree;

  const subsets = config.subsets ?? drawSubsets(x.rows, y.rows, config);
  const perSubset = subsets.map(({ indices1, indices2 }, s) => {
    if (indices1.length !== indices2.length || indices1.length < 2) {
      throw invalidArgument(
        `kid(options.subsets[${s}])`,
        'two index lists of equal length >= 2',
        `lengths ${indices1.length} and ${indices2.length}`,
        'Give each subset the same number of rows from both sets.',
      );
    }
    return unbiasedMmd2(gather(x, indices1), gather(y, indices2), kernel);
  });
  const mean = perSubset.reduce((sum, v) => sum + v, 0) / perSubset.length;
  const variance = perSubset.reduce((sum, v) => sum + (v - mean) ** 2, 0) / perSubset.length;
  return { mean, std: Math.sqrt(variance), perSubset };
}

function drawSubsets(n1: number, n2: number, config: Required<KidOptions>) {
  if (!Number.isInteger(config.numSubsets) || config.numSubsets < 1) {
    throw invalidArgument(
      'kid(options.numSubsets)',
      'an integer >= 1',
      config.numSubsets,
      'Use e.g. 100.',
    );
  }
  const m = Math.min(n1, n2, config.subsetSize);
  if (m < 2) {
    throw invalidArgument(
      'kid(features)',
      'at least 2 rows in each set',
      `${n1} and ${n2} rows`,
      'Extract features of more images.',
    );
  }
  if (m < config.subsetSize) {
    warnOnce(
      `kid-subset:${m}`,
      `kid: subsetSize ${config.subsetSize} exceeds the smaller set; using ${m} rows per subset`,
    );
  }
  const rng = Rng.fromSeed(config.seed);
  return Array.from({ length: config.numSubsets }, () => ({
    indices1: rng.permutation(n1).subarray(0, m),
    indices2: rng.permutation(n2).subarray(0, m),
  }));
}

function gather(matrix: Matrix64, indices: ArrayLike<number>): Matrix64 {
  const { cols } = matrix;
  const values = new Float64Array(indices.length * cols);
  for (let r = 0; r < indices.length; r++) {
    const source = indices[r]!;
    if (!Number.isInteger(source) || source < 0 || source >= matrix.rows) {
      throw invalidArgument(
        'kid(options.subsets)',
        `row indices in [0, ${matrix.rows})`,
        source,
        'Use indices of existing rows.',
      );
    }
    values.set(matrix.values.subarray(source * cols, (source + 1) * cols), r * cols);
  }
  return { values, rows: indices.length, cols };
}

function dot(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let sum = 0;
  const ai = i * d;
  const bj = j * d;
  for (let k = 0; k < d; k++) sum += a[ai + k]! * b[bj + k]!;
  return sum;
}

/** Unbiased MMD^2 of two equal-size samples (eq. 3 with m = n). */
function unbiasedMmd2(x: Matrix64, y: Matrix64, kernel: (dot: number) => number): number {
  const m = x.rows;
  const d = x.cols;
  let sumXX = 0;
  let sumYY = 0;
  let sumXY = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < i; j++) {
      sumXX += kernel(dot(x.values, i, x.values, j, d));
      sumYY += kernel(dot(y.values, i, y.values, j, d));
    }
    for (let j = 0; j < m; j++) sumXY += kernel(dot(x.values, i, y.values, j, d));
  }
  return (2 * sumXX + 2 * sumYY) / (m * (m - 1)) - (2 * sumXY) / (m * m);
}
