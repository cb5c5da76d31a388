/**
 * gensynth's replacement gradients give exactly the values of the formulas they replace, on the
 * CPU and WASM backends, and leak nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initTestBackends, seededValues } from './testing';
import type { TestBackend } from './testing';
import { leakyReluGradConfig } from './gradients';

beforeAll(initTestBackends);

/** dx of leakyRelu by definition: dy where x > 0, else alpha * dy (x = 0 too), in float32. */
function leakyReluGradByHand(x: Float32Array, dy: Float32Array, alpha: number): Float32Array {
  return x.map((xi, i) => (xi > 0 ? dy[i]! : Math.fround(Math.fround(alpha) * dy[i]!)));
}

describe('LeakyRelu gradient', () => {
  it('is the one gensynth registers', () => {
    expect(tf.getGradient('LeakyRelu')).toBe(leakyReluGradConfig);
  });

  it.each<TestBackend>(['cpu', 'wasm'])(
    'equals the definition exactly on %s, zeros and batch > 1 included',
    async (backend) => {
      await tf.setBackend(backend);
      const shape = [3, 5, 7, 4];
      const size = 3 * 5 * 7 * 4;
      const xValues = seededValues(size, 11).map((v, i) => (i % 9 === 0 ? 0 : v));
      const dyValues = seededValues(size, 12);
      const x = tf.tensor(xValues, shape);
      const dy = tf.tensor(dyValues, shape);
      for (const alpha of [0.2, 0.01]) {
        const dx = tf.tidy(() => tf.grad((input) => tf.leakyRelu(input, alpha))(x, dy));
        const expected = leakyReluGradByHand(xValues, dyValues, alpha);
        expect(Array.from(await dx.data())).toEqual(Array.from(expected));
        dx.dispose();
      }
      tf.dispose([x, dy]);
    },
  );

  it('leaks no tensors across 200 gradient calls', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(seededValues(2 * 8 * 8 * 16, 13), [2, 8, 8, 16]);
    const grad = tf.grad((input) => tf.sum(tf.leakyRelu(input, 0.2)));
    tf.dispose(grad(x));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) tf.dispose(grad(x));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
