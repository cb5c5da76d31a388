import { Rng, setLogger, silentLogger } from '@gensynth/core';
import { KID_DEFAULTS, kid } from './kid';
import { expectClose, readVectors } from './testing/vectors';

const cases = readVectors('kid_vectors.json').cases as any[];
const fullSetCases = cases.filter((c) => c.m !== undefined);

beforeAll(() => setLogger(silentLogger));

describe('kid', () => {
  it.each(fullSetCases.map((c) => [c.id, c]))(
    'matches the unbiased MMD^2 of one full-set subset for %s',
    (_id, c) => {
      const result = kid(c.features1, c.features2, { numSubsets: 1, subsetSize: c.m });
      expectClose(result.mean, c.kid_unbiased_mpmath, 1e-12, 1e-14);
      expect(result.std).toBe(0);
    },
  );

  it('matches per-subset values, mean and ddof-0 std for explicit subsets', () => {
    const c = cases.find((x) => x.id === 'kid_subsets_60x8_vs_80x8');
    const subsets = c.subset_indices1.map((indices1: number[], s: number) => ({
      indices1,
      indices2: c.subset_indices2[s],
    }));
    const result = kid(c.features1, c.features2, { subsets });
    result.perSubset.forEach((value, s) => expectClose(value, c.per_subset_kid_unbiased[s], 1e-12));
    expectClose(result.mean, c.kid_mean, 1e-12);
    expectClose(result.std, c.kid_std_ddof0, 1e-11);
  });

  it('is reproducible for a seed and clips subsets to the smaller set', () => {
    const rng = Rng.fromSeed(3);
    const x = Array.from({ length: 30 }, () => [rng.nextNormal(), rng.nextNormal()]);
    const y = Array.from({ length: 20 }, () => [rng.nextNormal() + 1, rng.nextNormal()]);
    const a = kid(x, y, { numSubsets: 4, seed: 5 });
    const b = kid(x, y, { numSubsets: 4, seed: 5 });
    expect(a.perSubset).toEqual(b.perSubset);
    expect(a.perSubset).toHaveLength(4);
    // subsetSize clipped to 20 = all of y; x subsets differ, so the values do
    expect(new Set(a.perSubset).size).toBeGreaterThan(1);
    expect(a.mean).toBeGreaterThan(0);
  });

  it('has frozen defaults of torch-fidelity', () => {
    expect(Object.isFrozen(KID_DEFAULTS)).toBe(true);
    expect(KID_DEFAULTS).toMatchObject({ numSubsets: 100, subsetSize: 1000, degree: 3, coef0: 1 });
  });

  it('rejects features of different dimension', () => {
    expect(() =>
      kid(
        [
          [1, 2],
          [3, 4],
        ],
        [[1], [2]],
      ),
    ).toThrow(/kid\(features1, features2\): expected features of equal dimension D/);
  });
});
