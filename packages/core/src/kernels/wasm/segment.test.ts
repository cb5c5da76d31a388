import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of every op
import { isGensynthError } from '../../errors';
import { initTestBackends, onBothBackends, relativeError, runOn, seeded } from '../testing';

beforeAll(initTestBackends);

describe('UnsortedSegmentSum on wasm', () => {
  it('sums rows by segment id, skips negative ids and leaves empty segments zero', async () => {
    // Rows [1, 2], [3, 4], [5, 6], [7, 8] with ids [2, 0, 2, -1] and 4 segments:
    // segment 0 = [3, 4]; segment 1 = empty; segment 2 = [1+5, 2+6]; segment 3 = empty.
    const [out] = await runOn('wasm', () =>
      tf.unsortedSegmentSum(
        tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]),
        tf.tensor1d([2, 0, 2, -1], 'int32'),
        4,
      ),
    );
    expect(out!.shape).toEqual([4, 2]);
    expect(Array.from(out!.values)).toEqual([3, 4, 0, 0, 6, 8, 0, 0]);
  });

  it('sums int32 values and keeps their dtype', async () => {
    const [out] = await runOn('wasm', () =>
      tf.unsortedSegmentSum(tf.tensor1d([5, 7, 11], 'int32'), tf.tensor1d([1, 1, 0], 'int32'), 2),
    );
    expect(out!.values).toBeInstanceOf(Int32Array);
    expect(Array.from(out!.values)).toEqual([11, 12]);
  });

  it('matches cpu on a [37, 3, 5] input with 11 segments', async () => {
    const ids = Array.from({ length: 37 }, (_, i) => (i * 7) % 11);
    const { wasm, cpu } = await onBothBackends(() =>
      tf.unsortedSegmentSum(seeded([37, 3, 5], 1), tf.tensor1d(ids, 'int32'), 11),
    );
    expect(wasm[0]!.shape).toEqual(cpu[0]!.shape);
    expect(relativeError(wasm[0]!.values, cpu[0]!.values)).toBeLessThan(1e-6);
  });

  it('gives the gradient of gather (an embedding lookup) matching cpu to 1e-4 relative', async () => {
    const labels = [3, 0, 3, 9, 1, 3, 0, 7];
    const { wasm, cpu } = await onBothBackends(() => {
      const f = (table: tf.Tensor) => {
        const rows = tf.gather(table, tf.tensor1d(labels, 'int32')); // [8, 6]
        return tf.sum(tf.mul(rows, seeded([8, 6], 2)));
      };
      return tf.grad(f)(seeded([10, 6], 1));
    });
    expect(relativeError(wasm[0]!.values, cpu[0]!.values)).toBeLessThan(1e-4);
  });

  it('gives the gradient of gather along axis 1 matching cpu', async () => {
    const { wasm, cpu } = await onBothBackends(() => {
      const f = (x: tf.Tensor) =>
        tf.sum(tf.mul(tf.gather(x, tf.tensor1d([2, 2, 0], 'int32'), 1), seeded([4, 3, 5], 2)));
      return tf.grad(f)(seeded([4, 3, 5], 1));
    });
    expect(relativeError(wasm[0]!.values, cpu[0]!.values)).toBeLessThan(1e-4);
  });

  it('refuses ids at or above numSegments and bool inputs with clear errors', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([1, 2]);
    const ids = tf.tensor1d([0, 5], 'int32');
    expect(() => tf.unsortedSegmentSum(x, ids, 2)).toThrow(
      'UnsortedSegmentSum (gensynth wasm kernel): expected segment ids below numSegments = 2; received segmentIds[1] = 5.',
    );
    let error: unknown;
    try {
      tf.engine().runKernel(
        'UnsortedSegmentSum',
        { x: tf.tensor1d([true, false], 'bool'), segmentIds: ids },
        { numSegments: 6 },
      );
    } catch (e) {
      error = e;
    }
    expect(isGensynthError(error, 'KERNEL_UNSUPPORTED')).toBe(true);
    tf.dispose([x, ids]);
  });
});
