import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { initTestBackends, relativeError, seeded } from '../../testing';
import { NATIVE_WASM_SOURCE_SHA256 } from './binary';
import { nativeKernels, setNativeKernelsDisabled } from './module';

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
