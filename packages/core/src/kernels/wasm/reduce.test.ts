import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { initTestBackends, onBothBackends, relativeError, seeded } from '../testing';

beforeAll(initTestBackends);

describe('Sum and Mean on wasm', () => {
  it('add by hand over the leading axes', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 2, 3]);
    expect(Array.from(tf.sum(x, [0, 1]).dataSync())).toEqual([22, 26, 30]);
    expect(Array.from(tf.mean(x, 0).dataSync())).toEqual([4, 5, 6, 7, 8, 9]);
    expect(tf.sum(x, [0, 1], true).shape).toEqual([1, 1, 3]);
    x.dispose();
  });

  it.each([
    { shape: [8, 16, 16, 32], axis: [0, 1, 2] },
    { shape: [8, 8, 8, 64], axis: [2, 0, 1] },
    { shape: [5, 7, 3], axis: [0, 1] },
    { shape: [3, 37], axis: 0 },
    { shape: [1, 1, 1, 1], axis: [0, 1, 2] },
    { shape: [2, 3, 21], axis: [-3, -2] },
    { shape: [4, 6, 5], axis: [1] }, // not a prefix: stock kernel
    { shape: [4, 6, 5], axis: [0, 1, 2] }, // every axis: stock kernel
  ])('match cpu for $shape over $axis', async ({ shape, axis }) => {
    for (const keepDims of [false, true]) {
      const { wasm, cpu } = await onBothBackends(() => [
        tf.sum(seeded(shape, 4), axis, keepDims),
        tf.mean(seeded(shape, 5), axis, keepDims),
      ]);
      wasm.forEach((r, i) => {
        expect(r.shape).toEqual(cpu[i]!.shape);
        expect(relativeError(r.values, cpu[i]!.values)).toBeLessThan(1e-5);
      });
    }
  });

  it('give 0 over an empty axis, as the cpu backend (found by fuzzing)', async () => {
    const { wasm, cpu } = await onBothBackends(() => [
      tf.sum(tf.zeros([0, 3], 'int32'), 0),
      tf.sum(tf.zeros([2, 0, 4]), 1, true),
      tf.mean(tf.zeros([0, 5]), 0),
    ]);
    wasm.forEach((r, i) => {
      expect(r.shape).toEqual(cpu[i]!.shape);
      expect(Array.from(r.values)).toEqual(Array.from(cpu[i]!.values));
    });
  });

  it('leave int32 sums to the stock kernel', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
    const s = tf.sum(x, 0);
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.dataSync())).toEqual([4, 6]);
    tf.dispose([x, s]);
  });
});
