import { precisionRecall } from './precision-recall';
import { expectClose, readVectors } from './testing/vectors';

const cases = readVectors('prc_vectors.json').cases as any[];

describe('precisionRecall', () => {
  it.each(cases.map((c) => [c.id, c]))('matches the official algorithm for %s', (_id, c) => {
    const result = precisionRecall(c.real_features, c.gen_features, { k: c.k });
    expect(result.precision).toBe(c.precision);
    expect(result.recall).toBe(c.recall);
    expectClose(result.fScore, c.f_score_torch_fidelity, 1e-14);
    expect(Array.from(result.fakeInRealManifold)).toEqual(c.gen_in_real_manifold);
    expect(Array.from(result.realInFakeManifold)).toEqual(c.real_in_gen_manifold);
    result.realRadii.forEach((r, i) => expectClose(r, c.radii_real[i], 1e-14));
    result.fakeRadii.forEach((r, i) => expectClose(r, c.radii_gen[i], 1e-14));
  });

  it('rejects k not below the set sizes', () => {
    expect(() => precisionRecall([[0], [1]], [[0], [1]], { k: 2 })).toThrow(
      /precisionRecall\(options.k\): expected an integer in \[1, 1\]/,
    );
  });
});
