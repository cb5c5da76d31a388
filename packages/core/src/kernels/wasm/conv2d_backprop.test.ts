import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of every op
import { initTestBackends, onBothBackends, relativeError, runOn, seeded } from '../testing';
import type { Result } from '../testing';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

function expectClose(actual: Result[], expected: Result[], tolerance = 1e-5): void {
  expect(actual.map((r) => r.shape)).toEqual(expected.map((r) => r.shape));
  actual.forEach((r, i) =>
    expect(relativeError(r.values, expected[i]!.values)).toBeLessThan(tolerance),
  );
}

beforeAll(initTestBackends);

describe('Conv2DBackpropFilter and Conv2DBackpropInput on wasm', () => {
  it('matches hand-computed gradients of a 2x2 valid convolution', async () => {
    // x = 1..9 in a 3x3 image, w = [[1, 2], [3, 4]], dy = ones [1, 2, 2, 1].
    // dw[i][j] sums the 2x2 windows of x shifted by (i, j): 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9.
    // dx[y][x] sums w over the windows that cover (y, x).
    const [dw, dx] = await runOn('wasm', () => {
      const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
      const w = tf.tensor4d([1, 2, 3, 4], [2, 2, 1, 1]);
      const dy = tf.ones([1, 2, 2, 1]) as tf.Tensor4D;
      return [
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          {
            strides: 1,
            pad: 'valid',
            dataFormat: 'NHWC',
            filterShape: [2, 2, 1, 1],
          },
        ) as tf.Tensor,
        tf.conv2dTranspose(dy, w, [1, 3, 3, 1], 1, 'valid'),
      ];
    });
    expect(Array.from(dw!.values)).toEqual([12, 16, 24, 28]);
    expect(Array.from(dx!.values)).toEqual([1, 3, 2, 4, 10, 6, 3, 7, 4]);
  });

  it('matches hand-computed conv2dTranspose with stride 2 and same padding', async () => {
    // One input pixel of value 1 at (0, 0) through a 3x3 filter 1..9 with stride 2, 'same' on a
    // 2x2 output: the forward conv pads 0 on top/left (total pad 1 goes bottom/right), so output
    // pixel (y, x) takes filter tap (y, x): [[1, 2], [4, 5]].
    const [out] = await runOn('wasm', () => {
      const dy = tf.tensor4d([1], [1, 1, 1, 1]);
      const w = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3, 1, 1]);
      return tf.conv2dTranspose(dy, w, [1, 2, 2, 1], 2, 'same');
    });
    expect(Array.from(out!.values)).toEqual([1, 2, 4, 5]);
  });

  const CASES: { x: number[]; w: number[]; strides: number | [number, number]; pad: Pad }[] = [
    { x: [1, 1, 1, 1], w: [1, 1, 1, 1], strides: 1, pad: 'valid' },
    { x: [1, 5, 5, 1], w: [3, 3, 1, 2], strides: 1, pad: 'same' },
    { x: [2, 7, 9, 3], w: [3, 3, 3, 5], strides: 1, pad: 'same' },
    { x: [2, 7, 9, 3], w: [3, 3, 3, 5], strides: 2, pad: 'same' },
    { x: [3, 7, 9, 3], w: [3, 3, 3, 5], strides: 3, pad: 'valid' },
    { x: [2, 8, 8, 2], w: [4, 4, 2, 3], strides: 2, pad: 'same' },
    { x: [1, 11, 10, 4], w: [2, 5, 4, 6], strides: [2, 3], pad: 'valid' },
    {
      x: [2, 9, 8, 3],
      w: [3, 2, 3, 4],
      strides: [3, 2],
      pad: [
        [0, 0],
        [1, 2],
        [0, 3],
        [0, 0],
      ],
    },
    {
      x: [2, 6, 6, 2],
      w: [5, 5, 2, 2],
      strides: 1,
      pad: [
        [0, 0],
        [2, 0],
        [0, 2],
        [0, 0],
      ],
    },
    { x: [2, 4, 4, 3], w: [4, 4, 3, 2], strides: 3, pad: 'same' },
    { x: [1, 3, 3, 2], w: [3, 3, 2, 2], strides: 2, pad: 'valid' },
    {
      x: [2, 5, 6, 2],
      w: [2, 2, 2, 3],
      strides: 2,
      pad: [
        [0, 0],
        [4, 1],
        [0, 5],
        [0, 0],
      ],
    },
    // Channel counts that exercise every tile of the native filter-gradient kernel: 4x8 tiles,
    // a 1-3 input-channel tail, a 4-wide and a scalar output-channel tail.
    { x: [2, 7, 6, 6], w: [3, 3, 6, 13], strides: 2, pad: 'same' },
    { x: [3, 5, 5, 9], w: [1, 1, 9, 16], strides: 1, pad: 'valid' },
    { x: [1, 1, 1, 4], w: [1, 1, 4, 8], strides: 1, pad: 'valid' },
    { x: [2, 9, 9, 5], w: [4, 4, 5, 12], strides: [1, 2], pad: 'same' },
    // 8+ input channels take the per-phase path of Conv2DBackpropInput.
    { x: [2, 7, 9, 8], w: [3, 3, 8, 5], strides: 2, pad: 'same' },
    { x: [1, 11, 10, 9], w: [2, 5, 9, 4], strides: [2, 3], pad: 'valid' },
    {
      x: [2, 9, 8, 8],
      w: [3, 2, 8, 4],
      strides: [3, 2],
      pad: [
        [0, 0],
        [1, 2],
        [0, 3],
        [0, 0],
      ],
    },
    { x: [2, 4, 4, 8], w: [4, 4, 8, 2], strides: 3, pad: 'same' },
    { x: [1, 6, 5, 8], w: [3, 3, 8, 3], strides: 1, pad: 'same' },
    {
      x: [2, 5, 6, 8],
      w: [2, 2, 8, 3],
      strides: 2,
      pad: [
        [0, 0],
        [4, 1],
        [0, 5],
        [0, 0],
      ],
    },
  ];

  it.each(CASES)('matches cpu for x $x, w $w, strides $strides, pad $pad', async (c) => {
    const x = () => seeded(c.x, 1) as tf.Tensor4D;
    const w = () => seeded(c.w, 2) as tf.Tensor4D;
    const yShape = tf.tidy(() => tf.conv2d(x(), w(), c.strides, c.pad).shape);
    const dy = () => seeded(yShape, 3) as tf.Tensor4D;
    const { wasm, cpu } = await onBothBackends(() => [
      tf.conv2dTranspose(dy(), w(), c.x as [number, number, number, number], c.strides, c.pad),
      tf.engine().runKernel(
        'Conv2DBackpropFilter',
        { x: x(), dy: dy() },
        {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          filterShape: c.w,
        },
      ) as tf.Tensor,
    ]);
    expectClose(wasm, cpu);
  });

  it.each([
    { x: [2, 3, 7, 6], w: [3, 3, 3, 4], strides: 2, pad: 'same' as Pad },
    { x: [1, 2, 5, 5], w: [2, 2, 2, 3], strides: 1, pad: 'valid' as Pad },
    { x: [2, 8, 5, 6], w: [4, 4, 8, 3], strides: 2, pad: 'same' as Pad },
  ])('supports NCHW: x $x, strides $strides, pad $pad', async (c) => {
    const [b, ch, h, wd] = c.x as [number, number, number, number];
    const nhwcShape: [number, number, number, number] = [b, h, wd, ch];
    const yNhwc = tf.tidy(
      () =>
        tf.conv2d(
          seeded(nhwcShape, 1) as tf.Tensor4D,
          seeded(c.w, 2) as tf.Tensor4D,
          c.strides,
          c.pad,
        ).shape,
    );
    const yShape = [yNhwc[0], yNhwc[3], yNhwc[1], yNhwc[2]];
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NCHW' };
    const { wasm, cpu } = await onBothBackends(() => [
      tf.engine().runKernel(
        'Conv2DBackpropFilter',
        { x: seeded(c.x, 1), dy: seeded(yShape, 3) },
        {
          ...attrs,
          filterShape: c.w,
        },
      ) as tf.Tensor,
      tf.engine().runKernel(
        'Conv2DBackpropInput',
        { dy: seeded(yShape, 3), filter: seeded(c.w, 2) },
        {
          ...attrs,
          inputShape: c.x,
        },
      ) as tf.Tensor,
    ]);
    expectClose(wasm, cpu);
  });

  it('computes in float32 from int32 inputs, as the cpu backend does (found by fuzzing)', async () => {
    const { wasm, cpu } = await onBothBackends(() => {
      const dyInt = tf.cast(tf.mul(seeded([2, 4, 4, 8], 3), 5), 'int32') as tf.Tensor4D;
      const wInt = tf.cast(tf.mul(seeded([3, 3, 4, 8], 2), 5), 'int32') as tf.Tensor4D;
      const x = seeded([2, 8, 8, 4], 1) as tf.Tensor4D;
      return [
        tf.conv2dTranspose(seeded([2, 4, 4, 8], 3) as tf.Tensor4D, wInt, [2, 8, 8, 4], 2, 'same'),
        tf.conv2dTranspose(dyInt, seeded([3, 3, 4, 8], 2) as tf.Tensor4D, [2, 8, 8, 4], 2, 'same'),
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x, dy: dyInt },
            { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 4, 8] },
          ) as tf.Tensor,
      ];
    });
    wasm.forEach((r, i) => {
      expect(r.shape).toEqual(cpu[i]!.shape);
      expect(relativeError(r.values, cpu[i]!.values)).toBeLessThan(1e-5);
    });
  });

  it('refuses an output gradient of the wrong size, naming dy (found by fuzzing)', async () => {
    // tfjs does not check dy against the shape the strides and padding imply; the CPU backend
    // then reads the wrong elements (NaN past dy's end).
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const dy = seeded([1, 5, 5, 4], 1) as tf.Tensor4D; // [1, 8, 8, 8] with stride 2 needs 4x4
    const w = seeded([3, 3, 8, 4], 2) as tf.Tensor4D;
    const x = seeded([1, 8, 8, 8], 3) as tf.Tensor4D;
    expect(() => tf.conv2dTranspose(dy, w, [1, 8, 8, 8], 2, 'same')).toThrow(
      /Conv2DBackpropInput.*input 'dy'.*\[1, 4, 4, 4\].*received \[1, 5, 5, 4\]/s,
    );
    expect(() =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 4] },
        ),
    ).toThrow(/Conv2DBackpropFilter.*input 'dy'/s);
    tf.dispose([dy, w, x]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps cached sub-filters apart for reshaped views of the same weights', async () => {
    // Both filters share one data id; a cache keyed on the data id alone would reuse the first.
    const { wasm, cpu } = await onBothBackends(() => {
      const base = seeded([512], 2);
      const first = tf.reshape(base, [4, 4, 8, 4]) as tf.Tensor4D;
      const second = tf.reshape(base, [2, 8, 8, 4]) as tf.Tensor4D;
      const dy = seeded([2, 3, 3, 4], 3) as tf.Tensor4D;
      return [
        tf.conv2dTranspose(dy, first, [2, 6, 6, 8], 2, 'same'),
        tf.conv2dTranspose(dy, second, [2, 6, 6, 8], 2, 'same'),
        tf.conv2dTranspose(dy, first, [2, 6, 6, 8], 2, 'same'),
      ];
    });
    expectClose(wasm, cpu);
  });

  it('matches cpu at DCGAN layer sizes (batch 1-2)', async () => {
    const layers: [number[], number[]][] = [
      [
        [1, 16, 16, 32],
        [4, 4, 32, 64],
      ],
      [
        [2, 8, 8, 64],
        [4, 4, 64, 128],
      ],
    ];
    for (const [xs, ws] of layers) {
      const ys = [xs[0]!, xs[1]! / 2, xs[2]! / 2, ws[3]!];
      const { wasm, cpu } = await onBothBackends(() => [
        tf.conv2dTranspose(
          seeded(ys, 3) as tf.Tensor4D,
          seeded(ws, 2) as tf.Tensor4D,
          xs as [number, number, number, number],
          2,
          'same',
        ),
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x: seeded(xs, 1), dy: seeded(ys, 3) },
          {
            strides: 2,
            pad: 'same',
            dataFormat: 'NHWC',
            filterShape: ws,
          },
        ) as tf.Tensor,
      ]);
      expectClose(wasm, cpu);
    }
  });
});

describe('gradients through tf.grad on wasm', () => {
  const loss = (y: tf.Tensor, seed: number) => tf.sum(tf.mul(y, seeded(y.shape, seed)));

  it('of conv2d match cpu to 1e-4 relative', async () => {
    const { wasm, cpu } = await onBothBackends(() => {
      const f = (x: tf.Tensor, w: tf.Tensor) =>
        loss(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'), 7);
      return tf.grads(f)([seeded([3, 9, 10, 4], 1), seeded([3, 3, 4, 6], 2)]);
    });
    expectClose(wasm, cpu, 1e-4);
  });

  it('of conv2dTranspose match cpu to 1e-4 relative', async () => {
    const { wasm, cpu } = await onBothBackends(() => {
      const f = (x: tf.Tensor, w: tf.Tensor) =>
        loss(tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 10, 10, 3], 2, 'same'), 7);
      return tf.grads(f)([seeded([2, 5, 5, 6], 1), seeded([4, 4, 3, 6], 2)]);
    });
    expectClose(wasm, cpu, 1e-4);
  });

  it('of a conv layer with bias and relu (FusedConv2D) match cpu to 1e-4 relative', async () => {
    const { wasm, cpu } = await onBothBackends(() => {
      const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        loss(
          tf.fused.conv2d({
            x: x as tf.Tensor4D,
            filter: w as tf.Tensor4D,
            strides: 1,
            pad: 'same',
            bias: b,
            activation: 'relu',
          }),
          7,
        );
      return tf.grads(f)([seeded([2, 6, 6, 3], 1), seeded([3, 3, 3, 4], 2), seeded([4], 3)]);
    });
    expectClose(wasm, cpu, 1e-4);
  });
});
