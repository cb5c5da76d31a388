/** Replacements made for speed (BatchMatMul, _FusedMatMul, Tile, Slice) must not change results. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of every op
import { isGensynthError } from '../../errors';
import { initTestBackends, onBothBackends, relativeError, runOn, seeded } from '../testing';

beforeAll(initTestBackends);

describe('BatchMatMul and _FusedMatMul on wasm', () => {
  it('multiplies hand-computed 2x2 matrices with every transpose flag', async () => {
    // a = [[1, 2], [3, 4]], b = [[5, 6], [7, 8]]: ab = [[19, 22], [43, 50]],
    // a^T b = [[26, 30], [38, 44]], a b^T = [[17, 23], [39, 53]], a^T b^T = [[23, 31], [34, 46]].
    const out = await runOn('wasm', () => {
      const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
      const b = tf.tensor2d([5, 6, 7, 8], [2, 2]);
      return [
        tf.matMul(a, b),
        tf.matMul(a, b, true),
        tf.matMul(a, b, false, true),
        tf.matMul(a, b, true, true),
      ];
    });
    expect(out.map((r) => Array.from(r.values))).toEqual([
      [19, 22, 43, 50],
      [26, 30, 38, 44],
      [17, 23, 39, 53],
      [23, 31, 34, 46],
    ]);
  });

  it('multiplies a hand-computed 2x2 by 2x4 product with bias and relu', async () => {
    // [[1, 2], [3, 4]] x [[1, 0, 2, 1], [0, 1, 1, -1]] = [[1, 2, 4, -1], [3, 4, 10, -1]]
    const [out] = await runOn('wasm', () =>
      tf.fused.matMul({
        a: tf.tensor2d([1, 2, 3, 4], [2, 2]),
        b: tf.tensor2d([1, 0, 2, 1, 0, 1, 1, -1], [2, 4]),
        bias: tf.tensor1d([0, 0, -5, 0]),
        activation: 'relu',
      }),
    );
    expect(Array.from(out!.values)).toEqual([1, 2, 0, 0, 3, 4, 5, 0]);
  });

  it.each([
    { a: [7, 5], b: [5, 3], ta: false, tb: false },
    { a: [5, 7], b: [5, 3], ta: true, tb: false },
    { a: [7, 5], b: [3, 5], ta: false, tb: true },
    { a: [5, 7], b: [3, 5], ta: true, tb: true },
    { a: [4, 6, 5], b: [4, 6, 3], ta: true, tb: false },
    { a: [1, 6, 5], b: [4, 3, 5], ta: false, tb: true },
    // N a multiple of 4: gensynth's native kernel (8- and 4-column tiles, a 1-row tail).
    { a: [13, 37], b: [37, 20], ta: false, tb: false },
    { a: [37, 13], b: [37, 20], ta: true, tb: false },
    { a: [13, 37], b: [20, 37], ta: false, tb: true },
    { a: [1, 37, 13], b: [1, 20, 37], ta: true, tb: true },
    { a: [64, 100], b: [100, 2048], ta: false, tb: false },
  ])('matches cpu for a $a, b $b, transposeA $ta, transposeB $tb', async (c) => {
    const { wasm, cpu } = await onBothBackends(() => [
      tf.matMul(seeded(c.a, 1), seeded(c.b, 2), c.ta, c.tb),
      tf.fused.matMul({
        a: seeded(c.a, 1),
        b: seeded(c.b, 2),
        transposeA: c.ta,
        transposeB: c.tb,
        bias: seeded([c.tb ? c.b.at(-2)! : c.b.at(-1)!], 3),
        activation: 'relu',
      }),
    ]);
    expect(wasm.map((r) => r.shape)).toEqual(cpu.map((r) => r.shape));
    wasm.forEach((r, i) => expect(relativeError(r.values, cpu[i]!.values)).toBeLessThan(1e-5));
  });

  it('adds a bias of every broadcastable shape as it broadcasts (found by fuzzing)', async () => {
    // [n, 1] with M == n has n values but runs down the rows; the stock fused kernel throws on
    // any bias of rank other than 1.
    const { wasm, cpu } = await onBothBackends(() =>
      [[8, 1], [1, 6], [8, 6], [], [6]].map((shape) =>
        tf.fused.matMul({
          a: seeded([8, 5], 1),
          b: seeded([5, shape[0] === 8 && shape[1] === 1 ? 8 : 6], 2),
          bias: seeded(shape, 3),
          activation: 'relu',
        }),
      ),
    );
    const errors = wasm.map((r, i) => relativeError(r.values, cpu[i]!.values));
    expect(wasm.map((r) => r.shape)).toEqual(cpu.map((r) => r.shape));
    expect(errors.map((e) => e < 1e-5)).toEqual(errors.map(() => true));
  });

  it('gives zeros (plus bias) for an empty inner dimension (found by fuzzing)', async () => {
    const { wasm, cpu } = await onBothBackends(() => [
      tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4])),
      tf.fused.matMul({
        a: tf.zeros([3, 0]),
        b: tf.zeros([0, 8]),
        bias: tf.ones([8]),
        activation: 'relu',
      }),
    ]);
    wasm.forEach((r, i) => {
      expect(r.shape).toEqual(cpu[i]!.shape);
      expect(Array.from(r.values)).toEqual(Array.from(cpu[i]!.values));
    });
  });

  it('gives dense-layer gradients matching cpu to 1e-4 relative', async () => {
    const { wasm, cpu } = await onBothBackends(() => {
      const f = (x: tf.Tensor, w: tf.Tensor) =>
        tf.sum(tf.mul(tf.matMul(x, w), seeded([16, 24], 3)));
      return tf.grads(f)([seeded([16, 40], 1), seeded([40, 24], 2)]);
    });
    wasm.forEach((r, i) => expect(relativeError(r.values, cpu[i]!.values)).toBeLessThan(1e-4));
  });
});

describe('Tile on wasm', () => {
  it('repeats a hand-made [2, 3] tensor', async () => {
    const [out] = await runOn('wasm', () =>
      tf.tile(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), [2, 2]),
    );
    expect(out!.shape).toEqual([4, 6]);
    expect(Array.from(out!.values)).toEqual([
      1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6,
    ]);
  });

  it.each([
    { shape: [1, 1, 1, 5], reps: [3, 4, 2, 1] },
    { shape: [2, 3, 1], reps: [1, 1, 7] },
    { shape: [3], reps: [5] },
    { shape: [2, 1, 3, 2, 2], reps: [2, 3, 1, 2, 3] },
    { shape: [2, 2], reps: [1, 1] },
  ])('matches cpu for shape $shape and reps $reps', async (c) => {
    const { wasm, cpu } = await onBothBackends(() => [
      tf.tile(seeded(c.shape, 1), c.reps),
      tf.tile(tf.cast(tf.mul(seeded(c.shape, 1), 100), 'int32'), c.reps),
    ]);
    expect(wasm.map((r) => r.shape)).toEqual(cpu.map((r) => r.shape));
    wasm.forEach((r, i) => expect(Array.from(r.values)).toEqual(Array.from(cpu[i]!.values)));
  });

  it('tiles bool tensors and refuses strings clearly', async () => {
    const [out] = await runOn('wasm', () => tf.tile(tf.tensor1d([true, false], 'bool'), [2]));
    expect(Array.from(out!.values)).toEqual([1, 0, 1, 0]);
    const strings = tf.tensor1d(['a', 'b']);
    let error: unknown;
    try {
      tf.tile(strings, [2]);
    } catch (e) {
      error = e;
    }
    expect(isGensynthError(error, 'KERNEL_UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toBe(
      "Tile (gensynth wasm kernel): expected a numeric or bool tensor; received dtype 'string'. Tile string tensors on the cpu backend.",
    );
    strings.dispose();
  });
});

describe('Slice on wasm', () => {
  it('takes a hand-checked window of a [3, 4] tensor', async () => {
    const [out] = await runOn('wasm', () =>
      tf.slice(tf.tensor2d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [3, 4]), [1, 1], [2, 2]),
    );
    expect(Array.from(out!.values)).toEqual([5, 6, 9, 10]);
  });

  it.each([
    { shape: [4, 5, 6, 7], begin: [1, 0, 2, 3], size: [2, 5, 3, 4] },
    { shape: [4, 5, 6, 7], begin: [1, 0, 0, 0], size: [2, -1, -1, -1] },
    { shape: [2, 3, 4, 5, 6], begin: [0, 1, 1, 0, 2], size: [2, 2, 3, 5, 4] },
    { shape: [9], begin: [3], size: [4] },
    { shape: [3, 4], begin: [0, 0], size: [3, 0] },
  ])('matches cpu for shape $shape, begin $begin, size $size', async (c) => {
    const { wasm, cpu } = await onBothBackends(() => [
      tf.slice(seeded(c.shape, 1), c.begin, c.size),
      tf.slice(tf.cast(tf.mul(seeded(c.shape, 1), 100), 'int32'), c.begin, c.size),
    ]);
    expect(wasm.map((r) => r.shape)).toEqual(cpu.map((r) => r.shape));
    wasm.forEach((r, i) => expect(Array.from(r.values)).toEqual(Array.from(cpu[i]!.values)));
  });

  it('gives split and concat gradients matching cpu', async () => {
    const { wasm, cpu } = await onBothBackends(() => {
      const f = (x: tf.Tensor) => {
        const [a, b] = tf.split(x, [2, 3], 3);
        return tf.sum(tf.mul(tf.concat([b!, a!, b!], 3), seeded([2, 3, 4, 8], 2)));
      };
      return tf.grad(f)(seeded([2, 3, 4, 5], 1));
    });
    expect(relativeError(wasm[0]!.values, cpu[0]!.values)).toBeLessThan(1e-5);
  });
});

describe('LeakyRelu on wasm', () => {
  it('scales negative values by alpha (hand-computed)', async () => {
    const [out] = await runOn('wasm', () => tf.leakyRelu(tf.tensor1d([-2, -0.5, 0, 3]), 0.2));
    expect(Array.from(out!.values)).toEqual([-0.4, -0.1, 0, 3].map(Math.fround));
  });

  it.each([0.2, 0.01, 1.5, -0.3])('matches cpu with its gradient for alpha %p', async (alpha) => {
    const { wasm, cpu } = await onBothBackends(() => {
      const x = seeded([2, 5, 6, 3], 1);
      const dx = tf.grad((t: tf.Tensor) =>
        tf.sum(tf.mul(tf.leakyRelu(t, alpha), seeded([2, 5, 6, 3], 2))),
      )(x);
      return [tf.leakyRelu(x, alpha), dx];
    });
    wasm.forEach((r, i) => expect(relativeError(r.values, cpu[i]!.values)).toBeLessThan(1e-6));
  });

  it('keeps the stock behaviour for int32 input (float32 output)', async () => {
    const [out] = await runOn('wasm', () => tf.leakyRelu(tf.tensor1d([-5, 5], 'int32'), 0.5));
    expect(out!.values).toBeInstanceOf(Float32Array);
    expect(Array.from(out!.values)).toEqual([-2.5, 5]);
  });
});
