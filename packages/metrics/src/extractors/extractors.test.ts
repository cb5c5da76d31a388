import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { isGensynthError } from '@gensynth/core';
import { useCpuBackend } from '../testing/backend';
import { fileSystemHandler } from './file-io';
import { inceptionV3FeatureExtractor } from './inception';
import { layerFeatureExtractor } from './layer';

beforeAll(useCpuBackend);

/** conv 1x1 with weights 2 (no bias) named 'double', then a dense head. Input [4, 4, C]. */
function tinyModel(channels = 1): tfl.LayersModel {
  const model = tfl.sequential({ name: 'tiny' });
  model.add(
    tfl.layers.conv2d({
      inputShape: [4, 4, channels],
      filters: 1,
      kernelSize: 1,
      useBias: false,
      kernelInitializer: tfl.initializers.constant({ value: 2 }),
      name: 'double',
    }),
  );
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 3, name: 'head' }));
  return model;
}

describe('layerFeatureExtractor', () => {
  it('average-pools a conv layer after mapping [-1, 1] to the input range', async () => {
    const model = tinyModel();
    const extractor = layerFeatureExtractor(model, 'double', { inputRange: [0, 1] });
    // x in [-1, 1] -> (x + 1) / 2 -> doubled -> mean over 4x4 = mean(x) + 1
    const images = tf.tensor4d(
      Array.from({ length: 32 }, (_, i) => (i % 16) / 8 - 1),
      [2, 4, 4, 1],
    );
    const before = tf.memory().numTensors;
    const features = extractor.extract(images);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(features.shape).toEqual([2, 1]);
    expect(extractor.featureDim).toBe(1);
    // mean of i/8 - 1 over i = 0..15 is 15/16 - 1 = -1/16
    const values = await features.data();
    expect(values[0]).toBeCloseTo(1 - 1 / 16, 6);
    expect(values[1]).toBeCloseTo(1 - 1 / 16, 6);
    tf.dispose([images, features]);
    model.dispose();
  });

  it('converts RGBA to grey and resizes to the model input', async () => {
    const model = tinyModel();
    const extractor = layerFeatureExtractor(model, 'double');
    // constant colour (0.5, -0.5, 0.25, alpha 1) at 8x8: luma 0.299*0.5 - 0.587*0.5 + 0.114*0.25
    const rgba = tf.tidy(() => tf.mul(tf.ones([1, 8, 8, 4]), tf.tensor1d([0.5, -0.5, 0.25, 1])));
    const features = extractor.extract(rgba as tf.Tensor4D);
    const luma = 0.299 * 0.5 - 0.587 * 0.5 + 0.114 * 0.25;
    expect((await features.data())[0]).toBeCloseTo(2 * luma, 5);
    tf.dispose([rgba, features]);
    model.dispose();
  });

  it('names the available layers when the layer does not exist', () => {
    const model = tinyModel();
    expect(() => layerFeatureExtractor(model, 'pool3')).toThrow(
      /layerFeatureExtractor\(layerName\): expected the name of a layer of 'tiny'; received "pool3"; layers: double, .*head/,
    );
    model.dispose();
  });
});

describe('inceptionV3FeatureExtractor and fileSystemHandler', () => {
  it('loads a layers model saved to disk and gives the same features as the original', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gensynth-model-'));
    const model = tinyModel(3);
    await model.save(fileSystemHandler(dir));
    expect(fs.existsSync(path.join(dir, 'weights.bin'))).toBe(true);

    const images = tf.randomUniform([3, 4, 4, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
    const reference = layerFeatureExtractor(model, 'double').extract(images);
    const before = tf.memory().numTensors;
    const url = `file://${path.join(dir, 'model.json')}`;
    const loaded = await inceptionV3FeatureExtractor(url, {
      inputSize: [4, 4],
      featureLayer: 'double',
    });
    expect([loaded.name, loaded.featureDim, loaded.inputChannels]).toEqual([
      'inception-v3-fid',
      1,
      3,
    ]);
    const features = loaded.extract(images);
    expect(Array.from(await features.data())).toEqual(Array.from(await reference.data()));
    features.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([images, reference]);
    model.dispose();
    fs.rmSync(dir, { recursive: true });
  });

  it('asks for @tensorflow/tfjs-converter when given a graph model', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gensynth-graph-'));
    const json = { format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] };
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    const error = await inceptionV3FeatureExtractor(dir).catch((e: unknown) => e);
    expect(isGensynthError(error, 'BACKEND_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toMatch(/npm install @tensorflow\/tfjs-converter/);
    fs.rmSync(dir, { recursive: true });
  });

  it('reports a missing model file as DATA_NOT_FOUND', async () => {
    const error = await inceptionV3FeatureExtractor('/nonexistent/model.json').catch(
      (e: unknown) => e,
    );
    expect(isGensynthError(error, 'DATA_NOT_FOUND')).toBe(true);
  });
});
