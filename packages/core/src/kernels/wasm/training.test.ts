/**
 * End-to-end check: two Adam steps of a small UNet-style network that uses every layer a GAN,
 * VAE or UNet needs give the same losses and weights on WASM as on the CPU backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initTestBackends, relativeError, seeded } from '../testing';
import type { TestBackend } from '../testing';

type Sym = tfl.SymbolicTensor;

/** [B, 8, 8, 3] images and [B] class ids -> [B, 8, 8, 3] and a [B, 1] critic score. */
function buildNetwork(): tfl.LayersModel {
  const image = tfl.input({ shape: [8, 8, 3] });
  const label = tfl.input({ shape: [1], dtype: 'int32' });
  const embedded = tfl.layers.embedding({ inputDim: 5, outputDim: 16 }).apply(label) as Sym; // [B, 1, 16]
  const conditioning = tfl.layers.reshape({ targetShape: [1, 1, 16] }).apply(embedded) as Sym;
  const scale = tfl.layers.upSampling2d({ size: [8, 8] }).apply(conditioning) as Sym; // [B, 8, 8, 16]

  let h = tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }).apply(image) as Sym;
  h = tfl.layers.multiply().apply([h, scale]) as Sym;
  h = tfl.layers.batchNormalization().apply(h) as Sym;
  const skip = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(h) as Sym; // [B, 8, 8, 16]
  let down = tfl.layers
    .conv2d({ filters: 24, kernelSize: 4, strides: 2, padding: 'same' })
    .apply(skip) as Sym;
  down = tfl.layers.layerNormalization().apply(down) as Sym;
  down = tfl.layers.activation({ activation: 'swish' }).apply(down) as Sym; // [B, 4, 4, 24]
  const pooledMax = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(down) as Sym;
  const pooledAvg = tfl.layers.averagePooling2d({ poolSize: 2 }).apply(down) as Sym;
  let mid = tfl.layers.concatenate().apply([pooledMax, pooledAvg]) as Sym; // [B, 2, 2, 48]
  mid = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }).apply(mid) as Sym;
  let upNearest = tfl.layers.upSampling2d({ size: [2, 2] }).apply(mid) as Sym; // [B, 4, 4, 48]
  upNearest = tfl.layers
    .conv2dTranspose({ filters: 16, kernelSize: 4, strides: 2, padding: 'same' })
    .apply(upNearest) as Sym;
  const upBilinear = tfl.layers
    .upSampling2d({ size: [2, 2], interpolation: 'bilinear' })
    .apply(down) as Sym;
  let merged = tfl.layers.concatenate().apply([upNearest, upBilinear, skip]) as Sym; // [B, 8, 8, 56]
  merged = tfl.layers.reLU().apply(merged) as Sym;
  const out = tfl.layers
    .conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh' })
    .apply(merged) as Sym;
  const flat = tfl.layers.flatten().apply(down) as Sym;
  const score = tfl.layers.dense({ units: 1, activation: 'sigmoid' }).apply(flat) as Sym;
  return tfl.model({ inputs: [image, label], outputs: [out, score] });
}

async function train(backend: TestBackend): Promise<{ losses: number[]; weights: Float32Array[] }> {
  await tf.setBackend(backend);
  const model = buildNetwork();
  const initial = model
    .getWeights()
    .map((w, i) => tf.tidy(() => tf.mul(seeded(w.shape, 100 + i), 0.3)));
  model.setWeights(initial);
  tf.dispose(initial);
  const optimizer = tf.train.adam(1e-2, 0.5);
  const images = seeded([3, 8, 8, 3], 1);
  const labels = tf.tensor2d([4, 0, 4], [3, 1], 'int32');
  const target = tf.tanh(seeded([3, 8, 8, 3], 2));
  const losses: number[] = [];
  for (let step = 0; step < 2; step++) {
    const loss = optimizer.minimize(() => {
      const [out, score] = model.apply([images, labels], { training: true }) as tf.Tensor[];
      return tf.add(tf.losses.meanSquaredError(target, out!), tf.mean(score!)) as tf.Scalar;
    }, true);
    losses.push((await loss!.data())[0]!);
    loss!.dispose();
  }
  const weights = await Promise.all(
    model.getWeights().map(async (w) => (await w.data()) as Float32Array),
  );
  tf.dispose([images, labels, target]);
  optimizer.dispose();
  model.dispose();
  return { losses, weights };
}

beforeAll(initTestBackends);

describe('a UNet-style training step on wasm', () => {
  it('matches the cpu backend in losses and updated weights', async () => {
    const cpu = await train('cpu');
    const wasm = await train('wasm');
    expect(relativeError(wasm.losses, cpu.losses)).toBeLessThan(1e-4);
    expect(wasm.weights.length).toBe(cpu.weights.length);
    wasm.weights.forEach((w, i) => expect(relativeError(w, cpu.weights[i]!)).toBeLessThan(1e-3));
  });
});
