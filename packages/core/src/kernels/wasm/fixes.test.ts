/**
 * Kernels that return silently wrong results in tfjs 4.22. Each test checks gensynth's kernel
 * against a hand-computed expectation and also runs the replaced stock kernel on the same input
 * to show that it gets it wrong; if a tfjs release fixes one, its "stock" assertion fails and the
 * replacement can be dropped.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of every op
import { stockCpuKernel } from '../cpu';
import {
  initTestBackends,
  onBothBackends,
  relativeError,
  runOn,
  runStockKernel,
  seeded,
} from '../testing';
import { stockWasmKernel } from '.';

beforeAll(initTestBackends);

describe('MaxPoolGrad on wasm', () => {
  // One 2x2 window of all-negative values [-4, -1, -3, -2]: its maximum -1 is at index 1, so
  // dy = [5] goes there.
  const attrs = { filterSize: 2, strides: 2, pad: 'valid' };
  const input = () => tf.tensor4d([-4, -1, -3, -2], [1, 2, 2, 1]);
  const dy = () => tf.tensor4d([5], [1, 1, 1, 1]);

  it('passes the gradient of a window whose values are all negative', async () => {
    const [dx] = await runOn(
      'wasm',
      () =>
        tf
          .engine()
          .runKernel(
            'MaxPoolGrad',
            { dy: dy(), input: input(), output: tf.tensor4d([-1], [1, 1, 1, 1]) },
            attrs,
          ) as tf.Tensor,
    );
    expect(Array.from(dx!.values)).toEqual([0, 5, 0, 0]);
  });

  it('replaces a stock kernel that drops that gradient', async () => {
    await tf.setBackend('wasm');
    const tensors = { dy: dy(), input: input(), output: tf.tensor4d([-1], [1, 1, 1, 1]) };
    const stock = runStockKernel(stockWasmKernel('MaxPoolGrad'), tensors, attrs);
    expect(Array.from(stock.values)).not.toEqual([0, 5, 0, 0]);
    tf.dispose(Object.values(tensors));
  });

  it.each([
    { x: [2, 6, 6, 3], size: 2, strides: 2, pad: 'valid' },
    { x: [1, 7, 5, 2], size: 3, strides: 2, pad: 'same' },
    { x: [2, 5, 5, 1], size: 3, strides: 1, pad: 'same' },
    { x: [1, 9, 9, 2], size: [2, 3], strides: [3, 2], pad: 'valid' },
  ])('matches cpu through tf.grad of maxPool for x $x, size $size, pad $pad', async (c) => {
    const { wasm, cpu } = await onBothBackends(
      () =>
        tf.grad((x: tf.Tensor) => {
          const y = tf.maxPool(
            x as tf.Tensor4D,
            c.size as number,
            c.strides as number,
            c.pad as 'same',
          );
          return tf.sum(tf.mul(y, seeded(y.shape, 2)));
        })(tf.sub(seeded(c.x, 1), 0.5)), // mostly negative values
    );
    expect(relativeError(wasm[0]!.values, cpu[0]!.values)).toBeLessThan(1e-6);
  });
});

describe('OneHot on wasm', () => {
  it('writes float32 ones and zeros when asked for float32', async () => {
    const [out] = await runOn('wasm', () =>
      tf.oneHot(tf.tensor1d([1, 0, 2, 5], 'int32'), 3, 1, 0, 'float32'),
    );
    expect(out!.values).toBeInstanceOf(Float32Array);
    expect(Array.from(out!.values)).toEqual([0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0]);
  });

  it('keeps int32 output and custom on/off values', async () => {
    const [out] = await runOn('wasm', () =>
      tf.oneHot(tf.tensor2d([0, 1], [2, 1], 'int32'), 2, 7, -2),
    );
    expect(out!.shape).toEqual([2, 1, 2]);
    expect(Array.from(out!.values)).toEqual([7, -2, -2, 7]);
  });

  it('replaces a stock kernel that writes int32 bit patterns into float32 output', async () => {
    await tf.setBackend('wasm');
    const indices = tf.tensor1d([1], 'int32');
    const stock = runStockKernel(
      stockWasmKernel('OneHot'),
      { indices },
      {
        depth: 2,
        onValue: 1,
        offValue: 0,
        dtype: 'float32',
      },
    );
    const onePattern = new Float32Array(new Int32Array([1]).buffer)[0]; // 1.4e-45
    expect(stock.values[1]).toBe(onePattern);
    indices.dispose();
  });
});

describe('ResizeNearestNeighborGrad', () => {
  // images [2, 2, 2, 1] resized to [2, 4, 4, 1]; dy = 1..32. Each source pixel receives the sum
  // of its 2x2 block: image 0 gets [1+2+5+6, 3+4+7+8, 9+10+13+14, 11+12+15+16], image 1 the
  // same plus 4 * 16.
  const expected = [14, 22, 46, 54, 78, 86, 110, 118];
  const images = () => tf.zeros([2, 2, 2, 1]);
  const dy = () =>
    tf.tensor4d(
      Array.from({ length: 32 }, (_, i) => i + 1),
      [2, 4, 4, 1],
    );
  const attrs = { alignCorners: false, halfPixelCenters: false };

  it.each(['cpu', 'wasm'] as const)(
    'sums each pixel block on %s for a batch of 2',
    async (backend) => {
      const [dx] = await runOn(
        backend,
        () =>
          tf
            .engine()
            .runKernel(
              'ResizeNearestNeighborGrad',
              { images: images(), dy: dy() },
              attrs,
            ) as tf.Tensor,
      );
      expect(Array.from(dx!.values)).toEqual(expected);
    },
  );

  it('replaces a stock cpu kernel that reads dy at the wrong batch offset', async () => {
    await tf.setBackend('cpu');
    const tensors = { images: images(), dy: dy() };
    const stock = runStockKernel(stockCpuKernel('ResizeNearestNeighborGrad'), tensors, attrs);
    expect(Array.from(stock.values.slice(0, 4))).toEqual(expected.slice(0, 4)); // image 0 is right
    expect(Array.from(stock.values.slice(4))).not.toEqual(expected.slice(4)); // image 1 is not
    tf.dispose(Object.values(tensors));
    await tf.setBackend('wasm');
  });

  it.each([
    { x: [3, 5, 4, 2], size: [10, 8], alignCorners: false, halfPixelCenters: false },
    { x: [2, 5, 4, 2], size: [7, 9], alignCorners: true, halfPixelCenters: false },
    { x: [2, 6, 5, 1], size: [4, 11], alignCorners: false, halfPixelCenters: true },
  ])('is the adjoint of the forward resize on both backends: %j', async (c) => {
    // The gradient is the transpose of the linear forward map: sum(resize(x) * dy) = sum(x * dx).
    const { wasm, cpu } = await onBothBackends(() => {
      const x = seeded(c.x, 1);
      const dyT = seeded([c.x[0]!, c.size[0]!, c.size[1]!, c.x[3]!], 2);
      const resize = (t: tf.Tensor) =>
        tf.image.resizeNearestNeighbor(
          t as tf.Tensor4D,
          c.size as [number, number],
          c.alignCorners,
          c.halfPixelCenters,
        );
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(resize(t), dyT)))(x);
      return [tf.sum(tf.mul(resize(x), dyT)), tf.sum(tf.mul(x, dx)), dx];
    });
    for (const r of [wasm, cpu]) {
      expect(Math.abs(r[0]!.values[0]! - r[1]!.values[0]!)).toBeLessThan(1e-3);
    }
    expect(relativeError(wasm[2]!.values, cpu[2]!.values)).toBeLessThan(1e-5);
  });
});

describe('ResizeBilinearGrad', () => {
  it.each(['cpu', 'wasm'] as const)(
    'sums a 1x1 image upsampled to 2x2, per image, on %s',
    async (backend) => {
      // Every output pixel reads the one source pixel with weight 1: dx = sum of each image's dy.
      const [dx] = await runOn(
        backend,
        () =>
          tf.engine().runKernel(
            'ResizeBilinearGrad',
            {
              images: tf.zeros([2, 1, 1, 1]),
              dy: tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]),
            },
            { alignCorners: false, halfPixelCenters: false },
          ) as tf.Tensor,
      );
      expect(Array.from(dx!.values)).toEqual([10, 26]);
    },
  );

  it('replaces a stock cpu kernel that reports the shape [B, W, H, C]', async () => {
    await tf.setBackend('cpu');
    const tensors = { images: tf.zeros([1, 2, 3, 1]), dy: tf.ones([1, 4, 6, 1]) };
    const stock = runStockKernel(stockCpuKernel('ResizeBilinearGrad'), tensors, {
      alignCorners: false,
    });
    expect(stock.shape).toEqual([1, 3, 2, 1]);
    tf.dispose(Object.values(tensors));
    await tf.setBackend('wasm');
  });

  it.each([
    { x: [2, 5, 7, 2], size: [10, 9], alignCorners: false, halfPixelCenters: false },
    { x: [2, 5, 7, 2], size: [9, 4], alignCorners: true, halfPixelCenters: false },
    { x: [2, 6, 5, 1], size: [12, 7], alignCorners: false, halfPixelCenters: true },
  ])('is the adjoint of the forward resize on both backends: %j', async (c) => {
    // The gradient is the transpose of the linear forward map: sum(resize(x) * dy) = sum(x * dx).
    const { wasm, cpu } = await onBothBackends(() => {
      const x = seeded(c.x, 1);
      const dyT = seeded([c.x[0]!, c.size[0]!, c.size[1]!, c.x[3]!], 2);
      const resize = (t: tf.Tensor) =>
        tf.image.resizeBilinear(
          t as tf.Tensor4D,
          c.size as [number, number],
          c.alignCorners,
          c.halfPixelCenters,
        );
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(resize(t), dyT)))(x);
      return [tf.sum(tf.mul(resize(x), dyT)), tf.sum(tf.mul(x, dx)), dx];
    });
    for (const r of [wasm, cpu]) {
      expect(Math.abs(r[0]!.values[0]! - r[1]!.values[0]!)).toBeLessThan(1e-3);
    }
    expect(wasm[2]!.shape).toEqual(c.x);
    expect(relativeError(wasm[2]!.values, cpu[2]!.values)).toBeLessThan(1e-5);
  });
});

describe('AvgPoolGrad on wasm (stock)', () => {
  it.each([
    { x: [2, 6, 6, 3], size: [2, 2], strides: 2, pad: 'valid' },
    { x: [2, 5, 7, 2], size: [3, 2], strides: 2, pad: 'same' },
  ])('matches cpu: %j', async (c) => {
    const { wasm, cpu } = await onBothBackends(() => {
      const pool = (t: tf.Tensor) =>
        tf.avgPool(t as tf.Tensor4D, c.size as [number, number], c.strides, c.pad as 'same');
      const x = seeded(c.x, 1);
      return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pool(t), seeded(pool(x).shape, 3))))(x);
    });
    expect(relativeError(wasm[0]!.values, cpu[0]!.values)).toBeLessThan(1e-5);
  });
});

describe('_FusedMatMul with a bias on a batch of matrices on wasm', () => {
  // a = two 2x2 identity matrices, b = [[1, 2], [3, 4]] and [[5, 6], [7, 8]], bias = [10, 20]:
  // out = b + bias on every row = [[11, 22], [13, 24]] and [[15, 26], [17, 28]].
  const expected = [11, 22, 13, 24, 15, 26, 17, 28];
  const inputs = () => ({
    a: tf.tensor3d([1, 0, 0, 1, 1, 0, 0, 1], [2, 2, 2]),
    b: tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]),
    bias: tf.tensor1d([10, 20]),
  });

  it('adds the bias to every batch matrix', async () => {
    const [out] = await runOn('wasm', () => tf.fused.matMul(inputs()));
    expect(Array.from(out!.values)).toEqual(expected);
  });

  it('replaces a stock kernel that gets it wrong', async () => {
    await tf.setBackend('wasm');
    const tensors = inputs();
    const stock = runStockKernel(stockWasmKernel('_FusedMatMul'), tensors, {
      transposeA: false,
      transposeB: false,
      activation: 'linear',
    });
    expect(Array.from(stock.values)).not.toEqual(expected);
    tf.dispose(Object.values(tensors));
  });
});

describe('Cast to bool', () => {
  it('gives true for every non-zero value, as the CPU backend does', async () => {
    const { wasm, cpu } = await onBothBackends(() => [
      tf.cast(tf.tensor1d([2, 0, -3, 1], 'int32'), 'bool'),
      tf.cast(tf.tensor1d([0.5, 0, -0, NaN, -7]), 'bool'),
    ]);
    expect(Array.from(wasm[0]!.values)).toEqual([1, 0, 1, 1]);
    expect(Array.from(wasm[1]!.values)).toEqual([1, 0, 0, 1, 1]);
    wasm.forEach((r, i) => expect(Array.from(r.values)).toEqual(Array.from(cpu[i]!.values)));
  });

  it('replaces a stock kernel that copies the numbers into the bool buffer', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([2, 0, -3], 'int32');
    const stock = runStockKernel(stockWasmKernel('Cast'), { x }, { dtype: 'bool' });
    expect(Array.from(stock.values)).toEqual([2, 0, 253]); // -3 as a byte
    x.dispose();
  });
});
