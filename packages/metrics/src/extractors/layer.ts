/**
 * Any tfjs LayersModel cut at a named layer, as a gensynth `FeatureExtractor`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GensynthError, type FeatureExtractor } from '@gensynth/core';
import { prepareImages, type FitMode, type InputSpec } from './preprocess';

export interface LayerFeatureExtractorOptions {
  /** Name reported by the extractor and stored with statistics (default: model and layer). */
  name?: string;
  /** `[height, width]`; default: the model's input shape. */
  inputSize?: [number, number];
  /** Default: the model's input channels (1 or 3). */
  inputChannels?: 1 | 3;
  /** Value range the model was trained on (default [-1, 1]). */
  inputRange?: [number, number];
  /** How images of another size are brought to `inputSize` (default 'resize'). */
  fit?: FitMode;
  /** How a `[B, h, w, c]` layer output becomes `[B, D]` (default 'avg': global average pool). */
  pooling?: 'avg' | 'flatten';
  /** Dispose `model` in `dispose()` (default false: the caller owns it). */
  ownsModel?: boolean;
}

export const LAYER_FEATURE_EXTRACTOR_DEFAULTS = Object.freeze({
  inputRange: [-1, 1] as [number, number],
  fit: 'resize' as FitMode,
  pooling: 'avg' as 'avg' | 'flatten',
  ownsModel: false,
});

/** Reduce a layer output to `[B, D]`. */
export function toFeatureMatrix(output: tf.Tensor, pooling: 'avg' | 'flatten'): tf.Tensor2D {
  if (output.rank === 2) return output as tf.Tensor2D;
  if (output.rank === 4 && pooling === 'avg') return tf.mean(output, [1, 2]) as tf.Tensor2D; // [B, c]
  return tf.reshape(output, [output.shape[0]!, -1]) as tf.Tensor2D; // [B, h * w * c]
}

function featureDimOf(shape: (number | null)[], pooling: 'avg' | 'flatten'): number {
  if (shape.length === 4 && pooling === 'avg') return shape[3] as number;
  return shape.slice(1).reduce<number>((a, b) => a * (b ?? NaN), 1);
}

/**
 * Features from layer `layerName` of `model` (`null`: the model's own output).
 *
 * `extract(images)`: `[B, H, W, C]` float32 in [-1, 1], any size and C in {1, 3, 4} ->
 * `[B, D]` float32 (a rank-4 layer output is average-pooled over space unless `pooling` says
 * 'flatten').
 */
export function layerFeatureExtractor(
  model: tfl.LayersModel,
  layerName: string | null,
  options: LayerFeatureExtractorOptions = {},
): FeatureExtractor {
  const config = { ...LAYER_FEATURE_EXTRACTOR_DEFAULTS, ...options };
  const inputShape = model.inputs[0]?.shape ?? [];
  const [, modelHeight, modelWidth, modelChannels] = inputShape;
  let output: tfl.SymbolicTensor;
  if (layerName === null) {
    output = model.outputs[0] as tfl.SymbolicTensor;
  } else {
    let layer: tfl.layers.Layer;
    try {
      layer = model.getLayer(layerName);
    } catch {
      const names = model.layers.map((l) => l.name);
      throw new GensynthError('INVALID_ARGUMENT', {
        where: 'layerFeatureExtractor(layerName)',
        expected: `the name of a layer of '${model.name}'`,
        received: `${JSON.stringify(layerName)}; layers: ${names.slice(-12).join(', ')}`,
        fix: 'Pick a layer name from model.layers (often the penultimate one).',
      });
    }
    output = layer.output as tfl.SymbolicTensor;
  }
  const inputSize = config.inputSize ?? [modelHeight ?? NaN, modelWidth ?? NaN];
  const inputChannels = config.inputChannels ?? (modelChannels === 1 ? 1 : 3);
  if (inputShape.length !== 4 || !inputSize.every((s) => Number.isInteger(s) && s > 0)) {
    throw new GensynthError('INVALID_ARGUMENT', {
      where: 'layerFeatureExtractor(model)',
      expected: 'a model with image input [null, H, W, C], or options.inputSize',
      received: `input shape [${inputShape}]`,
      fix: 'Pass options.inputSize for models with an unknown input size.',
    });
  }
  const cut = tfl.model({ inputs: model.inputs, outputs: output, name: `${model.name}_features` });
  const spec: InputSpec = {
    inputSize,
    inputChannels,
    inputRange: config.inputRange,
    fit: config.fit,
  };
  const name = config.name ?? `${model.name}/${layerName ?? 'output'}`;
  const where = `${name}.extract(images)`;

  return {
    name,
    inputSize,
    inputChannels,
    inputRange: config.inputRange,
    featureDim: featureDimOf(output.shape, config.pooling),
    extract(images: tf.Tensor4D): tf.Tensor2D {
      return tf.tidy(() => {
        const prepared = prepareImages(images, spec, where);
        return toFeatureMatrix(cut.predict(prepared) as tf.Tensor, config.pooling);
      });
    },
    dispose(): void {
      if (config.ownsModel) model.dispose();
    },
  };
}
