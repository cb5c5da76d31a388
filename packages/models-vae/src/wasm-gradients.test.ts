import * as tf from '@tensorflow/tfjs-core';
import { initBackend, silentLogger } from '@gensynth/core';
import { createConvVAE, type ConvVAE } from './conv-vae';
import type { VaeReconstruction } from './options';

/**
 * Issue 3: the VAE trains on the WASM backend with gradients equal to the CPU backend's to 1e-4,
 * relative to each variable's largest gradient.
 */
async function gradients(backend: 'cpu' | 'wasm', model: ConvVAE, images: number[]) {
  await initBackend({ force: backend, logger: silentLogger });
  const batch = { images: tf.tensor4d(images, [4, 8, 8, 3]) };
  const variables = model.trainableVariables();
  const { value, grads } = tf.variableGrads(
    () => model.computeLosses(batch, { step: 0, seed: 17 })['loss/total'],
    variables,
  );
  const out = {
    loss: (await value.data())[0] as number,
    grads: await Promise.all(variables.map(async (v) => grads[v.name]!.data())),
    names: variables.map((v) => v.name),
  };
  tf.dispose([value, batch.images, Object.values(grads)]);
  return out;
}

describe('ConvVAE gradients on wasm', () => {
  it.each(['gaussian', 'bernoulli'] as VaeReconstruction[])(
    'match the CPU backend to 1e-4 relative per variable (%s)',
    async (reconstruction) => {
      await initBackend({ force: 'cpu', logger: silentLogger });
      const model = createConvVAE({
        imageShape: { height: 8, width: 8, channels: 3 },
        latentDim: 4,
        filters: [8, 16],
        reconstruction,
        seed: 21,
      });
      const images = Array.from({ length: 4 * 8 * 8 * 3 }, (_, i) => Math.sin(0.21 * i * i));
      const cpu = await gradients('cpu', model, images);
      const wasm = await gradients('wasm', model, images);
      expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-5 * Math.abs(cpu.loss));
      const worst = cpu.grads.map((g, i) => {
        const w = wasm.grads[i]!;
        let maxAbs = 0;
        let maxDiff = 0;
        g.forEach((v, j) => {
          maxAbs = Math.max(maxAbs, Math.abs(v));
          maxDiff = Math.max(maxDiff, Math.abs(v - (w[j] as number)));
        });
        return { name: cpu.names[i], relative: maxAbs === 0 ? maxDiff : maxDiff / maxAbs };
      });
      expect(worst.filter((w) => !(w.relative <= 1e-4))).toEqual([]);
      await initBackend({ force: 'cpu', logger: silentLogger });
      model.dispose();
    },
  );
});
