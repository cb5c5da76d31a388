/**
 * `FusedBatchNorm` (inference-form batch normalisation with given statistics, which tfjs-layers
 * also runs in training after computing the batch's moments) on WASM, channels last:
 *   out = (x - mean) * scale / sqrt(variance + epsilon) + offset
 * The stock kernel computes it value by value (~2 ms for [64, 16, 16, 32]); gensynth's SIMD
 * kernel (`batch_norm_f32` in `wasm/kernels.c`) computes scale / sqrt(variance + epsilon) once
 * per channel. Statistics that are not one value per channel of the last axis, non-float
 * inputs, or channel counts that are not a multiple of 4 go to the stock kernel.
 */
import { util } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { withScope } from './composite';
import { heapOffset, nativeKernels } from './native/module';

const size = util.sizeFromShape;

export const fusedBatchNormConfig: KernelConfig = {
  kernelName: 'FusedBatchNorm',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, mean, variance, offset, scale } = inputs as Record<string, TensorInfo | undefined>;
    const { varianceEpsilon } = attrs as { varianceEpsilon: number };
    return withScope(backend, (scope) => {
      const channels = x!.shape.at(-1) ?? 1;
      const perChannel = (t: TensorInfo | undefined) =>
        t === undefined ||
        (t.dtype === 'float32' && size(t.shape) === channels && t.shape.at(-1) === channels);
      const supported =
        x!.dtype === 'float32' &&
        x!.shape.length >= 1 &&
        channels % 4 === 0 &&
        size(x!.shape) > 0 &&
        [mean, variance].every((t) => t !== undefined && perChannel(t)) &&
        perChannel(offset) &&
        perChannel(scale);
      const native = supported ? nativeKernels(backend) : undefined;
      if (native === undefined) {
        return scope.runStock(
          'FusedBatchNorm',
          inputs as Record<string, TensorInfo>,
          attrs as never,
        );
      }
      const out = scope.allocUninitialized(x!.shape, 'float32');
      const factor = scope.allocUninitialized([channels], 'float32');
      const at = (t: TensorInfo | undefined) => (t === undefined ? 0 : heapOffset(backend, t));
      native.batch_norm_f32(
        at(x),
        at(mean),
        at(variance),
        at(scale),
        at(offset),
        at(factor),
        at(out),
        size(x!.shape) / channels,
        channels,
        varianceEpsilon,
      );
      return out;
    });
  },
};
