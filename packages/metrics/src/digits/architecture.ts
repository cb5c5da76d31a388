/**
 * The small digit classifier that ships with @gensynth/metrics. Its penultimate layer (`features`,
 * 64 ReLU units) is the feature space of `createDigitFeatureExtractor`.
 *
 * Input `[B, 28, 28, 1]` float32 in [-1, 1] (MNIST-style: white digit on black).
 *   conv 3x3/2, 8 filters   -> [B, 14, 14, 8]
 *   conv 3x3/2, 16 filters  -> [B, 7, 7, 16]
 *   conv 3x3/2, 32 filters  -> [B, 4, 4, 32]
 *   flatten                 -> [B, 512]
 *   dense 64, ReLU          -> [B, 64]  ('features')
 *   dense 10, softmax       -> [B, 10]  ('probabilities')
 */
import * as tf from '@tensorflow/tfjs-layers';

export const DIGIT_INPUT_SIZE = 28;
export const DIGIT_FEATURE_LAYER = 'features';
export const DIGIT_FEATURE_DIM = 64;
export const DIGIT_NUM_CLASSES = 10;

/** Build the (untrained) classifier; `seed` fixes the initial weights. */
export function buildDigitClassifier(seed = 0): tf.Sequential {
  const init = (offset: number) => tf.initializers.glorotUniform({ seed: seed + offset });
  const model = tf.sequential({ name: 'gensynth_digit_classifier' });
  const conv = (filters: number, offset: number, inputShape?: number[]) =>
    tf.layers.conv2d({
      filters,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(offset),
      ...(inputShape ? { inputShape } : {}),
    });
  model.add(conv(8, 1, [DIGIT_INPUT_SIZE, DIGIT_INPUT_SIZE, 1])); // [B, 14, 14, 8]
  model.add(conv(16, 2)); // [B, 7, 7, 16]
  model.add(conv(32, 3)); // [B, 4, 4, 32]
  model.add(tf.layers.flatten()); // [B, 512]
  model.add(
    tf.layers.dense({
      units: DIGIT_FEATURE_DIM,
      activation: 'relu',
      kernelInitializer: init(4),
      name: DIGIT_FEATURE_LAYER,
    }),
  ); // [B, 64]
  model.add(
    tf.layers.dense({
      units: DIGIT_NUM_CLASSES,
      activation: 'softmax',
      kernelInitializer: init(5),
      name: 'probabilities',
    }),
  ); // [B, 10]
  return model;
}
