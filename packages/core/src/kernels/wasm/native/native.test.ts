import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { initTestBackends, onBothBackends, relativeError, seeded } from '../../testing';
import { NATIVE_WASM_SHARED, NATIVE_WASM_SOURCE_SHA256 } from './binary';
import {
  heapOffset,
  nativeKernelThreads,
  nativeKernels,
  nativeKernelsFma,
  setNativeKernelsDisabled,
} from './module';

interface HeapBackend {
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  disposeData(dataId: object): void;
  wasm: { wasmMemory: object };
}

/** The WebAssembly calls used here (the DOM typings that declare them are not loaded). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** The x86 CPU has FMA instructions (V8 then compiles relaxed multiply-adds to them). */
function cpuHasFma(): boolean {
  try {
    return /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

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
  it('computes the element-wise kernels of a DCGAN-size activation as the CPU backend does', async () => {
    const { wasm, cpu } = await onBothBackends(() => {
      const x = seeded([64, 16, 16, 32], 1);
      const y = seeded([64, 16, 16, 32], 2);
      const c = seeded([32], 3);
      return [
        tf.add(x, y),
        tf.mul(x, c), // a per-channel operand
        tf.div(x, 3),
        tf.leakyRelu(x, 0.2),
        tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(v, 0.2), y)))(x),
        tf.tanh(x),
      ];
    });
    // Sums, products, quotients and the LeakyReLU gradient are exact float32 operations. The CPU
    // backend's LeakyReLU multiplies in float64 before rounding, and tanh is accurate to ulps.
    const exact = [true, true, true, false, true, false];
    wasm.forEach((r, i) => {
      const want = cpu[i]!.values;
      if (exact[i]) {
        let differing = 0;
        for (let k = 0; k < want.length; k++) if (!Object.is(r.values[k], want[k])) differing++;
        expect(differing).toBe(0);
      } else {
        expect(relativeError(r.values, want)).toBeLessThan(1e-6);
      }
    });
  });
});

describe('fused multiply-add variant', () => {
  it('is chosen on Node 20 and later (relaxed SIMD, behind a flag that gensynth turns on)', async () => {
    await tf.setBackend('wasm');
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(20);
    expect(nativeKernelsFma(tf.backend())).toBe(true);
  });

  it('rounds once per multiply-add where the CPU has FMA', async () => {
    await tf.setBackend('wasm');
    // [1, 1+2^-12] . [-(1+2^-11), 1+2^-12]: the running sum is -(1+2^-11), then adding the
    // exact product 1 + 2^-11 + 2^-24 leaves 2^-24. Rounding the product to float32 first
    // (1 + 2^-11, a tie to even) leaves 0.
    const a = tf.tensor2d([[1, 1 + 2 ** -12]]);
    const b = tf.tensor2d([[-(1 + 2 ** -11)], [1 + 2 ** -12]]);
    const b4 = tf.tile(b, [1, 4]); // the native matmul takes N % 4 == 0
    const out = tf.matMul(a, b4);
    const value = (await out.data())[0];
    tf.dispose([a, b, b4, out]);
    if (cpuHasFma()) expect(value).toBe(2 ** -24);
    else expect([0, 2 ** -24]).toContain(value);
  });

  it("agrees with the separate-multiply module at a DCGAN layer's three convolutions", async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as HeapBackend;
    const fused = nativeKernels(backend)!;
    expect(nativeKernelsFma(backend)).toBe(true);
    // The same memory, the module without fused multiply-adds.
    const api = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
    const plain = new api.Instance(new api.Module(Buffer.from(NATIVE_WASM_SHARED, 'base64')), {
      env: { memory: backend.wasm.wasmMemory },
    }).exports as typeof fused;
    const at = (t: tf.TensorInfo) => heapOffset(backend, t);
    const x = seeded([4, 16, 16, 32], 1);
    const w = seeded([4, 4, 32, 64], 2);
    const dy = seeded([4, 8, 8, 64], 3);
    const geometry = [4, 4, 2, 2, 1, 1, 1, 1];
    const zeros = tf.zeros([64]);
    const packed = backend.makeOutput([4 * 4 * 32 * 64], 'float32');
    const packedT = backend.makeOutput([4 * 4 * 32 * 64], 'float32');
    fused.pack_weights(at(w), at(packed), 16, 32, 64, 32 * 64, 64, 1);
    fused.pack_weights(at(w), at(packedT), 16, 64, 32, 32 * 64, 1, 64);
    const outputs: Float32Array[][] = [];
    for (const kernels of [fused, plain]) {
      const y = backend.makeOutput([4, 8, 8, 64], 'float32');
      const dx = backend.makeOutput([4, 16, 16, 32], 'float32');
      const dw = backend.makeOutput([4, 4, 32, 64], 'float32');
      const shapes = [4, 16, 16, 32, 8, 8, 64];
      kernels.conv2d_forward(
        ...[at(x), at(packed), 0, at(zeros), at(y), 4, 16, 16, 32, 32, 8, 8, 64],
        ...[...geometry, 0, 0, 32],
      );
      kernels.conv2d_backprop_input(
        ...[at(dy), at(packedT), at(zeros), at(dx), ...shapes, ...geometry, 0, 64],
      );
      kernels.conv2d_filter_grad(...[at(x), at(dy), at(dw), ...shapes, ...geometry, 0, 16]);
      outputs.push([y, dx, dw].map((t) => backend.typedArrayFromHeap(t).slice()));
      for (const t of [y, dx, dw]) backend.disposeData(t.dataId);
    }
    for (const t of [packed, packedT]) backend.disposeData(t.dataId);
    tf.dispose([x, w, dy, zeros]);
    for (let k = 0; k < 3; k++) {
      expect(relativeError(outputs[0]![k]!, outputs[1]![k]!)).toBeLessThan(1e-5);
    }
    // Different roundings, so not all equal where the CPU fuses.
    if (cpuHasFma()) expect(outputs[0]![0]).not.toEqual(outputs[1]![0]);
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
