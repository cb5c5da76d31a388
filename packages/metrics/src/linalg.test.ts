import { Rng } from '@gensynth/core';
import { pivotedCholesky, symmetricEigenvalues, traceSqrtProduct } from './linalg';

/** Row-major X^T X / (n - 1) of n random normal rows of width d (rank <= min(n, d)). */
function randomGram(n: number, d: number, seed: number): Float64Array {
  const rng = Rng.fromSeed(seed);
  const x = Array.from({ length: n * d }, () => rng.nextNormal());
  const s = new Float64Array(d * d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) s[i * d + j]! += (x[r * d + i]! * x[r * d + j]!) / (n - 1);
    }
  }
  return s;
}

describe('symmetricEigenvalues', () => {
  it('finds the analytic spectrum 2 - 2 cos(k pi / (n + 1)) of the second-difference matrix', () => {
    const n = 60;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
    }
    const got = Array.from(symmetricEigenvalues(a, n)).sort((x, y) => x - y);
    got.forEach((value, k) => {
      expect(Math.abs(value - (2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1))))).toBeLessThan(
        1e-13,
      );
    });
  });

  it('handles 1 x 1 and 2 x 2 matrices', () => {
    expect(Array.from(symmetricEigenvalues(Float64Array.of(3), 1))).toEqual([3]);
    // [[2, 1], [1, 2]] has eigenvalues 1 and 3
    const two = Array.from(symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2)).sort();
    expect(two[0]).toBeCloseTo(1, 14);
    expect(two[1]).toBeCloseTo(3, 14);
  });
});

describe('pivotedCholesky', () => {
  it('reveals the rank of a singular covariance and reproduces it', () => {
    const d = 20;
    const s = randomGram(7, d, 1); // rank 7
    const { columns, rank } = pivotedCholesky(s, d);
    expect(rank).toBe(7);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const llt = columns.reduce((sum, c) => sum + c[i]! * c[j]!, 0);
        expect(Math.abs(llt - s[i * d + j]!)).toBeLessThan(1e-12);
      }
    }
  });
});

describe('traceSqrtProduct', () => {
  it('equals tr(S) when both matrices are S, full rank or singular', () => {
    for (const [n, d] of [
      [300, 64],
      [30, 96],
    ] as const) {
      const s = randomGram(n, d, n);
      let trace = 0;
      for (let i = 0; i < d; i++) trace += s[i * d + i]!;
      expect(Math.abs(traceSqrtProduct(s, s, d) - trace)).toBeLessThan(1e-11 * trace);
    }
  });

  it('is 0 when either matrix is 0', () => {
    const s = randomGram(10, 4, 3);
    expect(traceSqrtProduct(new Float64Array(16), s, 4)).toBe(0);
  });
});
