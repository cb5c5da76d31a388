import * as tf from '@tensorflow/tfjs-core';
import { initBackend, silentLogger } from '@gensynth/core';
import { createDiffusionModel } from './diffusion-model';

/**
 * Issue 3: the UNet trains on the WASM backend with gradients equal to the CPU backend's to 1e-4,
 * relative to each variable's largest gradient.
 */
async function gradients(
  backend: 'cpu' | 'wasm',
  model: ReturnType<typeof createDiffusionModel>,
  images: number[],
) {
  await initBackend({ force: backend, logger: silentLogger });
  const batch = { images: tf.tensor4d(images, [2, 8, 8, 3]) };
  const { value, grads } = tf.variableGrads(
    () => model.computeLoss(batch, { step: 0, seed: 17 }),
    model.unet.trainableVariables(),
  );
  const out = {
    loss: (await value.data())[0] as number,
    grads: await Promise.all(
      model.unet.trainableVariables().map(async (v) => grads[v.name]!.data()),
    ),
  };
  tf.dispose([value, batch.images, Object.values(grads)]);
  return out;
}

describe('UNet gradients on wasm', () => {
  it('match the CPU backend to 1e-4 relative per variable', async () => {
    await initBackend({ force: 'cpu', logger: silentLogger });
    const model = createDiffusionModel({
      imageShape: { height: 8, width: 8, channels: 3 },
      blockOutChannels: [8, 16],
      normNumGroups: 4,
      attention: true,
      predictionType: 'v_prediction',
      numTrainTimesteps: 100,
      seed: 21,
    });
    const images = Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => Math.sin(0.21 * i * i));
    const cpu = await gradients('cpu', model, images);
    const wasm = await gradients('wasm', model, images);
    expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-5 * Math.abs(cpu.loss));
    const names = model.unet.weightNames();
    const worst = cpu.grads.map((g, i) => {
      const w = wasm.grads[i]!;
      let maxAbs = 0;
      let maxDiff = 0;
      g.forEach((v, j) => {
        maxAbs = Math.max(maxAbs, Math.abs(v));
        maxDiff = Math.max(maxDiff, Math.abs(v - (w[j] as number)));
      });
      return { name: names[i], relative: maxAbs === 0 ? maxDiff : maxDiff / maxAbs };
    });
    const failing = worst.filter((w) => !(w.relative <= 1e-4));
    expect(failing).toEqual([]);
    await initBackend({ force: 'cpu', logger: silentLogger });
    model.dispose();
  });
});
