import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { initTestBackends, onBothBackends, runOn, seeded } from '../testing';

beforeAll(initTestBackends);

describe('Add, Sub, Multiply and RealDiv on wasm', () => {
  it('compute hand-made cases of every broadcast they take', async () => {
    const out = await runOn('wasm', () => {
      const m = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
      const row = tf.tensor1d([10, 20, 40]);
      return [
        tf.add(m, m), // equal shapes
        tf.sub(m, row), // [2, 3] - [3]
        tf.mul(row, m), // [3] * [2, 3]
        tf.div(m, tf.scalar(2)), // tensor / one value
        tf.sub(tf.scalar(1), m), // one value - tensor
        tf.mul(m, tf.tensor2d([1, 0, -1], [1, 3])), // [2, 3] * [1, 3]
      ];
    });
    expect(out.map((r) => Array.from(r.values))).toEqual([
      [2, 4, 6, 8, 10, 12],
      [-9, -18, -37, -6, -15, -34],
      [10, 40, 120, 40, 100, 240],
      [0.5, 1, 1.5, 2, 2.5, 3],
      [0, -1, -2, -3, -4, -5],
      [1, 0, -3, 4, 0, -6],
    ]);
  });

  it.each([
    { a: [64, 8, 8, 32], b: [64, 8, 8, 32] },
    { a: [5, 7, 3, 13], b: [13] },
    { a: [1, 1, 1, 13], b: [5, 7, 3, 13] },
    { a: [4, 9], b: [] },
    { a: [], b: [3, 5, 7] },
    { a: [3, 1], b: [1, 4] }, // outer broadcast: stock kernel
    { a: [6, 5], b: [6, 1] }, // broadcast over the last axis: stock kernel
  ])('match cpu exactly for $a with $b', async ({ a, b }) => {
    const { wasm, cpu } = await onBothBackends(() => {
      const x = seeded(a, 1);
      const y = tf.add(seeded(b, 2), 1.5); // no zeros to divide by
      return [tf.add(x, y), tf.sub(x, y), tf.mul(x, y), tf.div(x, y), tf.div(y, x)];
    });
    wasm.forEach((r, i) => {
      expect(r.shape).toEqual(cpu[i]!.shape);
      expect(Array.from(r.values)).toEqual(Array.from(cpu[i]!.values));
    });
  });

  it('leave int32 to the stock kernels', async () => {
    const [sum] = await runOn('wasm', () =>
      tf.add(tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3, 4], 'int32')),
    );
    expect(Array.from(sum!.values)).toEqual([4, 6]);
  });
});
