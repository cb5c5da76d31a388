import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of every op
import {
  initTestBackends,
  onBothBackends,
  relativeError,
  runOn,
  seeded,
  seededValues,
} from '../testing';
import type { Result } from '../testing';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

function expectClose(actual: Result[], expected: Result[], tolerance = 1e-5): void {
  expect(actual.map((r) => r.shape)).toEqual(expected.map((r) => r.shape));
  actual.forEach((r, i) =>
    expect(relativeError(r.values, expected[i]!.values)).toBeLessThan(tolerance),
  );
}

beforeAll(initTestBackends);

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Depthwise-convolution gradients straight from the definition, as an independent reference
 * (tfjs's CPU backend ignores dilations in these two kernels):
 *   y[b, oy, ox, c*M + m] =
 *     sum_{i, j} x[b, oy*sh + i*dh - pt, ox*sw + j*dw - pl, c] * w[i, j, c, m]
 */
function referenceGradients(
  xShape: number[],
  wShape: number[],
  strides: number | [number, number],
  pad: Pad,
  dilations: number,
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
): { dx: Float32Array; dw: Float32Array } {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    wShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    undefined,
    true,
  );
  const [B, H, W, C] = xShape as [number, number, number, number];
  const [KH, KW, , M] = wShape as [number, number, number, number];
  const { outHeight: HO, outWidth: WO, strideHeight: SH, strideWidth: SW } = info;
  const { top: PT, left: PL } = info.padInfo;
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < HO; oy++)
      for (let ox = 0; ox < WO; ox++)
        for (let i = 0; i < KH; i++)
          for (let j = 0; j < KW; j++) {
            const y = oy * SH + i * dilations - PT;
            const xx = ox * SW + j * dilations - PL;
            if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
            for (let c = 0; c < C; c++)
              for (let m = 0; m < M; m++) {
                const g = dy[((b * HO + oy) * WO + ox) * C * M + c * M + m]!;
                const xi = ((b * H + y) * W + xx) * C + c;
                const wi = ((i * KW + j) * C + c) * M + m;
                dx[xi] = dx[xi]! + g * w[wi]!;
                dw[wi] = dw[wi]! + g * x[xi]!;
              }
          }
  return { dx, dw };
}

describe('DepthwiseConv2dNativeBackpropInput and ...BackpropFilter on wasm', () => {
  it('matches hand-computed gradients of a 2x2 valid depthwise convolution', async () => {
    // Channel 0 holds 1..9, channel 1 holds 10 * (1..9); w = [[1, 2], [3, 4]] per channel (M = 1).
    // With dy = ones, dw sums each channel's 2x2 windows: [12, 16, 24, 28] and 10x that;
    // dx sums the filter over the windows covering each pixel: [1, 3, 2, 4, 10, 6, 3, 7, 4].
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((v) => [v, 10 * v]);
    const [dw, dx] = await runOn('wasm', () => {
      const dy = tf.ones([1, 2, 2, 2]);
      const attrs = { strides: 1, pad: 'valid', dilations: 1 };
      return [
        tf.engine().runKernel(
          'DepthwiseConv2dNativeBackpropFilter',
          { x: tf.tensor4d(x, [1, 3, 3, 2]), dy },
          {
            ...attrs,
            filterShape: [2, 2, 2, 1],
          },
        ) as tf.Tensor,
        tf.engine().runKernel(
          'DepthwiseConv2dNativeBackpropInput',
          {
            dy,
            filter: tf.tensor4d([1, 1, 2, 2, 3, 3, 4, 4], [2, 2, 2, 1]),
          },
          { ...attrs, inputShape: [1, 3, 3, 2] },
        ) as tf.Tensor,
      ];
    });
    expect(Array.from(dw!.values)).toEqual([12, 120, 16, 160, 24, 240, 28, 280]);
    expect(Array.from(dx!.values)).toEqual([1, 3, 2, 4, 10, 6, 3, 7, 4].flatMap((v) => [v, v]));
  });

  const CASES: {
    x: number[];
    w: number[];
    strides: number | [number, number];
    pad: Pad;
    dilations: number;
  }[] = [
    { x: [1, 1, 1, 1], w: [1, 1, 1, 1], strides: 1, pad: 'valid', dilations: 1 },
    { x: [2, 7, 8, 3], w: [3, 3, 3, 1], strides: 1, pad: 'same', dilations: 1 },
    { x: [2, 7, 8, 3], w: [3, 3, 3, 2], strides: 2, pad: 'same', dilations: 1 },
    { x: [1, 9, 9, 2], w: [3, 2, 2, 3], strides: 3, pad: 'valid', dilations: 1 },
    {
      x: [2, 8, 7, 2],
      w: [2, 3, 2, 2],
      strides: [2, 1],
      pad: [
        [0, 0],
        [1, 0],
        [2, 1],
        [0, 0],
      ],
      dilations: 1,
    },
    { x: [2, 9, 9, 2], w: [3, 3, 2, 2], strides: 1, pad: 'same', dilations: 2 },
    { x: [1, 10, 11, 3], w: [2, 3, 3, 1], strides: 1, pad: 'valid', dilations: 3 },
  ];

  it.each(CASES)(
    'matches the definition (and cpu without dilation) for x $x, w $w, strides $strides, pad $pad, dilations $dilations',
    async (c) => {
      const yShape = tf.tidy(
        () =>
          tf.depthwiseConv2d(
            seeded(c.x, 1) as tf.Tensor4D,
            seeded(c.w, 2) as tf.Tensor4D,
            c.strides,
            c.pad,
            'NHWC',
            c.dilations,
          ).shape,
      );
      const attrs = { strides: c.strides, pad: c.pad, dilations: c.dilations };
      const { wasm, cpu } = await onBothBackends(() => [
        tf.engine().runKernel(
          'DepthwiseConv2dNativeBackpropInput',
          { dy: seeded(yShape, 3), filter: seeded(c.w, 2) },
          {
            ...attrs,
            inputShape: c.x,
          },
        ) as tf.Tensor,
        tf.engine().runKernel(
          'DepthwiseConv2dNativeBackpropFilter',
          { x: seeded(c.x, 1), dy: seeded(yShape, 3) },
          {
            ...attrs,
            filterShape: c.w,
          },
        ) as tf.Tensor,
      ]);
      if (c.dilations === 1) expectClose(wasm, cpu);
      const ref = referenceGradients(
        c.x,
        c.w,
        c.strides,
        c.pad,
        c.dilations,
        seededValues(size(c.x), 1),
        seededValues(size(c.w), 2),
        seededValues(size(yShape), 3),
      );
      expect(relativeError(wasm[0]!.values, ref.dx)).toBeLessThan(1e-5);
      expect(relativeError(wasm[1]!.values, ref.dw)).toBeLessThan(1e-5);
    },
  );

  it('gives gradients of depthwiseConv2d through tf.grad that match cpu to 1e-4 relative', async () => {
    const { wasm, cpu } = await onBothBackends(() => {
      const f = (x: tf.Tensor, w: tf.Tensor) => {
        const y = tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same');
        return tf.sum(tf.mul(y, seeded(y.shape, 7)));
      };
      return tf.grads(f)([seeded([3, 9, 8, 4], 1), seeded([3, 3, 4, 2], 2)]);
    });
    expectClose(wasm, cpu, 1e-4);
  });

  it('gives gradients of separableConv2d through tf.grad that match cpu to 1e-4 relative', async () => {
    const { wasm, cpu } = await onBothBackends(() => {
      const f = (x: tf.Tensor, dw: tf.Tensor, pw: tf.Tensor) => {
        const y = tf.separableConv2d(
          x as tf.Tensor4D,
          dw as tf.Tensor4D,
          pw as tf.Tensor4D,
          1,
          'same',
        );
        return tf.sum(tf.mul(y, seeded(y.shape, 7)));
      };
      return tf.grads(f)([
        seeded([2, 6, 6, 3], 1),
        seeded([3, 3, 3, 2], 2),
        seeded([1, 1, 6, 4], 3),
      ]);
    });
    expectClose(wasm, cpu, 1e-4);
  });
});
