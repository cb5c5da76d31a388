import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, initBackend, silentLogger, setLogger } from '@gensynth/core';
import { createDCGAN } from './dcgan';

beforeAll(async () => {
  setLogger(silentLogger);
  await initBackend({ force: 'cpu', logger: silentLogger });
});

describe('DCGAN learning', () => {
  it('moves its samples toward a constant 8x8 blob within 40 steps', () => {
    // Every training image is the same: a bright 4x4 square (+1) on a dark background (-1).
    const target = tf.tidy(() =>
      tf.reshape(
        tf.sub(
          tf.mul(
            tf.pad(tf.ones([4, 4]), [
              [2, 2],
              [2, 2],
            ]),
            2,
          ),
          1,
        ),
        [1, 8, 8, 1],
      ),
    ) as tf.Tensor4D;
    const images = tf.tile(target, [8, 1, 1, 1]) as tf.Tensor4D; // [8, 8, 8, 1]
    const model = createDCGAN({
      imageShape: { height: 8, width: 8, channels: 1 },
      latentDim: 8,
      generatorFilters: 8,
      discriminatorFilters: 8,
      optimizer: { learningRate: 2e-3 },
      seed: 3,
    });
    // Mean squared distance between the mean of 64 fixed-seed samples and the blob.
    const distance = () =>
      tf.tidy(() => {
        const samples = model.sample(64, { seed: 1 }); // [64, 8, 8, 1]
        return tf
          .mean(tf.square(tf.sub(tf.mean(samples, 0, true), target)))
          .dataSync()[0] as number;
      });

    const before = distance(); // ≈ 1: untrained samples sit near 0, the blob is ±1
    for (let step = 0; step < 40; step++) {
      tf.dispose(Object.values(model.trainStep({ images }, { step, seed: deriveSeed(5, step) })));
    }
    const after = distance();
    expect(before).toBeGreaterThan(0.9);
    expect(after).toBeLessThan(0.7 * before);
    tf.dispose([target, images]);
    model.dispose();
  });
});
