import { createLogger, setLogger, silentLogger } from '@gensynth/core';
import { FeatureStats } from './feature-stats';
import { frechetDistance, frechetDistanceTerms } from './fid';
import { expectClose, readVectors } from './testing/vectors';

interface FidCase {
  id: string;
  features1?: number[][];
  features2?: number[][];
  mu1: number[];
  sigma1: number[][] | number[];
  mu2: number[];
  sigma2: number[][] | number[];
  terms: { trace_sqrt_sigma1_sigma2_mpmath: number };
  fid: { expected: number; pytorch_fid_eps_branch_value_forced: number };
}

const vectors = readVectors('fid_vectors.json') as { cases: FidCase[] };

// np.atleast_2d turns the 1-D case's 0-d covariance into 1 x 1
const square = (sigma: number[][] | number[]) =>
  Array.isArray(sigma[0]) ? (sigma as number[][]) : [sigma as number[]];

describe('frechetDistance', () => {
  it.each(vectors.cases.map((c) => [c.id, c] as const))(
    'matches the 50-digit value from the listed mean/covariance for %s',
    (_id, c) => {
      const terms = frechetDistanceTerms(
        { mean: c.mu1, covariance: square(c.sigma1) },
        { mean: c.mu2, covariance: square(c.sigma2) },
      );
      // absolute 1e-12 covers FID(X, X) = 0, where float64 leaves ~1e-14
      expectClose(terms.fid, c.fid.expected, 1e-12, 1e-12);
      expectClose(terms.traceSqrtProduct, c.terms.trace_sqrt_sigma1_sigma2_mpmath, 1e-12, 1e-12);
    },
  );

  it.each(vectors.cases.filter((c) => c.features1).map((c) => [c.id, c] as const))(
    'matches the 50-digit value from streamed features for %s',
    (_id, c) => {
      const stats1 = new FeatureStats(c.mu1.length);
      const stats2 = new FeatureStats(c.mu2.length);
      // odd batch sizes exercise the streaming merge
      for (let i = 0; i < c.features1!.length; i += 7) stats1.update(c.features1!.slice(i, i + 7));
      for (let i = 0; i < c.features2!.length; i += 11)
        stats2.update(c.features2!.slice(i, i + 11));
      expectClose(frechetDistance(stats1, stats2), c.fid.expected, 1e-12, 1e-12);
    },
  );

  it.each(vectors.cases.map((c) => [c.id, c] as const))(
    "reproduces pytorch-fid's eps = 1e-6 fallback branch with diagonalOffset for %s",
    (_id, c) => {
      const value = frechetDistance(
        { mean: c.mu1, covariance: square(c.sigma1) },
        { mean: c.mu2, covariance: square(c.sigma2) },
        { diagonalOffset: 1e-6 },
      );
      expectClose(value, c.fid.pytorch_fid_eps_branch_value_forced, 1e-9, 1e-11);
    },
  );

  it('computes the closed form for commuting diagonal covariances of rank 1', () => {
    // S1 = diag(4, 0), S2 = diag(9, 0): tr sqrt(S1 S2) = 6; FID = 1 + 4 + 9 - 12 = 2
    const value = frechetDistance(
      { mean: [1, 0], covariance: [4, 0, 0, 0] },
      { mean: [0, 0], covariance: [9, 0, 0, 0] },
    );
    expect(value).toBeCloseTo(2, 13);
  });

  it('throws a SHAPE_MISMATCH error for statistics of different dimension', () => {
    expect(() =>
      frechetDistance({ mean: [0], covariance: [[1]] }, { mean: [0, 0], covariance: [1, 0, 0, 1] }),
    ).toThrow(
      /frechetDistance\(stats1, stats2\): expected statistics of equal dimension; received D = 1 and D = 2/,
    );
  });

  it('rejects a negative diagonalOffset', () => {
    const stats = { mean: [0], covariance: [1] };
    expect(() => frechetDistance(stats, stats, { diagonalOffset: -1 })).toThrow(/diagonalOffset/);
  });
});

describe('frechetDistance with few images', () => {
  it('warns once when a side has no more images than feature dimensions', () => {
    const warnings: string[] = [];
    setLogger(createLogger('warn', (_level, message) => warnings.push(message)));
    try {
      const few = new FeatureStats(3).update([
        [0, 1, 2],
        [1, 0, 2],
        [2, 1, 0],
      ]);
      const many = new FeatureStats(3).update([
        [0, 1, 2],
        [1, 0, 2],
        [2, 1, 0],
        [1, 1, 1],
        [0, 2, 1],
      ]);
      frechetDistance(many, many);
      expect(warnings).toEqual([]);
      frechetDistance(few, many);
      frechetDistance(few, many);
      expect(warnings).toEqual([
        'frechetDistance: statistics of 3 images for 3-dimensional features; the covariance is singular and the FID is unreliable (use more than 3 images on each side, ideally thousands)',
      ]);
    } finally {
      setLogger(silentLogger);
    }
  });
});
