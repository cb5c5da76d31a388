/**
 * Filter gradient of a 2-D convolution on WASM, composed from the backend's XNNPACK `Conv2D`.
 *
 * Notation for the forward convolution y = conv2d(x, w):
 *   x  [B, H, W, Ci]     input          w  [kh, kw, Ci, Co]  filter
 *   dy [B, Ho, Wo, Co]   gradient of y  sh, sw strides; pt, pl top/left padding
 *   y[b, oy, ox, co] = sum_{i, j, ci} x[b, oy*sh + i - pt, ox*sw + j - pl, ci] * w[i, j, ci, co]
 *
 * Filter gradient:
 *   dw[i, j, ci, co] = sum_{b, oy, ox} x[b, oy*sh + i - pt, ...] * dy[b, oy, ox, co].
 * Swapping the roles of batch and channels turns this into one ordinary convolution: the image is
 * x as [Ci, H, W, B], the filter is dy as [Ho, Wo, B, Co], the stride is 1 and the dilation is
 * the forward stride. Its output [Ci, kh, kw, Co] is dw up to a transpose.
 *
 * That composite form pays for two transposes and, in XNNPACK, for packing dy as a new filter on
 * every call (most of its time on the first layers). For NHWC float32, gensynth's own SIMD kernel
 * (`native/module.ts`, `conv2d_filter_grad` in `wasm/kernels.c`) computes the sum directly from
 * x and dy in place; the composite form remains for NCHW and wherever that module cannot run.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { type KernelScope, asFloat32, checkOutputGradient, withScope } from './composite';
import { crop4d } from './layout';
import { heapOffset, nativeKernels, runNative, convGeometry } from './native/module';

type Shape4 = [number, number, number, number];

/** Attributes shared by Conv2DBackpropFilter and Conv2DBackpropInput. */
export interface BackpropAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** dw [kh, kw, Ci, Co] from x [B, H, W, Ci] (or NCHW) and dy [B, Ho, Wo, Co] (or NCHW). */
export function conv2dBackpropFilter(
  scope: KernelScope,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: Shape4,
  attrs: BackpropAttrs,
): TensorInfo {
  const nhwc = attrs.dataFormat !== 'NCHW';
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    nhwc ? 'channelsLast' : 'channelsFirst',
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { inChannels, outChannels, inHeight, inWidth, outHeight, outWidth } = info;
  checkOutputGradient('Conv2DBackpropFilter', dy, info, nhwc);
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;

  const native = nhwc && x.dtype === 'float32' ? nativeKernels(scope.backend) : undefined;
  if (native !== undefined) {
    const dw = scope.allocUninitialized([kh, kw, inChannels, outChannels]);
    const b = scope.backend;
    const [xp, dyp, dwp] = [heapOffset(b, x), heapOffset(b, dy), heapOffset(b, dw)];
    const macs = info.batchSize * outHeight * outWidth * outChannels * kh * kw * inChannels;
    runNative(b, native, 'conv2d_filter_grad', kh * kw, macs, [
      xp,
      dyp,
      dwp,
      info.batchSize,
      inHeight,
      inWidth,
      inChannels,
      outHeight,
      outWidth,
      outChannels,
      ...convGeometry(info),
    ]);
    return dw;
  }

  // 1. Batch becomes the channel axis of both operands.
  const image = scope.transpose(x, nhwc ? [3, 1, 2, 0] : [1, 2, 3, 0]); // [Ci, H, W, B]
  const filter = scope.transpose(dy, nhwc ? [1, 2, 0, 3] : [2, 3, 0, 1]); // [Ho, Wo, B, Co]

  // 2. Pad so that exactly the rows and columns the forward pass read are covered.
  const bottom = Math.max(0, kh - 1 + (outHeight - 1) * sh + 1 - inHeight - pt);
  const right = Math.max(0, kw - 1 + (outWidth - 1) * sw + 1 - inWidth - pl);
  const pad: backend_util.ExplicitPadding = [
    [0, 0],
    [pt, bottom],
    [pl, right],
    [0, 0],
  ];
  const conv = scope.run('Conv2D', { x: image, filter }, {
    strides: [1, 1],
    pad,
    dilations: [sh, sw],
    dataFormat: 'NHWC',
  } as unknown as NamedAttrMap); // [Ci, >=kh, >=kw, Co]

  // 3. Drop the rows the forward pass never reached (valid padding with a remainder).
  const cropped = crop4d(scope, conv, [0, 0, 0, 0], [inChannels, kh, kw, outChannels]);
  return scope.transpose(cropped, [1, 2, 0, 3]); // [kh, kw, Ci, Co]
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as BackpropAttrs & { filterShape: Shape4 };
    return withScope(backend, (scope) =>
      conv2dBackpropFilter(
        scope,
        asFloat32(scope, inputs.x!),
        asFloat32(scope, inputs.dy!),
        a.filterShape,
        a,
      ),
    );
  },
};
