/**
 * Element-wise kernels on WASM.
 *
 * `Tanh`: the stock kernel calls a scalar tanh per value (3.6 ms for [64, 32, 32, 3], the
 * generator's output); gensynth's SIMD kernel (`tanh_f32` in `wasm/kernels.c`) is accurate to a
 * few float32 ulps.
 *
 * `LeakyRelu`: the stock kernel is a scalar loop (2.4 CPU ms on [64, 16, 16, 32]). gensynth's
 * SIMD kernel (`leaky_relu_f32`) replaces it; without that module, XNNPACK's PReLU with a single
 * slope computes the same function in about half the stock time. Non-float inputs go to the
 * stock kernel.
 *
 * `Identity` and same-dtype `Cast`: see below.
 *
 * (JavaScript loops over WASM heap views were tried for Greater and Select, LeakyReLU's gradient,
 * and ran slower than the stock kernels, ~8 ns per element.)
 */
import { util } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import {
  LEAKY_RELU_GRAD_KERNEL,
  checkLeakyReluGradInputs,
  leakyReluGradReference,
} from '../leaky_relu_grad';
import { type WasmBackend, stockWasmKernel, withScope } from './composite';
import { heapOffset, nativeKernels } from './native/module';

const size = util.sizeFromShape;

export const leakyReluConfig: KernelConfig = {
  kernelName: 'LeakyRelu',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const { alpha } = attrs as { alpha: number };
    return withScope(backend, (scope) => {
      if (x.dtype !== 'float32' || size(x.shape) === 0)
        return scope.runStock('LeakyRelu', { x }, { alpha });
      const native = nativeKernels(backend);
      if (native !== undefined) {
        const out = scope.allocUninitialized(x.shape, 'float32');
        native.leaky_relu_f32(
          heapOffset(backend, x),
          heapOffset(backend, out),
          size(x.shape),
          alpha,
        );
        return out;
      }
      const slope = scope.allocUninitialized([1], 'float32');
      scope.view(slope)[0] = alpha;
      return scope.runStock('Prelu', { x, alpha: slope });
    });
  },
};

/**
 * `GensynthLeakyReluGrad` (gensynth's own, see `../gradients.ts`): dx = x > 0 ? dy : alpha * dy
 * in one pass, where the composite gradient runs Step and Multiply.
 */
export const leakyReluGradWasmConfig: KernelConfig = {
  kernelName: LEAKY_RELU_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, x } = checkLeakyReluGradInputs(inputs);
    const { alpha } = attrs as { alpha: number };
    const wasm = backend as unknown as WasmBackend;
    const out = wasm.makeOutput(x.shape, 'float32');
    const native = nativeKernels(backend);
    const n = size(x.shape);
    if (native !== undefined) {
      const at = (t: TensorInfo) => heapOffset(backend, t);
      native.leaky_relu_grad_f32(at(dy), at(x), at(out), n, alpha);
      return out;
    }
    wasm
      .typedArrayFromHeap(out)
      .set(leakyReluGradReference(wasm.typedArrayFromHeap(dy), wasm.typedArrayFromHeap(x), alpha));
    return out;
  },
};

/**
 * `Identity` shares its input's data instead of copying it, as tfjs's CPU backend does (tensors
 * are immutable, so sharing is safe). The stock WASM kernel copied every value; tfjs runs it for
 * each gradient that passes through unchanged (19 times per DCGAN step on [64, 16, 16, 32]).
 */
export const identityConfig: KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const x = inputs.x!;
    if (x.dtype === 'string')
      return stockWasmKernel('Identity')!.kernelFunc({ inputs, backend, attrs: {} });
    (backend as unknown as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
};

/**
 * `Cast` to the dtype a tensor already has shares its data, as `Identity` does; the stock kernel
 * copied it. tfjs-core casts float32 to float32 in every ReLU gradient and in `tf.moments`.
 * Cast to bool is fixed: the stock kernel copied the numbers, so 2 or 0.5 stayed 2 or 0 instead
 * of becoming true (1), as on the CPU backend.
 */
export const castConfig: KernelConfig = {
  kernelName: 'Cast',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const { dtype } = attrs as { dtype: string };
    const wasm = backend as unknown as WasmBackend;
    if (dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) {
      // The stock kernel copies the numbers into the bool buffer (2 stays 2); a bool is x != 0.
      const out = wasm.makeOutput(x.shape, 'bool');
      const src = wasm.typedArrayFromHeap(x);
      const dst = wasm.typedArrayFromHeap(out);
      for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
      return out;
    }
    if (dtype !== x.dtype || x.dtype === 'string' || x.dtype === 'complex64') {
      return stockWasmKernel('Cast')!.kernelFunc({ inputs, backend, attrs: attrs ?? {} });
    }
    wasm.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
};

export const tanhConfig: KernelConfig = {
  kernelName: 'Tanh',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const x = inputs.x!;
    return withScope(backend, (scope) => {
      const native = x.dtype === 'float32' ? nativeKernels(backend) : undefined;
      if (native === undefined) return scope.runStock('Tanh', { x });
      const out = scope.allocUninitialized(x.shape, 'float32');
      native.tanh_f32(heapOffset(backend, x), heapOffset(backend, out), size(x.shape));
      return out;
    });
  },
};
