import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { initTestBackends, onBothBackends, relativeError, seeded } from '../testing';
import { setFilterRowTaps, setMaxUnfolded } from './conv2d';

beforeAll(initTestBackends);

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
interface Case {
  x: number[];
  w: number[];
  strides: number | [number, number];
  pad: Pad;
  dilations?: number | [number, number];
}

const CASES: Case[] = [
  { x: [1, 1, 1, 1], w: [1, 1, 1, 4], strides: 1, pad: 'valid' },
  { x: [2, 5, 7, 3], w: [3, 3, 3, 8], strides: 1, pad: 'same' },
  { x: [2, 9, 9, 1], w: [3, 3, 1, 8], strides: 2, pad: 'same' }, // grey, as in the MNIST demo
  { x: [3, 9, 6, 5], w: [4, 4, 5, 12], strides: 2, pad: 'same' },
  { x: [2, 7, 9, 4], w: [2, 3, 4, 4], strides: [2, 3], pad: 'valid' },
  { x: [1, 8, 8, 6], w: [3, 3, 6, 16], strides: 1, pad: 'same', dilations: 2 },
  {
    x: [2, 6, 5, 2],
    w: [3, 2, 2, 20],
    strides: 2,
    pad: [
      [0, 0],
      [2, 0],
      [1, 3],
      [0, 0],
    ],
  },
  { x: [2, 16, 16, 32], w: [4, 4, 32, 64], strides: 2, pad: 'same' }, // a DCGAN layer
  { x: [3, 32, 32, 3], w: [4, 4, 3, 32], strides: 2, pad: 'same' }, // DCGAN's RGB layer
  { x: [2, 11, 10, 3], w: [3, 5, 3, 6], strides: 1, pad: 'same', dilations: [2, 1] },
  { x: [1, 5, 3, 2], w: [2, 4, 2, 4], strides: 3, pad: 'same' }, // filter wider than the input
];

describe('Conv2D and FusedConv2D on wasm (direct SIMD kernel)', () => {
  it('matches a hand-computed 2x2 valid convolution with bias and relu', async () => {
    await tf.setBackend('wasm');
    // x [1, 2, 3, 1] = [[1, 2, 3], [4, 5, 6]]; w [2, 2, 1, 4]: channel c has all taps = c - 1.
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
    const w = tf.tensor4d([-1, 0, 1, 2, -1, 0, 1, 2, -1, 0, 1, 2, -1, 0, 1, 2], [2, 2, 1, 4]);
    const y = tf.fused.conv2d({
      x,
      filter: w,
      strides: 1,
      pad: 'valid',
      bias: tf.tensor1d([0, 1, 0, -20]),
      activation: 'relu',
    });
    // window sums: 1+2+4+5 = 12, 2+3+5+6 = 16; channel c: max(0, (c - 1) * sum + bias_c)
    expect(Array.from(await y.data())).toEqual([0, 1, 12, 4, 0, 1, 16, 12]);
    tf.dispose([x, w, y]);
  });

  // Fewer than 8 input channels: filter rows as taps by default (unfolded with dilated columns),
  // unfolded (im2col) without row taps, or the direct kernel with neither.
  it.each(
    CASES.flatMap((c) => [
      { ...c, path: 'row taps' },
      { ...c, path: 'unfold' },
      { ...c, path: 'direct' },
    ]),
  )('matches cpu for x $x, w $w, strides $strides, pad $pad ($path)', async (c) => {
    setFilterRowTaps(c.path === 'row taps');
    setMaxUnfolded(c.path === 'direct' ? 0 : 16 * 2 ** 20);
    const { wasm, cpu } = await onBothBackends(() => {
      const x = seeded(c.x, 1) as tf.Tensor4D;
      const w = seeded(c.w, 2) as tf.Tensor4D;
      const bias = seeded([c.w[3]!], 3) as tf.Tensor1D;
      const args = { x, filter: w, strides: c.strides, pad: c.pad, dilations: c.dilations ?? 1 };
      return [
        tf.conv2d(x, w, c.strides, c.pad, 'NHWC', c.dilations ?? 1),
        tf.fused.conv2d({ ...args, bias }),
        tf.fused.conv2d({ ...args, bias, activation: 'relu' }),
      ];
    });
    setFilterRowTaps(true);
    setMaxUnfolded(16 * 2 ** 20);
    wasm.forEach((r, i) => {
      expect(r.shape).toEqual(cpu[i]!.shape);
      expect(relativeError(r.values, cpu[i]!.values)).toBeLessThan(1e-5);
    });
  });

  it('pads 3 output channels and applies elu and PReLU after the kernel, correctly', async () => {
    const { wasm, cpu } = await onBothBackends(() => {
      const x = seeded([2, 6, 6, 4], 1) as tf.Tensor4D;
      return [
        tf.conv2d(x, seeded([3, 3, 4, 3], 2) as tf.Tensor4D, 1, 'same'),
        tf.fused.conv2d({
          x,
          filter: seeded([3, 3, 4, 8], 2) as tf.Tensor4D,
          strides: 1,
          pad: 'same',
          activation: 'elu',
        }),
        tf.fused.conv2d({
          x,
          filter: seeded([3, 3, 4, 8], 2) as tf.Tensor4D,
          strides: 1,
          pad: 'same',
          activation: 'prelu',
          preluActivationWeights: seeded([8], 4),
        }),
      ];
    });
    wasm.forEach((r, i) => expect(relativeError(r.values, cpu[i]!.values)).toBeLessThan(1e-5));
  });

  it('keeps the stock kernel inside its output for a numeric pad (found by fuzzing)', async () => {
    // tfjs sizes a numeric pad's output width with the stride and filter height: Wo = 1 here,
    // where XNNPACK computed 2 columns and wrote the second past the tensor, corrupting the heap.
    const { wasm, cpu } = await onBothBackends(() => {
      const x = seeded([2, 10, 1, 31], 1) as tf.Tensor4D;
      const w = seeded([3, 3, 31, 11], 2) as tf.Tensor4D;
      return [
        tf.conv2d(x, w, [3, 2], 2 as never),
        tf.conv2d(
          seeded([1, 7, 9, 3], 3) as tf.Tensor4D,
          seeded([2, 4, 3, 5], 4) as tf.Tensor4D,
          [1, 3],
          1 as never,
        ),
        tf.conv2d(x, seeded([3, 3, 31, 12], 5) as tf.Tensor4D, [3, 2], 2 as never),
        tf.conv2d(
          seeded([1, 4, 1, 1], 6) as tf.Tensor4D,
          seeded([3, 1, 1, 1], 7) as tf.Tensor4D,
          [3, 2],
          2 as never,
        ),
        tf.fused.conv2d({
          x: seeded([1, 4, 1, 8], 8) as tf.Tensor4D,
          filter: seeded([3, 1, 8, 4], 9) as tf.Tensor4D,
          strides: [3, 2],
          pad: 2 as never,
          activation: 'elu',
        }),
        // stock XNNPACK gave all zeros for this 'same' geometry
        tf.conv2d(
          seeded([1, 12, 12, 16], 10) as tf.Tensor4D,
          seeded([1, 2, 16, 6], 11) as tf.Tensor4D,
          [1, 3],
          'same',
        ),
      ];
    });
    wasm.forEach((r, i) => {
      expect(r.shape).toEqual(cpu[i]!.shape);
      expect(relativeError(r.values, cpu[i]!.values)).toBeLessThan(1e-5);
    });
    // The heap is intact: later allocations and kernels still work.
    const after = await onBothBackends(() =>
      tf.conv2d(
        seeded([2, 6, 6, 4], 6) as tf.Tensor4D,
        seeded([3, 3, 4, 3], 7) as tf.Tensor4D,
        1,
        'same',
      ),
    );
    expect(relativeError(after.wasm[0]!.values, after.cpu[0]!.values)).toBeLessThan(1e-5);
  });

  it('adds a bias of any broadcastable shape as it broadcasts, not per channel', async () => {
    // Found by fuzzing: with Wo == Co, a [Co, 1] bias has Co values but belongs to the width
    // axis; the stock kernel throws on any bias of rank > 1 ([Ho, Wo, Co] below).
    const { wasm, cpu } = await onBothBackends(() => [
      tf.fused.conv2d({
        x: seeded([1, 5, 8, 8], 1) as tf.Tensor4D,
        filter: seeded([3, 3, 8, 8], 2) as tf.Tensor4D,
        strides: 1,
        pad: 'same',
        bias: seeded([8, 1], 3),
      }),
      tf.fused.conv2d({
        x: seeded([2, 5, 5, 8], 1) as tf.Tensor4D,
        filter: seeded([3, 3, 8, 4], 2) as tf.Tensor4D,
        strides: 1,
        pad: 'same',
        bias: seeded([5, 5, 4], 3),
        activation: 'relu',
      }),
    ]);
    wasm.forEach((r, i) => expect(relativeError(r.values, cpu[i]!.values)).toBeLessThan(1e-5));
  });

  it('gives gradients through tf.grad that match cpu', async () => {
    const { wasm, cpu } = await onBothBackends(() => {
      const x = seeded([2, 9, 9, 4], 1) as tf.Tensor4D;
      const w = seeded([3, 3, 4, 8], 2) as tf.Tensor4D;
      const f = (xx: tf.Tensor4D, ww: tf.Tensor4D) =>
        tf.sum(tf.square(tf.conv2d(xx, ww, 2, 'same')));
      const [dx, dw] = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([x, w]);
      return [dx!, dw!];
    });
    wasm.forEach((r, i) => expect(relativeError(r.values, cpu[i]!.values)).toBeLessThan(1e-4));
  });
});
