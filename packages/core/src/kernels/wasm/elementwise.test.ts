import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { initTestBackends, onBothBackends, relativeError, seeded, seededValues } from '../testing';

beforeAll(initTestBackends);

describe('Tanh on wasm', () => {
  it('matches Math.tanh to a few float32 ulps over the whole range', async () => {
    await tf.setBackend('wasm');
    const edges = [0, -0, 1e-30, -1e-8, 0.3, 0.6249, 0.625, -0.6251, 1, -2.5, 8.99, 9, 9.5, -20];
    const values = new Float32Array([
      ...edges,
      ...Array.from(seededValues(4001, 3), (v) => v * 12), // odd length: the scalar tail runs
    ]);
    const out = tf.tidy(() => tf.tanh(tf.tensor1d(values)).dataSync());
    values.forEach((v, i) => {
      const expected = Math.tanh(v);
      const ulp = Math.max(Math.abs(expected) * 2 ** -23, 2 ** -149);
      expect(Math.abs(out[i]! - expected) / ulp).toBeLessThan(4);
    });
    expect(Object.is(out[1], -0)).toBe(true);
  });

  it('keeps infinities at +-1 and NaN as NaN', async () => {
    await tf.setBackend('wasm');
    const out = tf.tidy(() =>
      tf.tanh(tf.tensor1d([Infinity, -Infinity, NaN, 0.5, NaN])).dataSync(),
    );
    expect(Array.from(out.slice(0, 2))).toEqual([1, -1]);
    expect(Number.isNaN(out[2])).toBe(true);
    expect(Number.isNaN(out[4])).toBe(true);
  });
});

describe('LeakyRelu and Identity on wasm', () => {
  it('LeakyRelu matches x > 0 ? x : alpha x by hand, odd lengths included', async () => {
    await tf.setBackend('wasm');
    const values = [-2, -0.5, 0, 0.5, 3, -1e-30, 7, -8, 9];
    const out = tf.tidy(() => tf.leakyRelu(tf.tensor1d(values), 0.2).dataSync());
    values.forEach((v, i) => expect(out[i]).toBeCloseTo(v > 0 ? v : Math.fround(0.2) * v, 7));
    expect(Number.isNaN(tf.tidy(() => tf.leakyRelu(tf.scalar(NaN), 0.2).dataSync()[0]))).toBe(true);
  });

  it('Identity shares its input and frees it only with the last tensor that uses it', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory();
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.engine().runKernel('Identity', { x }) as tf.Tensor;
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });
});

describe('Cast on wasm', () => {
  it('shares data for the same dtype and converts otherwise', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory();
    const x = tf.tensor1d([1.5, -2.25, 3]);
    const same = tf.cast(x, 'float32');
    const ints = tf.cast(x, 'int32');
    const back = tf.cast(tf.tensor1d([1, 0, 2], 'int32'), 'bool');
    x.dispose();
    expect(Array.from(await same.data())).toEqual([1.5, -2.25, 3]);
    expect(Array.from(await ints.data())).toEqual([1, -2, 3]);
    expect(Array.from(await back.data())).toEqual([1, 0, 1]);
    tf.dispose([same, ints, back]);
    expect(tf.memory().numTensors).toBe(before.numTensors + 1); // the int32 input of `back`
  });
});

describe('FusedBatchNorm on wasm', () => {
  it('normalises by hand and matches cpu with and without scale and offset', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
    const y = tf.batchNorm(x, [1, 2, 3, 4], [4, 1, 0.25, 1], [0, 1, 0, 0], [1, 1, 2, 3], 0);
    // (x - mean) * scale / sqrt(var) + offset
    expect(Array.from(await y.data())).toEqual([0, 1, 0, 0, 2, 5, 16, 12]);
    tf.dispose([x, y]);
    const { wasm, cpu } = await onBothBackends(() => {
      const xs = seeded([3, 5, 7, 12], 1);
      const mean = seeded([12], 2);
      const variance = tf.add(tf.abs(seeded([12], 3)), 0.1);
      return [
        tf.batchNorm(xs, mean, variance, seeded([12], 4), seeded([12], 5), 1e-3),
        tf.batchNorm(xs, mean, variance, undefined, undefined, 1e-5),
        tf.batchNorm(seeded([2, 3, 3], 6), seeded([3], 7), tf.add(tf.abs(seeded([3], 8)), 1)), // stock
      ];
    });
    wasm.forEach((r, i) => expect(relativeError(r.values, cpu[i]!.values)).toBeLessThan(1e-5));
  });
});
