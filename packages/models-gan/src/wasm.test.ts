import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, initBackend, silentLogger, setLogger } from '@gensynth/core';
import { createDCGAN } from './dcgan';
import type { DCGANOptions } from './options';

// Needs the training kernels of @gensynth/core (kernels/wasm) for Conv2DBackpropFilter and friends.
// One SGD step (learning rate 1) moves every weight by minus its gradient, so comparing the
// weights after one step on 'wasm' and on 'cpu' compares the gradients of both networks.
const OPTIONS: DCGANOptions = {
  imageShape: { height: 16, width: 16, channels: 3 },
  latentDim: 8,
  generatorFilters: 4,
  discriminatorFilters: 4,
  optimizer: { type: 'sgd', learningRate: 1 },
  seed: 21,
};

async function gradientsOfOneStep(backend: 'cpu' | 'wasm', options: DCGANOptions) {
  await initBackend({ force: backend, logger: silentLogger });
  const model = createDCGAN(options);
  const trainable = () =>
    Object.values(model.networks()).flatMap((n) =>
      n.trainableWeights.map((w) => w.read().dataSync().slice()),
    );
  const before = trainable();
  const images = tf.randomUniform([4, 16, 16, 3], -1, 1, 'float32', 8) as tf.Tensor4D;
  const out = model.trainStep({ images }, { step: 0, seed: deriveSeed(3, 0) });
  const losses = Object.fromEntries(
    Object.entries(out).map(([k, t]) => [k, t.dataSync()[0] as number]),
  );
  const grads = trainable().map((w, i) => w.map((x, j) => before[i]![j]! - x));
  tf.dispose([images, ...Object.values(out)]);
  model.dispose();
  return { losses, grads };
}

beforeAll(() => {
  setLogger(silentLogger);
});
afterAll(async () => {
  await initBackend({ force: 'cpu', logger: silentLogger });
});

describe('DCGAN on the wasm backend', () => {
  it.each([
    ['batch norm in G', {}],
    ['R1 and layer norm in D', { r1Gamma: 1, discriminatorNormalization: 'layer' as const }],
  ])('matches the cpu gradients of one step to 1e-4 relative (%s)', async (_, extra) => {
    const cpu = await gradientsOfOneStep('cpu', { ...OPTIONS, ...extra });
    const wasm = await gradientsOfOneStep('wasm', { ...OPTIONS, ...extra });
    for (const key of Object.keys(cpu.losses)) {
      expect(Math.abs(wasm.losses[key]! - cpu.losses[key]!)).toBeLessThan(
        1e-4 * Math.max(1, Math.abs(cpu.losses[key]!)),
      );
    }
    cpu.grads.forEach((g, i) => {
      const scale = Math.max(...Array.from(g).map(Math.abs), 1e-12);
      const worst = Math.max(...Array.from(g).map((x, j) => Math.abs(x - wasm.grads[i]![j]!)));
      expect(worst / scale).toBeLessThan(1e-4);
    });
  });
});
