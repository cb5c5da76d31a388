import { inceptionScore } from './inception-score';
import { expectClose, readVectors } from './testing/vectors';

const cases = readVectors('is_vectors.json').cases as any[];
const probabilityCases = cases.filter((c) => c.input === 'probabilities');

describe('inceptionScore', () => {
  it.each(probabilityCases.map((c) => [c.id, c]))(
    'matches the reference (0 log 0 = 0) for %s',
    (_id, c) => {
      const result = inceptionScore(c.probs, { splits: c.splits });
      expectClose(result.mean, c.is_mean_with_0log0_eq_0, 1e-13);
      expectClose(result.std, c.is_std_with_0log0_eq_0, 1e-11, 1e-14);
      if (typeof c.analytic === 'number') expectClose(result.mean, c.analytic, 1e-13);
      if (typeof c.per_split_scores_reference_formula[0] === 'number') {
        result.perSplit.forEach((s, i) =>
          expectClose(s, c.per_split_scores_reference_formula[i], 1e-13),
        );
      }
    },
  );

  it("matches the logits case in the given order and in torch-fidelity's shuffled order", () => {
    const c = cases.find((x) => x.input === 'logits');
    const plain = inceptionScore(c.logits, { splits: c.splits, input: 'logits' });
    expectClose(plain.mean, c.shuffle_false.is_mean, 1e-13);
    expectClose(plain.std, c.shuffle_false.is_std_ddof0, 1e-11);
    // RandomState(2020)'s permutation is given in the vectors; apply it to the rows
    const shuffledRows = c.shuffle_true_rng_seed_2020.permutation.map((i: number) => c.logits[i]);
    const shuffled = inceptionScore(shuffledRows, { splits: c.splits, input: 'logits' });
    shuffled.perSplit.forEach((s, i) =>
      expectClose(s, c.shuffle_true_rng_seed_2020.per_split_scores[i], 1e-13),
    );
    expectClose(shuffled.mean, c.shuffle_true_rng_seed_2020.is_mean, 1e-13);
  });

  it('is invariant to the seeded shuffle when there is one split', () => {
    const c = probabilityCases.find((x) => x.id === 'is_random_50x10_splits1');
    expectClose(
      inceptionScore(c.probs, { splits: 1, shuffleSeed: 9 }).mean,
      c.is_mean_with_0log0_eq_0,
      1e-13,
    );
  });

  it('rejects more splits than rows and values outside [0, 1]', () => {
    expect(() => inceptionScore([[0.5, 0.5]], { splits: 2 })).toThrow(
      /an integer in \[1, N = 1\]; received 2/,
    );
    expect(() => inceptionScore([[1.5, -0.5]], { splits: 1 })).toThrow(/probabilities in \[0, 1\]/);
  });
});
