/**
 * Gradients of a 2-D convolution on WASM, composed from the backend's XNNPACK `Conv2D`.
 *
 * Notation for the forward convolution y = conv2d(x, w):
 *   x  [B, H, W, Ci]     input          w  [kh, kw, Ci, Co]  filter
 *   dy [B, Ho, Wo, Co]   gradient of y  sh, sw strides; pt, pl top/left padding
 *   y[b, oy, ox, co] = sum_{i, j, ci} x[b, oy*sh + i - pt, ox*sw + j - pl, ci] * w[i, j, ci, co]
 *
 * Filter gradient: dw[i, j, ci, co] = sum_{b, oy, ox} x[b, oy*sh + i - pt, ...] * dy[b, oy, ox, co].
 * Swapping the roles of batch and channels turns this into one ordinary convolution: the image is
 * x as [Ci, H, W, B], the filter is dy as [Ho, Wo, B, Co], the stride is 1 and the dilation is
 * the forward stride. Its output [Ci, kh, kw, Co] is dw up to a transpose.
 *
 * Input gradient (also the forward pass of conv2dTranspose): the sub-pixel form. For an output
 * row y let q = (y + pt) div sh and r = (y + pt) mod sh; only taps i = r + sh*m contribute, so
 *   dx[y] = sum_m dy[q - m] * w[r + sh*m]
 * which is a stride-1 convolution of dy with a flipped sub-filter per phase r. All sh*sw phases
 * run as one convolution whose output channels hold the phases; DepthToSpace interleaves them.
 * This does the work of a direct transposed convolution, never the sh*sw times larger work of
 * convolving a zero-dilated dy.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelScope, withScope } from './composite';
import { DerivedFilterCache } from './filter_cache';
import { crop4d, interleavePhases } from './layout';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | backend_util.ExplicitPadding;

interface BackpropAttrs {
  strides: number | [number, number];
  pad: Pad;
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
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;

  // 1. Batch becomes the channel axis of both operands.
  const image = scope.transpose(x, nhwc ? [3, 1, 2, 0] : [1, 2, 3, 0]); // [Ci, H, W, B]
  const filter = scope.transpose(dy, nhwc ? [1, 2, 0, 3] : [2, 3, 0, 1]); // [Ho, Wo, B, Co]

  // 2. Pad so that exactly the rows and columns the forward pass read are covered.
  const bottom = Math.max(0, kh - 1 + (outHeight - 1) * sh + 1 - inHeight - pt);
  const right = Math.max(0, kw - 1 + (outWidth - 1) * sw + 1 - inWidth - pl);
  const pad: backend_util.ExplicitPadding = [[0, 0], [pt, bottom], [pl, right], [0, 0]];
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

/** Sub-pixel filters, reused while their source weights live (see filter_cache.ts). */
const subPixelFilters = new DerivedFilterCache();

/** Sub-pixel filter [Mh, Mw, Co, sh*sw*Ci] holding the flipped taps of every phase. */
function subPixelFilter(scope: KernelScope, w: TensorInfo, sh: number, sw: number): TensorInfo {
  const [kh, kw, ci, co] = w.shape as Shape4;
  const mh = Math.ceil(kh / sh);
  const mw = Math.ceil(kw / sw);
  const phases = sh * sw * ci;
  const backend = scope.backend;
  return subPixelFilters.get(backend, w, `${sh},${sw}`, () => {
    const out = backend.makeOutput([mh, mw, co, phases], 'float32');
    const dst = backend.typedArrayFromHeap(out);
    dst.fill(0);
    const src = backend.typedArrayFromHeap(w);
    fillSubPixel(src, dst, [kh, kw, ci, co], sh, sw);
    return out;
  });
}

function fillSubPixel(
  src: ArrayLike<number>,
  dst: Float32Array | Int32Array | Uint8Array,
  [kh, kw, ci, co]: Shape4,
  sh: number,
  sw: number,
): void {
  const mh = Math.ceil(kh / sh);
  const mw = Math.ceil(kw / sw);
  const phases = sh * sw * ci;
  for (let th = 0; th < mh; th++) {
    for (let rh = 0; rh < sh; rh++) {
      const i = rh + sh * (mh - 1 - th);
      if (i >= kh) continue;
      for (let tw = 0; tw < mw; tw++) {
        for (let rw = 0; rw < sw; rw++) {
          const j = rw + sw * (mw - 1 - tw);
          if (j >= kw) continue;
          const channel0 = (rh * sw + rw) * ci;
          for (let c = 0; c < ci; c++) {
            const srcBase = ((i * kw + j) * ci + c) * co;
            let dstIndex = (th * mw + tw) * co * phases + channel0 + c;
            for (let o = 0; o < co; o++, dstIndex += phases) dst[dstIndex] = src[srcBase + o]!;
          }
        }
      }
    }
  }
}

/** dx [B, H, W, Ci] (or NCHW) from dy [B, Ho, Wo, Co] (or NCHW) and w [kh, kw, Ci, Co]. */
export function conv2dBackpropInput(
  scope: KernelScope,
  dy: TensorInfo,
  w: TensorInfo,
  inputShape: Shape4,
  attrs: BackpropAttrs,
): TensorInfo {
  const nhwc = attrs.dataFormat !== 'NCHW';
  const info = backend_util.computeConv2DInfo(
    inputShape,
    w.shape as Shape4,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    nhwc ? 'channelsLast' : 'channelsFirst',
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { inHeight, inWidth, outHeight, outWidth } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const dyNhwc = nhwc ? dy : scope.transpose(dy, [0, 2, 3, 1]); // [B, Ho, Wo, Co]

  // 1. One stride-1 convolution computes every phase (see the header).
  const mh = Math.ceil(kh / sh);
  const mw = Math.ceil(kw / sw);
  const rowsNeeded = Math.floor((inHeight - 1 + pt) / sh) + 1;
  const colsNeeded = Math.floor((inWidth - 1 + pl) / sw) + 1;
  const pad: backend_util.ExplicitPadding = [
    [0, 0],
    [mh - 1, Math.max(0, rowsNeeded - outHeight)],
    [mw - 1, Math.max(0, colsNeeded - outWidth)],
    [0, 0],
  ];
  const filter = subPixelFilter(scope, w, sh, sw);
  const phases = scope.run('Conv2D', { x: dyNhwc, filter }, {
    strides: [1, 1],
    pad,
    dilations: [1, 1],
    dataFormat: 'NHWC',
  } as unknown as NamedAttrMap); // [B, Q, Qx, sh*sw*Ci]

  // 2. Interleave the phases and crop the padding away in one pass.
  const dx = interleavePhases(scope, phases, sh, sw, pt, pl, inHeight, inWidth); // [B, H, W, Ci]
  return nhwc ? dx : scope.transpose(dx, [0, 3, 1, 2]);
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as BackpropAttrs & { filterShape: Shape4 };
    return withScope(backend, (scope) =>
      conv2dBackpropFilter(scope, inputs.x!, inputs.dy!, a.filterShape, a),
    );
  },
};

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as BackpropAttrs & { inputShape: Shape4 };
    return withScope(backend, (scope) =>
      conv2dBackpropInput(scope, inputs.dy!, inputs.filter!, a.inputShape, a),
    );
  },
};
