/**
 * `Conv2D` and `FusedConv2D` on WASM: gensynth's own SIMD direct convolution
 * (`conv2d_forward` in `wasm/kernels.c`), rows split across the kernel threads.
 *
 * The stock kernels run XNNPACK, which packs the filter whenever it meets a new weights tensor,
 * i.e. once per training step and layer, and hands every call to its own thread pool. The
 * direct kernel packs the HWIO filter itself in one pass (once per weights tensor, see
 * `native/packed.ts`). It covers NHWC float32 with 8 or more input channels and a multiple of 4
 * output channels, any stride, padding and dilation, and a bias of one value per channel with a
 * linear or ReLU activation; everything else (an RGB input, NCHW, other activations, PReLU
 * weights) goes to the stock kernels.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { withScope } from './composite';
import { heapOffset, nativeKernels, runNative } from './native/module';
import { packedFrom } from './native/packed';

type Shape4 = [number, number, number, number];

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  leakyreluAlpha?: number;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function convConfig(kernelName: 'Conv2D' | 'FusedConv2D'): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, filter, bias, preluActivationWeights } = inputs;
      const a = attrs as unknown as ConvAttrs;
      const activation = a.activation ?? 'linear';
      return withScope(backend, (scope) => {
        const co = filter!.shape[3]!;
        const supported =
          a.dataFormat !== 'NCHW' &&
          x!.dtype === 'float32' &&
          filter!.dtype === 'float32' &&
          co % 4 === 0 &&
          // Fewer input channels (an RGB image): XNNPACK's kernel on one thread was faster than
          // this one on two (bench/conv-kernels.mjs; PROFILE.md).
          x!.shape[3]! >= 8 &&
          (activation === 'linear' || activation === 'relu') &&
          preluActivationWeights === undefined &&
          (bias === undefined || (bias.dtype === 'float32' && size(bias.shape) === co));
        const native = supported ? nativeKernels(backend) : undefined;
        if (native === undefined) {
          return scope.runStock(
            kernelName,
            inputs as Record<string, TensorInfo>,
            attrs as NamedAttrMap,
          );
        }
        const info = backend_util.computeConv2DInfo(
          x!.shape as Shape4,
          filter!.shape as Shape4,
          a.strides,
          a.dilations,
          a.pad,
          a.dimRoundingMode,
          false,
          'channelsLast',
        );
        const y = scope.allocUninitialized(info.outShape);
        if (size(info.outShape) === 0) return y;
        const { inChannels: ci, filterHeight: kh, filterWidth: kw } = info;
        const bp = bias === undefined ? 0 : heapOffset(backend, bias);
        const relu = activation === 'relu' ? 1 : 0;
        // (tap, ci, co) in column blocks of co
        const wp = packedFrom(backend, filter!, 'conv2d', kh * kw * ci * co, (dst) =>
          native.pack_weights(heapOffset(backend, filter!), dst, kh * kw, ci, co, ci * co, co, 1),
        );
        const zeros = scope.alloc([ci]);
        const [xp, zp, yp] = [x!, zeros, y].map((t) => heapOffset(backend, t));
        const macs = size(info.outShape) * kh * kw * ci;
        const rows = info.batchSize * info.outHeight;
        runNative(backend, native, 'conv2d_forward', rows, macs, [
          xp!,
          wp,
          bp,
          zp!,
          yp!,
          info.batchSize,
          info.inHeight,
          info.inWidth,
          ci,
          info.outHeight,
          info.outWidth,
          co,
          info.filterHeight,
          info.filterWidth,
          info.strideHeight,
          info.strideWidth,
          info.dilationHeight,
          info.dilationWidth,
          info.padInfo.top,
          info.padInfo.left,
          relu,
        ]);
        return y;
      });
    },
  };
}

export const conv2dConfig = convConfig('Conv2D');
export const fusedConv2dConfig = convConfig('FusedConv2D');
