/**
 * Improved precision and recall (Kynkäänniemi, Karras, Laine, Lehtinen & Aila 2019,
 * arXiv:1904.06991). Each set's manifold is the union of balls around its points, each ball's
 * radius the distance to the point's k-th nearest neighbour in the same set (itself excluded):
 *
 *   precision = fraction of generated points inside the real manifold       eq. 1-2
 *   recall    = fraction of real points inside the generated manifold
 *
 * A point is inside when its squared distance to some centre is <= that centre's squared radius
 * (ties count as inside, as in the official code). Distances are exact float64.
 */
import { GensynthError, invalidArgument } from '@gensynth/core';
import { assertFinite, toMatrix64, type FeatureMatrix, type Matrix64 } from './features';

export interface PrecisionRecallOptions {
  /** Neighbourhood size k (3 in the paper). */
  k?: number;
}

export const PRECISION_RECALL_DEFAULTS: Readonly<Required<PrecisionRecallOptions>> = Object.freeze({
  k: 3,
});

export interface PrecisionRecallResult {
  precision: number;
  recall: number;
  /** `2PR / max(P + R, 1e-5)`, as torch-fidelity. */
  fScore: number;
  /** `[N_real]` k-NN radii (Euclidean, not squared). */
  realRadii: Float64Array;
  /** `[N_fake]` k-NN radii. */
  fakeRadii: Float64Array;
  /** `[N_fake]` 1 where the generated point lies in the real manifold. */
  fakeInRealManifold: Uint8Array;
  /** `[N_real]` 1 where the real point lies in the generated manifold. */
  realInFakeManifold: Uint8Array;
}

/** Precision and recall of generated features `fake` `[N_fake, D]` against `real` `[N_real, D]`. */
export function precisionRecall(
  real: FeatureMatrix,
  fake: FeatureMatrix,
  options: PrecisionRecallOptions = {},
): PrecisionRecallResult {
  const { k } = { ...PRECISION_RECALL_DEFAULTS, ...options };
  const realRows = toMatrix64(real, 'precisionRecall(real)');
  const fakeRows = toMatrix64(fake, 'precisionRecall(fake)');
  assertFinite(realRows, 'precisionRecall(real)');
  assertFinite(fakeRows, 'precisionRecall(fake)');
  if (realRows.cols !== fakeRows.cols) {
    throw new GensynthError('SHAPE_MISMATCH', {
      where: 'precisionRecall(real, fake)',
      expected: 'features of equal dimension D',
      received: `[${realRows.rows}, ${realRows.cols}] and [${fakeRows.rows}, ${fakeRows.cols}]`,
      fix: 'Extract both sets with the same feature extractor.',
    });
  }
  const smaller = Math.min(realRows.rows, fakeRows.rows);
  if (!Number.isInteger(k) || k < 1 || k >= smaller) {
    throw invalidArgument(
      'precisionRecall(options.k)',
      `an integer in [1, ${smaller - 1}] (below each set's size)`,
      k,
      'Use k = 3 with at least a few hundred samples per set.',
    );
  }

  const realSquaredRadii = kthNeighbourSquaredDistances(realRows, k);
  const fakeSquaredRadii = kthNeighbourSquaredDistances(fakeRows, k);
  const fakeInRealManifold = insideManifold(fakeRows, realRows, realSquaredRadii);
  const realInFakeManifold = insideManifold(realRows, fakeRows, fakeSquaredRadii);
  const precision = fakeInRealManifold.reduce((a, b) => a + b, 0) / fakeRows.rows;
  const recall = realInFakeManifold.reduce((a, b) => a + b, 0) / realRows.rows;
  return {
    precision,
    recall,
    fScore: (2 * precision * recall) / Math.max(precision + recall, 1e-5),
    realRadii: realSquaredRadii.map(Math.sqrt),
    fakeRadii: fakeSquaredRadii.map(Math.sqrt),
    fakeInRealManifold,
    realInFakeManifold,
  };
}

function squaredDistance(
  a: Float64Array,
  i: number,
  b: Float64Array,
  j: number,
  d: number,
): number {
  let sum = 0;
  const ai = i * d;
  const bj = j * d;
  for (let c = 0; c < d; c++) {
    const diff = a[ai + c]! - b[bj + c]!;
    sum += diff * diff;
  }
  return sum;
}

/** Squared distance of each row to its k-th nearest other row. */
function kthNeighbourSquaredDistances(set: Matrix64, k: number): Float64Array {
  const { rows: n, cols: d, values } = set;
  const radii = new Float64Array(n);
  const nearest = new Float64Array(k); // the k smallest so far, ascending
  for (let i = 0; i < n; i++) {
    nearest.fill(Infinity);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const distance = squaredDistance(values, i, values, j, d);
      if (distance >= nearest[k - 1]!) continue;
      let slot = k - 1;
      while (slot > 0 && nearest[slot - 1]! > distance) {
        nearest[slot] = nearest[slot - 1]!;
        slot--;
      }
      nearest[slot] = distance;
    }
    radii[i] = nearest[k - 1]!;
  }
  return radii;
}

function insideManifold(
  points: Matrix64,
  centres: Matrix64,
  squaredRadii: Float64Array,
): Uint8Array {
  const inside = new Uint8Array(points.rows);
  for (let i = 0; i < points.rows; i++) {
    for (let j = 0; j < centres.rows; j++) {
      if (squaredDistance(points.values, i, centres.values, j, points.cols) <= squaredRadii[j]!) {
        inside[i] = 1;
        break;
      }
    }
  }
  return inside;
}
