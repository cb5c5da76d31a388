/**
 * `createDigitFeatureExtractor()`: features of the small digit classifier that ships inside this
 * package (see architecture.ts; weights trained by scripts/train-digit-classifier.ts on real
 * MNIST digits). For MNIST-like data only; its FID values are not comparable to Inception FID.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GensynthError, type FeatureExtractor } from '@gensynth/core';
import { base64ToFloat32 } from '../encoding';
import { prepareImages, type FitMode, type InputSpec } from '../extractors/preprocess';
import {
  buildDigitClassifier,
  DIGIT_FEATURE_DIM,
  DIGIT_FEATURE_LAYER,
  DIGIT_INPUT_SIZE,
} from './architecture';
import { DIGIT_CLASSIFIER_WEIGHTS } from './weights';

export interface DigitFeatureExtractorOptions {
  /**
   * How other sizes reach 28x28 (default 'crop-or-pad': centre crop/pad, which undoes the
   * 28 -> 32 padding of `mnistPackage({ imageSize: 32 })`; 'resize' for rescaled digits).
   */
  fit?: FitMode;
}

export const DIGIT_FEATURE_EXTRACTOR_DEFAULTS: Readonly<Required<DigitFeatureExtractorOptions>> =
  Object.freeze({ fit: 'crop-or-pad' });

/** How the shipped weights were made, and their accuracy on the 1,000 validation digits. */
export const DIGIT_CLASSIFIER_INFO = Object.freeze({
  validationAccuracy: DIGIT_CLASSIFIER_WEIGHTS.validationAccuracy,
  trainedWith: DIGIT_CLASSIFIER_WEIGHTS.trainedWith,
});

export interface DigitFeatureExtractor extends FeatureExtractor {
  /** `[B, H, W, C]` in [-1, 1] -> `[B, 10]` class probabilities (for Inception-Score-style use). */
  classify(images: tf.Tensor4D): tf.Tensor2D;
}

function loadWeights(model: tfl.LayersModel): void {
  const values = base64ToFloat32(DIGIT_CLASSIFIER_WEIGHTS.float32Base64);
  const shapes = DIGIT_CLASSIFIER_WEIGHTS.shapes;
  const expected = model.getWeights().map((w) => w.shape);
  const total = shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
  if (!values || values.length !== total || JSON.stringify(expected) !== JSON.stringify(shapes)) {
    throw new GensynthError('CHECKPOINT_CORRUPT', {
      where: 'createDigitFeatureExtractor',
      expected: `${total} weights of shapes ${JSON.stringify(expected)}`,
      received: `${values?.length ?? 'undecodable'} values of shapes ${JSON.stringify(shapes)}`,
      fix: 'Regenerate src/digits/weights.ts with scripts/train-digit-classifier.ts.',
    });
  }
  let offset = 0;
  const tensors = shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const tensor = tf.tensor(values.subarray(offset, offset + size), shape, 'float32');
    offset += size;
    return tensor;
  });
  model.setWeights(tensors);
  tf.dispose(tensors);
}

/**
 * The shipped digit classifier as a `FeatureExtractor`: `extract(images)` maps `[B, H, W, C]`
 * float32 in [-1, 1] (white digits on black; C = 1, 3 or 4) to `[B, 64]` float32 features of its
 * penultimate (ReLU) layer. Call `dispose()` when done.
 */
export function createDigitFeatureExtractor(
  options: DigitFeatureExtractorOptions = {},
): DigitFeatureExtractor {
  const { fit } = { ...DIGIT_FEATURE_EXTRACTOR_DEFAULTS, ...options };
  const classifier = buildDigitClassifier();
  loadWeights(classifier);
  const featureModel = tfl.model({
    inputs: classifier.inputs,
    outputs: classifier.getLayer(DIGIT_FEATURE_LAYER).output as tfl.SymbolicTensor,
  });
  const spec: InputSpec = {
    inputSize: [DIGIT_INPUT_SIZE, DIGIT_INPUT_SIZE],
    inputChannels: 1,
    inputRange: [-1, 1],
    fit,
  };
  return {
    name: 'gensynth-digit-classifier-v1',
    inputSize: spec.inputSize,
    inputChannels: 1,
    inputRange: spec.inputRange,
    featureDim: DIGIT_FEATURE_DIM,
    extract(images: tf.Tensor4D): tf.Tensor2D {
      return tf.tidy(() => {
        const prepared = prepareImages(images, spec, 'digitFeatureExtractor.extract(images)');
        return featureModel.predict(prepared) as tf.Tensor2D; // [B, 64]
      });
    },
    classify(images: tf.Tensor4D): tf.Tensor2D {
      return tf.tidy(() => {
        const prepared = prepareImages(images, spec, 'digitFeatureExtractor.classify(images)');
        return classifier.predict(prepared) as tf.Tensor2D; // [B, 10]
      });
    },
    dispose(): void {
      classifier.dispose();
    },
  };
}
