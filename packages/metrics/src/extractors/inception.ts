/**
 * The FID InceptionV3 as a `FeatureExtractor`, loaded from a converted tfjs model the user
 * supplies (gensynth ships no Inception weights). Standard FID features are the 2048-d pool3
 * output (after Mixed_7c's 8x8 average pool) at 299x299 input.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GensynthError, type FeatureExtractor } from '@gensynth/core';
import { loadModelArtifacts } from './file-io';
import { layerFeatureExtractor, toFeatureMatrix } from './layer';
import { prepareImages, type FitMode } from './preprocess';

export interface InceptionFeatureExtractorOptions {
  name?: string;
  /** Default [299, 299]. */
  inputSize?: [number, number];
  /** The range the converted model expects: [-1, 1] (default; Keras/pytorch-fid ports) or [0, 255] (the TF graph). */
  inputRange?: [number, number];
  /** Layer (layers model) to take features from; default the model's output. */
  featureLayer?: string | null;
  /** Output node to read (graph model); default the model's first output. */
  outputNode?: string | null;
  fit?: FitMode;
}

export const INCEPTION_FEATURE_EXTRACTOR_DEFAULTS = Object.freeze({
  name: 'inception-v3-fid',
  inputSize: [299, 299] as [number, number],
  inputRange: [-1, 1] as [number, number],
  featureLayer: null as string | null,
  outputNode: null as string | null,
  fit: 'resize' as FitMode,
});

interface GraphModelLike {
  execute(inputs: tf.Tensor, outputs?: string): tf.Tensor | tf.Tensor[];
  dispose(): void;
}

/**
 * Load a converted InceptionV3 (`model.json` + weight shards) from a path, `file://` URL or
 * `http(s)://` URL. Layers models load with tfjs-layers; graph models need the optional
 * `@tensorflow/tfjs-converter` package. The extractor owns the model: `dispose()` frees it.
 */
export async function inceptionV3FeatureExtractor(
  modelUrlOrPath: string,
  options: InceptionFeatureExtractorOptions = {},
): Promise<FeatureExtractor> {
  const config = { ...INCEPTION_FEATURE_EXTRACTOR_DEFAULTS, ...options };
  const isHttp = /^https?:\/\//.test(modelUrlOrPath);
  const artifacts = isHttp
    ? await tf.io.http(modelUrlOrPath).load!()
    : await loadModelArtifacts(modelUrlOrPath);
  const memory = tf.io.fromMemory(artifacts);
  const topology = artifacts.modelTopology as Record<string, unknown> | undefined;
  const isGraph =
    artifacts.format === 'graph-model' || (topology !== undefined && 'node' in topology);

  if (!isGraph) {
    const model = await tfl.loadLayersModel(memory);
    return layerFeatureExtractor(model, config.featureLayer, {
      name: config.name,
      inputSize: config.inputSize,
      inputChannels: 3,
      inputRange: config.inputRange,
      fit: config.fit,
      pooling: 'avg',
      ownsModel: true,
    });
  }

  let converter: { loadGraphModel(handler: tf.io.IOHandler): Promise<GraphModelLike> };
  try {
    const specifier = '@tensorflow/tfjs-converter';
    converter = (await import(specifier)) as typeof converter;
  } catch (error) {
    throw new GensynthError(
      'BACKEND_UNAVAILABLE',
      {
        where: 'inceptionV3FeatureExtractor(modelUrlOrPath)',
        expected: '@tensorflow/tfjs-converter installed to run a graph model',
        received: `a graph model at ${JSON.stringify(modelUrlOrPath)} and no converter package`,
        fix: 'Run `npm install @tensorflow/tfjs-converter@^4.22.0`, or convert the model as a layers model.',
      },
      { cause: error },
    );
  }
  const graph = await converter.loadGraphModel(memory);
  const spec = {
    inputSize: config.inputSize,
    inputChannels: 3 as const,
    inputRange: config.inputRange,
    fit: config.fit,
  };
  const run = (images: tf.Tensor4D) =>
    tf.tidy(() => {
      const prepared = prepareImages(images, spec, `${config.name}.extract(images)`);
      const out = graph.execute(prepared, config.outputNode ?? undefined);
      return toFeatureMatrix(Array.isArray(out) ? (out[0] as tf.Tensor) : out, 'avg');
    });
  const probe = tf.tidy(() => run(tf.zeros([1, ...config.inputSize, 3]) as tf.Tensor4D));
  const featureDim = probe.shape[1];
  probe.dispose();
  return {
    name: config.name,
    inputSize: config.inputSize,
    inputChannels: 3,
    inputRange: config.inputRange,
    featureDim,
    extract: run,
    dispose: () => graph.dispose(),
  };
}
