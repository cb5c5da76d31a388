import * as tf from '@tensorflow/tfjs-core';
import { initTestBackends } from './testing';

beforeAll(initTestBackends);

describe('GensynthBatchNormTrain', () => {
  for (const backend of ['cpu', 'wasm']) {
    it(`normalises a hand-computed batch on ${backend}`, async () => {
      await tf.setBackend(backend);
      // Channels 0 and 2: 1, 3 (mean 2, variance 1); 1 and 3: -2, 2 (mean 0, variance 4).
      // Four channels: the SIMD kernel on wasm.
      const x = tf.tensor2d([
        [1, -2, 1, -2],
        [3, 2, 3, 2],
      ]);
      const [y, mean, variance] = tf
        .engine()
        .runKernel(
          'GensynthBatchNormTrain',
          { x, scale: tf.tensor1d([2, 1, 2, 1]), offset: tf.tensor1d([0, 10, 0, 10]) },
          { epsilon: 0 },
        ) as tf.Tensor[];
      expect(Array.from(await mean!.data())).toEqual([2, 0, 2, 0]);
      expect(Array.from(await variance!.data())).toEqual([1, 4, 1, 4]);
      // (x - mean) / sqrt(variance) * scale + offset
      expect(Array.from(await y!.data())).toEqual([-2, 9, -2, 9, 2, 11, 2, 11]);
    });

    it(`names the input of the wrong shape on ${backend}`, async () => {
      await tf.setBackend(backend);
      const run = () =>
        tf
          .engine()
          .runKernel(
            'GensynthBatchNormTrain',
            { x: tf.zeros([2, 3, 4]), scale: tf.ones([3]), offset: tf.zeros([4]) },
            { epsilon: 1e-3 },
          );
      expect(run).toThrow(
        /GensynthBatchNormTrain input 'scale': expected a float32 tensor of shape \[4\]/,
      );
    });
  }
});
