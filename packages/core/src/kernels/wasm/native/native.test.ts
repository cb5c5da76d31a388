import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { initTestBackends, relativeError, seeded } from '../../testing';
import { NATIVE_WASM_SOURCE_SHA256 } from './binary';
import { heapOffset, nativeKernelThreads, nativeKernels, setNativeKernelsDisabled } from './module';

beforeAll(initTestBackends);
afterEach(() => setNativeKernelsDisabled(false));

describe("gensynth's native WASM kernel module", () => {
  it('is built from the committed C source', () => {
    const source = readFileSync(path.join(__dirname, '../../../../wasm/kernels.c'));
    const hash = createHash('sha256').update(source).digest('hex');
    // On a mismatch: `bash packages/core/scripts/build-wasm.sh` (needs clang, lld and wabt).
    expect(hash).toBe(NATIVE_WASM_SOURCE_SHA256);
  });

  it('binds to the running wasm backend', async () => {
    await tf.setBackend('wasm');
    const kernels = nativeKernels(tf.backend());
    expect(kernels).toBeDefined();
    expect(typeof kernels!.conv2d_filter_grad).toBe('function');
  });

  it('gives the composite kernel its values for a DCGAN-size filter gradient', async () => {
    await tf.setBackend('wasm');
    const run = () =>
      tf.tidy(() =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: seeded([8, 16, 16, 32], 1), dy: seeded([8, 8, 8, 64], 2) },
            { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [4, 4, 32, 64] },
          ),
      ) as tf.Tensor;
    const before = tf.memory().numTensors;
    const native = run();
    setNativeKernelsDisabled(true);
    const composite = run();
    const values = [await native.data(), await composite.data()] as Float32Array[];
    tf.dispose([native, composite]);
    expect(tf.memory().numTensors).toBe(before);
    expect(relativeError(values[0]!, values[1]!)).toBeLessThan(1e-5);
  });
});

describe('kernel threads', () => {
  it('give bit-identical results to one thread (each output is summed by one thread)', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as {
      makeOutput(shape: number[], dtype: string): tf.TensorInfo;
      typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
      disposeData(dataId: object): void;
    };
    expect(nativeKernelThreads(backend)).toBe(2);
    const x = seeded([16, 16, 16, 32], 1);
    const dy = seeded([16, 8, 8, 64], 2);
    const attrs = { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [4, 4, 32, 64] };
    const pooled = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor;
    // The same kernel over all 16 taps on this thread alone.
    const single = backend.makeOutput([4, 4, 32, 64], 'float32');
    const at = (t: tf.TensorInfo) => heapOffset(backend, t);
    nativeKernels(backend)!.conv2d_filter_grad(
      ...[at(x), at(dy), at(single), 16, 16, 16, 32, 8, 8, 64, 4, 4, 2, 2, 1, 1, 1, 1, 0, 16],
    );
    const expected = backend.typedArrayFromHeap(single).slice();
    expect(await pooled.data()).toEqual(expected);
    backend.disposeData(single.dataId);
    tf.dispose([x, dy, pooled]);
  });
});
