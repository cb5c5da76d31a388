/**
 * `Conv2D` and `FusedConv2D` on WASM: gensynth's own SIMD direct convolution
 * (`conv2d_forward` in `wasm/kernels.c`), rows split across the kernel threads.
 *
 * The stock kernels run XNNPACK, which packs the filter whenever it meets a new weights tensor,
 * i.e. once per training step and layer, and hands every call to its own thread pool. The
 * direct kernel packs the HWIO filter itself in one pass (once per weights tensor, see
 * `native/packed.ts`); with fewer than 8 input channels (an RGB image) it unfolds the input and
 * runs one product instead (see `fewChannels`). It covers NHWC float32 with a multiple of 4
 * output channels, any stride, padding and dilation, and a bias of one value per channel with a
 * linear or ReLU activation; everything else (NCHW, other activations, PReLU weights) goes to the
 * stock kernels.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { type KernelScope, withScope } from './composite';
import { type NativeKernels, heapOffset, nativeKernels, runNative } from './native/module';
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

/** The most values the unfolded input of a few-channel convolution may take (64 MB). */
let maxUnfolded = 16 * 2 ** 20;

/** Change that limit (tests: 0 sends every few-channel convolution to the direct kernel). */
export function setMaxUnfolded(values: number): void {
  maxUnfolded = values;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Few input channels (an RGB or grey image): the direct kernel's inner loop would run over only
 * Ci values per tap, so the input is unfolded instead (`im2col`, [pixels, kh * kw * Ci]) and
 * multiplied by the filter read as [kh * kw * Ci, Co] (`matmul`), both across the kernel threads.
 */
function fewChannels(
  scope: KernelScope,
  native: NativeKernels,
  x: TensorInfo,
  filter: TensorInfo,
  bp: number,
  relu: number,
  y: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const backend = scope.backend;
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: ci,
    outHeight,
    outWidth,
    outChannels: co,
  } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  const k = kh * kw * ci;
  const pixels = batchSize * outHeight * outWidth;
  const cols = scope.allocUninitialized([pixels, k]);
  const colsp = heapOffset(backend, cols);
  runNative(backend, native, 'im2col', batchSize * outHeight, pixels * k, [
    heapOffset(backend, x),
    colsp,
    batchSize,
    inHeight,
    inWidth,
    ci,
    outHeight,
    outWidth,
    kh,
    kw,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ]);
  const wp = packedFrom(backend, filter, 'im2col', k * co, (dst) =>
    native.pack_weights(heapOffset(backend, filter), dst, 1, k, co, 0, co, 1),
  );
  const yp = heapOffset(backend, y);
  runNative(backend, native, 'matmul', pixels, pixels * k * co, [
    colsp,
    wp,
    bp,
    yp,
    pixels,
    k,
    co,
    relu,
  ]);
  return y;
}

/**
 * The stock kernel, with a numeric `pad` made explicit first. tfjs sizes the output of a numeric
 * pad with the filter height and stride height on both axes, while XNNPACK computes the width
 * from the filter width and stride width: where they differ (a 3x3 filter with strides [3, 2]
 * on a 1-pixel-wide input, found by fuzzing) XNNPACK wrote past the output tensor and corrupted
 * the WASM heap. As explicit padding, with the bottom and right padding that give tfjs's output
 * size (the input cropped where that padding would be negative), both agree.
 */
function stockConv(
  scope: KernelScope,
  kernelName: string,
  inputs: Record<string, TensorInfo | undefined>,
  attrs: ConvAttrs,
): TensorInfo {
  const all = inputs as Record<string, TensorInfo>;
  if (typeof attrs.pad !== 'number' || attrs.dataFormat === 'NCHW') {
    return scope.runStock(kernelName, all, attrs as unknown as NamedAttrMap);
  }
  const x = inputs.x!;
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    inputs.filter!.shape as Shape4,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const span = (out: number, stride: number, taps: number, dilation: number) =>
    (out - 1) * stride + (taps - 1) * dilation + 1;
  const [top, left] = [info.padInfo.top, info.padInfo.left];
  const bottom =
    span(info.outHeight, info.strideHeight, info.filterHeight, info.dilationHeight) -
    info.inHeight -
    top;
  const right =
    span(info.outWidth, info.strideWidth, info.filterWidth, info.dilationWidth) -
    info.inWidth -
    left;
  const cropped = scope.slice(
    x,
    [0, 0, 0, 0],
    [
      x.shape[0]!,
      info.inHeight + Math.min(0, bottom),
      info.inWidth + Math.min(0, right),
      x.shape[3]!,
    ],
  );
  const pad = [
    [0, 0],
    [top, Math.max(0, bottom)],
    [left, Math.max(0, right)],
    [0, 0],
  ];
  return scope.runStock(kernelName, { ...all, x: cropped }, {
    ...attrs,
    pad,
  } as unknown as NamedAttrMap);
}

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
          (activation === 'linear' || activation === 'relu') &&
          preluActivationWeights === undefined &&
          (bias === undefined || bias.dtype === 'float32');
        // A bias of one value per output channel ([Co] or [1, ..., 1, Co]) is added inside the
        // kernel; any other broadcastable bias (e.g. [Ho, Wo, Co]; [Co, 1] is one per column)
        // after it, by Add. The stock kernel throws on a bias of rank > 1.
        const perChannel =
          bias === undefined || (size(bias.shape) === co && bias.shape.at(-1) === co);
        const native = supported ? nativeKernels(backend) : undefined;
        if (native === undefined) return stockConv(scope, kernelName, inputs, a);
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
        const bp = bias === undefined || !perChannel ? 0 : heapOffset(backend, bias);
        const relu = activation === 'relu' && perChannel ? 1 : 0;
        const finish = (out: TensorInfo): TensorInfo => {
          if (perChannel) return out;
          const biased = scope.run('Add', { a: out, b: bias! });
          return activation === 'relu' ? scope.run('Relu', { x: biased }) : biased;
        };
        // The unfolded input is kh * kw times the input's size: above 64 MB the direct kernel
        // runs instead.
        const unfolded = size(info.outShape.slice(0, 3)) * kh * kw * ci;
        if (ci < 8 && unfolded <= maxUnfolded) {
          return finish(fewChannels(scope, native, x!, filter!, bp, relu, y, info));
        }
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
        return finish(y);
      });
    },
  };
}

export const conv2dConfig = convConfig('Conv2D');
export const fusedConv2dConfig = convConfig('FusedConv2D');
