/**
 * gensynth's replacement gradients give exactly the values of the formulas they replace, on the
 * CPU and WASM backends, and leak nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initTestBackends, seededValues } from './testing';
import type { TestBackend } from './testing';
import { leakyReluGradConfig, meanGradConfig, sumGradConfig } from './gradients';

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

  it.each<TestBackend>(['cpu', 'wasm'])(
    "runs gensynth's one kernel on %s, and gives a NaN input alpha * dy as tfjs-core",
    async (backend) => {
      await tf.setBackend(backend);
      const x = tf.tensor1d([NaN, -1, 2, 0, 3, -4]);
      const dy = tf.tensor1d([1, 2, 3, 4, 5, 6]);
      let dx: tf.Tensor | undefined;
      const profile = await tf.profile(() => {
        dx = tf.grad((input) => tf.leakyRelu(input, 0.5))(x, dy);
      });
      expect(profile.kernels.map((k) => k.name)).toContain('GensynthLeakyReluGrad');
      expect(profile.kernels.map((k) => k.name)).not.toContain('Step');
      expect(Array.from(await dx!.data())).toEqual([0.5, 1, 3, 2, 5, 3]);
      tf.dispose([x, dy, dx!]);
    },
  );

  it('stays differentiable inside a gradient of a gradient (the Step form runs there)', async () => {
    await tf.setBackend('wasm');
    // f(x) = sum(leakyRelu(x)^2 * c); its input gradient g = 2 c lrelu(x) lrelu'(x), and the
    // gradient of sum(g) with respect to c is 2 lrelu(x) lrelu'(x).
    const x = tf.tensor1d([-2, -0.5, 1, 3]);
    const c = tf.variable(tf.tensor1d([1, 2, 3, 4]));
    const { grads } = tf.variableGrads(() => {
      const f = (input: tf.Tensor) => tf.sum(tf.mul(tf.square(tf.leakyRelu(input, 0.2)), c));
      return tf.sum(tf.grad(f)(x)) as tf.Scalar;
    }, [c]);
    // lrelu: -0.4, -0.1, 1, 3; slope 0.2, 0.2, 1, 1.
    const expected = [-0.4 * 0.2, -0.1 * 0.2, 1, 3].map((v) => 2 * v);
    const got = Array.from(await grads[c.name]!.data());
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    tf.dispose([x, c, grads[c.name]!]);
  });

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

describe('Sum and Mean gradients', () => {
  it('are the ones gensynth registers', () => {
    expect(tf.getGradient('Sum')).toBe(sumGradConfig);
    expect(tf.getGradient('Mean')).toBe(meanGradConfig);
  });

  it.each<TestBackend>(['cpu', 'wasm'])(
    'spread dy over the reduced axes exactly on %s (Mean: divided by the reduced size)',
    async (backend) => {
      await tf.setBackend(backend);
      const shape = [3, 4, 5, 6];
      const x = tf.tensor(seededValues(360, 21), shape);
      for (const { axis, keepDims } of [
        { axis: [0, 1, 2], keepDims: false },
        { axis: [1], keepDims: true },
        { axis: [-1, 0], keepDims: false },
      ]) {
        const reduced = tf.tidy(() => tf.sum(x, axis, keepDims));
        const dyValues = seededValues(reduced.size, 22);
        const dy = tf.tensor(dyValues, reduced.shape);
        const [dSum, dMean] = tf.tidy(() => [
          tf.grad((input) => tf.sum(input, axis, keepDims))(x, dy),
          tf.grad((input) => tf.mean(input, axis, keepDims))(x, dy),
        ]);
        // By hand: element (i0, i1, i2, i3) receives dy at its index with the reduced axes at 0.
        const axes = (axis as number[]).map((a) => (a < 0 ? a + 4 : a));
        const n = axes.reduce((p, a) => p * shape[a]!, 1);
        const keptShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
        const expectedSum = new Float32Array(360);
        const expectedMean = new Float32Array(360);
        for (let i = 0; i < 360; i++) {
          const idx = [Math.floor(i / 120), Math.floor(i / 30) % 4, Math.floor(i / 6) % 5, i % 6];
          const k = idx.reduce((p, v, d) => p * keptShape[d]! + (axes.includes(d) ? 0 : v), 0);
          expectedSum[i] = dyValues[k]!;
          expectedMean[i] = Math.fround(dyValues[k]! / n);
        }
        expect(Array.from(await dSum!.data())).toEqual(Array.from(expectedSum));
        expect(Array.from(await dMean!.data())).toEqual(Array.from(expectedMean));
        tf.dispose([reduced, dy, dSum!, dMean!]);
      }
      x.dispose();
    },
  );
});
