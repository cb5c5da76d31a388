import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeaks } from '@gensynth/core';
import { useCpuBackend } from '../testing/backend';
import { gatherDigits, loadMnistDigits } from '../testing/mnist';
import {
  createDigitFeatureExtractor,
  DIGIT_CLASSIFIER_INFO,
  type DigitFeatureExtractor,
} from './extractor';
import { seededSplit } from './split';

let extractor: DigitFeatureExtractor;
let digits: ReturnType<typeof loadMnistDigits>;

beforeAll(async () => {
  await useCpuBackend();
  extractor = createDigitFeatureExtractor();
  digits = loadMnistDigits();
});

afterAll(() => extractor.dispose());

function argMaxRows(values: Float32Array, classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < values.length / classes; r++) {
    const row = values.subarray(r * classes, (r + 1) * classes);
    out.push(row.indexOf(Math.max(...row)));
  }
  return out;
}

describe('createDigitFeatureExtractor', () => {
  it('uses a split whose validation digits are disjoint from training digits', () => {
    const split = seededSplit();
    expect(split.train.length).toBe(9000);
    expect(split.validation.length).toBe(1000);
    const train = new Set(split.train);
    expect(Array.from(split.validation).some((i) => train.has(i))).toBe(false);
  });

  it('classifies at least 95% of 200 real validation digits correctly', async () => {
    const { images, labels } = gatherDigits(digits, seededSplit().validation.subarray(0, 200));
    const batch = tf.tensor4d(images, [200, 28, 28, 1]);
    const probabilities = extractor.classify(batch);
    const predicted = argMaxRows((await probabilities.data()) as Float32Array, 10);
    tf.dispose([batch, probabilities]);
    const correct = predicted.filter((p, i) => p === labels[i]).length;
    expect(correct / 200).toBeGreaterThanOrEqual(0.95);
  });

  it('reproduces the recorded accuracy on all 1,000 validation digits', async () => {
    const { images, labels } = gatherDigits(digits, seededSplit().validation);
    const batch = tf.tensor4d(images, [1000, 28, 28, 1]);
    const probabilities = extractor.classify(batch);
    const predicted = argMaxRows((await probabilities.data()) as Float32Array, 10);
    tf.dispose([batch, probabilities]);
    const accuracy = predicted.filter((p, i) => p === labels[i]).length / 1000;
    expect(accuracy).toBe(DIGIT_CLASSIFIER_INFO.validationAccuracy);
    expect(accuracy).toBeGreaterThan(0.97);
  });

  it('maps [B, 28, 28, 1] digits to [B, 64] non-negative features without leaking', async () => {
    const { images } = gatherDigits(digits, [0, 1500, 9999]);
    const batch = tf.tensor4d(images, [3, 28, 28, 1]);
    const features = await expectNoLeaks(() => extractor.extract(batch), { allowReturned: 1 });
    expect(features.shape).toEqual([3, 64]);
    expect(extractor.featureDim).toBe(64);
    expect(Math.min(...(await features.data()))).toBeGreaterThanOrEqual(0);
    tf.dispose([batch, features]);
  });

  it('undoes 28 -> 32 padding exactly and treats grey RGB like one channel', async () => {
    const { images } = gatherDigits(digits, [42, 4242]);
    const small = tf.tensor4d(images, [2, 28, 28, 1]);
    const padded = tf.pad(
      small,
      [
        [0, 0],
        [2, 2],
        [2, 2],
        [0, 0],
      ],
      -1,
    );
    const rgb = tf.tile(padded, [1, 1, 1, 3]);
    const [a, b, c] = [small, padded, rgb].map((x) => extractor.extract(x as tf.Tensor4D));
    const [va, vb, vc] = await Promise.all([a!.data(), b!.data(), c!.data()]);
    expect(Array.from(vb)).toEqual(Array.from(va));
    vc.forEach((v, i) => expect(v).toBeCloseTo(va[i]!, 4));
    tf.dispose([small, padded, rgb, a!, b!, c!]);
  });
});
