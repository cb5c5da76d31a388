/**
 * `Conv2D` and `FusedConv2D` on WASM: gensynth's own SIMD direct convolution
 * (`conv2d_forward` in `wasm/kernels.c`), rows split across the kernel threads.
 *
 * The stock kernels run XNNPACK, which packs the filter whenever it meets a new weights tensor,
 * i.e. once per training step and layer, and hands every call to its own thread pool. The
 * direct kernel packs the HWIO filter itself in one pass (once per weights tensor, see
 * `native/packed.ts`); with fewer than 8 input channels (an RGB image) it reads each filter row
 * as one tap over a zero-padded copy of the input (see `filterRowTaps`), or, with dilated
 * columns, unfolds the input and runs one product (see `fewChannels`). Every NHWC call runs
 * here: output channels are padded to a multiple of 4, other dtypes cast to float32, and a bias
 * that is not one value per channel or an activation other than ReLU applied after, by their own
 * kernels. NCHW goes to the stock kernels.
 *
 * Stock bugs this avoids (found by fuzzing): with a numeric `pad`, tfjs sizes the output with the
 * filter and stride height on both axes while XNNPACK computed the width its own way and wrote
 * past the output tensor (heap corruption); a 'same' convolution with a 1x2 filter and strides
 * [1, 3] came out all zeros; a bias of rank > 1 threw.
 */
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelScope, applyActivation, asFloat32, withScope } from './composite';
import {
  COPY_MACS,
  type NativeKernels,
  heapOffset,
  nativeKernels,
  runNative,
  convGeometry,
} from './native/module';
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

/** The most values the unfolded input (or gradient) of a few-channel call may take (64 MB). */
let maxUnfolded = 16 * 2 ** 20;

/** Change that limit (tests: 0 sends every few-channel convolution to the direct kernel). */
export function setMaxUnfolded(values: number): void {
  maxUnfolded = values;
}

/** The limit, for the transposed convolution's unfolded gradient too. */
export function maxUnfoldedValues(): number {
  return maxUnfolded;
}

let rowTaps = true;

/** Let few-channel convolutions read filter rows as taps (default) or not (tests: the others). */
export function setFilterRowTaps(enabled: boolean): void {
  rowTaps = enabled;
}

const size = util.sizeFromShape;

/**
 * Few input channels (an RGB or grey image) without dilated columns: the direct kernel's inner
 * loop would run over only Ci values per tap. The kw pixels under one filter row lie next to each
 * other in memory, though, so over a zero-padded copy of the input (`pad_spatial`) the same
 * kernel reads each filter row as one tap of kw * Ci values (pixels Ci apart, no padding left:
 * see `conv2d_forward`), and the filter packed for the direct kernel is already packed that way.
 */
function filterRowTaps(
  scope: KernelScope,
  native: NativeKernels,
  x: TensorInfo,
  filter: TensorInfo,
  cpo: number,
  bp: number,
  relu: number,
  y: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const backend = scope.backend;
  const { batchSize, inHeight, inWidth, inChannels: ci, outHeight, outWidth } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // Rows and columns of zeros up to the last window's end, which covers the padding tfjs
  // computed (and any output size it rounded up).
  const hp = Math.max(
    inHeight + top + info.padInfo.bottom,
    (outHeight - 1) * sh + (kh - 1) * info.dilationHeight + 1,
  );
  const wp = Math.max(inWidth + left + info.padInfo.right, (outWidth - 1) * sw + kw);
  let source = x;
  if (hp !== inHeight || wp !== inWidth) {
    source = scope.allocUninitialized([batchSize, hp, wp, ci]);
    runNative(
      backend,
      native,
      'pad_spatial',
      batchSize * hp,
      batchSize * hp * wp * ci * COPY_MACS,
      [
        heapOffset(backend, x),
        heapOffset(backend, source),
        batchSize,
        inHeight,
        inWidth,
        ci,
        top,
        hp - inHeight - top,
        left,
        wp - inWidth - left,
      ],
    );
  }
  const packed = packedFilter(backend, native, filter, cpo, 'conv2d', kh * kw, ci);
  const zeros = scope.alloc([kw * ci]);
  runNative(
    backend,
    native,
    'conv2d_forward',
    batchSize * outHeight,
    size(y.shape) * kh * kw * ci,
    [
      heapOffset(backend, source),
      packed,
      bp,
      heapOffset(backend, zeros),
      heapOffset(backend, y),
      batchSize,
      hp,
      wp,
      kw * ci,
      ci,
      outHeight,
      outWidth,
      cpo,
      kh,
      1,
      sh,
      sw,
      info.dilationHeight,
      1,
      0,
      0,
      relu,
    ],
  );
  return y;
}

/**
 * Few input channels with dilated columns: the direct kernel's inner loop would run over only
 * Ci values per tap, so the input is unfolded instead (`im2col`, [pixels, kh * kw * Ci]) and
 * multiplied by the filter read as [kh * kw * Ci, Co] (`matmul`), both across the kernel threads.
 */
function fewChannels(
  scope: KernelScope,
  native: NativeKernels,
  x: TensorInfo,
  filter: TensorInfo,
  cpo: number,
  bp: number,
  relu: number,
  y: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const backend = scope.backend;
  const { batchSize, inHeight, inWidth, inChannels: ci, outHeight, outWidth } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  const k = kh * kw * ci;
  const pixels = batchSize * outHeight * outWidth;
  const cols = scope.allocUninitialized([pixels, k]);
  const colsp = heapOffset(backend, cols);
  runNative(backend, native, 'im2col', batchSize * outHeight, pixels * k * COPY_MACS, [
    heapOffset(backend, x),
    colsp,
    batchSize,
    inHeight,
    inWidth,
    ci,
    outHeight,
    outWidth,
    ...convGeometry(info),
  ]);
  // the filter [kh, kw, ci, cpo] read as [k, cpo]: the same packing as the direct kernel's
  const wp = packedFilter(backend, native, filter, cpo, 'conv2d', 1, k);
  const yp = heapOffset(backend, y);
  runNative(backend, native, 'matmul', pixels, pixels * k * cpo, [
    colsp,
    wp,
    bp,
    yp,
    pixels,
    k,
    cpo,
    relu,
  ]);
  return y;
}

/**
 * The filter [kh, kw, ci, co] with its output channels padded to `cpo` (zero filters), packed
 * for the direct kernel and the product (as `taps` blocks of `k` rows), cached per weights.
 */
function packedFilter(
  backend: object,
  native: NativeKernels,
  filter: TensorInfo,
  cpo: number,
  kind: string,
  taps: number,
  k: number,
): number {
  const co = filter.shape[3]!;
  return packedFrom(backend, filter, `${kind}:${taps}:${cpo}`, taps * k * cpo, (dst) => {
    if (cpo === co) {
      native.pack_weights(heapOffset(backend, filter), dst, taps, k, co, k * co, co, 1);
      return;
    }
    const inner = new KernelScope(backend as never);
    try {
      const wide = padLast(inner, native, filter, cpo);
      native.pack_weights(heapOffset(backend, wide), dst, taps, k, cpo, k * cpo, cpo, 1);
    } finally {
      inner.dispose();
    }
  });
}

/** `t` with its last axis zero-padded to `to` entries. */
function padLast(scope: KernelScope, native: NativeKernels, t: TensorInfo, to: number): TensorInfo {
  const from = t.shape.at(-1)!;
  const out = scope.allocUninitialized([...t.shape.slice(0, -1), to]);
  native.pad_channels(
    heapOffset(scope.backend, t),
    heapOffset(scope.backend, out),
    size(t.shape) / from,
    from,
    to,
  );
  return out;
}

function convConfig(kernelName: 'Conv2D' | 'FusedConv2D'): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const a = attrs as unknown as ConvAttrs;
      const activation = a.activation ?? 'linear';
      return withScope(backend, (scope) => {
        const native = a.dataFormat !== 'NCHW' ? nativeKernels(backend) : undefined;
        if (native === undefined) {
          return scope.runStock(
            kernelName,
            inputs as Record<string, TensorInfo>,
            attrs as NamedAttrMap,
          );
        }
        const x = asFloat32(scope, inputs.x!);
        const filter = asFloat32(scope, inputs.filter!);
        const bias = inputs.bias === undefined ? undefined : asFloat32(scope, inputs.bias);
        const co = filter.shape[3]!;
        // Output channels padded to a multiple of 4 (zero filters), cropped after.
        const cpo = Math.ceil(co / 4) * 4;
        // A bias of one value per output channel ([Co] or [1, ..., 1, Co]) and ReLU are applied
        // inside the kernel; any other broadcastable bias (e.g. [Ho, Wo, Co]; [Co, 1] is one
        // per column) and activation after it, by their own kernels.
        const perChannel =
          bias === undefined || (size(bias.shape) === co && bias.shape.at(-1) === co);
        const inKernel = perChannel && (activation === 'linear' || activation === 'relu');
        const info = backend_util.computeConv2DInfo(
          x.shape as Shape4,
          filter.shape as Shape4,
          a.strides,
          a.dilations,
          a.pad,
          a.dimRoundingMode,
          false,
          'channelsLast',
        );
        if (size(info.outShape) === 0) return scope.allocUninitialized(info.outShape);
        const { inChannels: ci, filterHeight: kh, filterWidth: kw } = info;
        const padded = cpo === co ? info.outShape : [...info.outShape.slice(0, 3), cpo];
        const y = scope.allocUninitialized(padded);
        const biasIn =
          bias !== undefined && inKernel
            ? cpo === co
              ? bias
              : padLast(scope, native, bias, cpo)
            : undefined;
        const bp = biasIn === undefined ? 0 : heapOffset(backend, biasIn);
        const relu = activation === 'relu' && inKernel ? 1 : 0;
        const finish = (out: TensorInfo): TensorInfo => {
          let result = out;
          if (cpo !== co) {
            result = scope.allocUninitialized(info.outShape);
            native.crop_channels(
              heapOffset(backend, out),
              heapOffset(backend, result),
              size(info.outShape) / co,
              cpo,
              co,
            );
          }
          if (inKernel) return result;
          if (bias !== undefined) result = scope.run('Add', { a: result, b: bias });
          return applyActivation(
            scope,
            result,
            kernelName,
            activation,
            a.leakyreluAlpha,
            inputs.preluActivationWeights,
          );
        };
        if (ci < 8 && rowTaps && info.dilationWidth === 1) {
          return finish(filterRowTaps(scope, native, x, filter, cpo, bp, relu, y, info));
        }
        // The unfolded input is kh * kw times the input's size: above 64 MB the direct kernel
        // runs instead.
        const unfolded = size(info.outShape.slice(0, 3)) * kh * kw * ci;
        if (ci < 8 && unfolded <= maxUnfolded) {
          return finish(fewChannels(scope, native, x, filter, cpo, bp, relu, y, info));
        }
        // (tap, ci, co) in column blocks of co
        const wp = packedFilter(backend, native, filter, cpo, 'conv2d', kh * kw, ci);
        const zeros = scope.alloc([ci]);
        const [xp, zp, yp] = [x, zeros, y].map((t) => heapOffset(backend, t));
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
          ci,
          info.outHeight,
          info.outWidth,
          cpo,
          ...convGeometry(info),
          relu,
        ]);
        return finish(y);
      });
    },
  };
}

export const conv2dConfig = convConfig('Conv2D');
export const fusedConv2dConfig = convConfig('FusedConv2D');
