/**
 * Gradients of a depthwise 2-D convolution on WASM, composed from `DepthwiseConv2dNative`.
 *
 * Notation for y = depthwiseConv2d(x, w):
 *   x  [B, H, W, C]      w [kh, kw, C, M]     dy [B, Ho, Wo, C*M]
 *   s = (sh, sw) strides, d = (dh, dw) dilations, pt, pl top/left padding
 *   y[b, oy, ox, c*M + m] =
 *     sum_{i, j} x[b, oy*sh + i*dh - pt, ox*sw + j*dw - pl, c] * w[i, j, c, m]
 *
 * Filter gradient:
 *   dw[i, j, c, m] = sum_{b, oy, ox} x[b, oy*sh + i*dh - pt, ...] * dy[b, oy, ox, c*M + m].
 * With (c, b) as the channels of a single image [1, H, W, C*B] and dy as a [Ho, Wo, C*B, M]
 * filter, this is one depthwise convolution with stride d and dilation s; summing its output
 * [1, kh, kw, C*B*M] over b gives dw.
 *
 * Input gradient: dx[b, y, x, c] = sum_{i, j, m} dyUp[b, y + pt - i*dh, x + pl - j*dw, c*M + m] *
 * w[i, j, c, m], where dyUp is dy with sh-1 (sw-1) zeros inserted between rows (columns). That is
 * a depthwise convolution of dyUp with the flipped filter, dilation d, then a sum over m. The
 * zero insertion costs sh*sw times the minimal work; these gradients are rare in generative
 * models (separable convolutions), so simplicity wins here.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { type KernelScope, withScope } from './composite';
import { crop4d } from './layout';

type Shape4 = [number, number, number, number];

interface DepthwiseAttrs {
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function depthwiseInfo(xShape: Shape4, filterShape: Shape4, attrs: DepthwiseAttrs) {
  return backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
}

function depthwiseConv(
  scope: KernelScope,
  x: TensorInfo,
  filter: TensorInfo,
  strides: [number, number],
  dilations: [number, number],
  pad: backend_util.ExplicitPadding,
): TensorInfo {
  return scope.run('DepthwiseConv2dNative', { x, filter }, {
    strides,
    dilations,
    pad,
    dataFormat: 'NHWC',
  } as unknown as NamedAttrMap);
}

/** dw [kh, kw, C, M] from x [B, H, W, C] and dy [B, Ho, Wo, C*M]. */
export function depthwiseBackpropFilter(
  scope: KernelScope,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: Shape4,
  attrs: DepthwiseAttrs,
): TensorInfo {
  const info = depthwiseInfo(x.shape as Shape4, filterShape, attrs);
  const { batchSize: b, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw } = info;
  const m = filterShape[3];
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;

  const image = scope.reshape(scope.transpose(x, [1, 2, 3, 0]), [1, inHeight, inWidth, c * b]);
  const dy5 = scope.reshape(dy, [b, outHeight, outWidth, c, m]);
  const moved = scope.transpose(dy5, [1, 2, 3, 0, 4]); // [Ho, Wo, C, B, M]
  const filter = scope.reshape(moved, [outHeight, outWidth, c * b, m]);
  const bottom = Math.max(0, (kh - 1) * dh + (outHeight - 1) * sh + 1 - inHeight - pt);
  const right = Math.max(0, (kw - 1) * dw + (outWidth - 1) * sw + 1 - inWidth - pl);
  const pad: backend_util.ExplicitPadding = [
    [0, 0],
    [pt, bottom],
    [pl, right],
    [0, 0],
  ];
  // [1, >=kh, >=kw, C*B*M]
  const conv = depthwiseConv(scope, image, filter, [dh, dw], [sh, sw], pad);
  const taps = crop4d(scope, conv, [0, 0, 0, 0], [1, kh, kw, c * b * m]);
  const perBatch = scope.reshape(taps, [kh, kw, c, b, m]);
  const summed = scope.run('Sum', { x: perBatch }, { axis: [3], keepDims: false });
  return summed; // [kh, kw, C, M]
}

/** Zero-insert between rows and columns: [B, Ho, Wo, K] -> [B, (Ho-1)*sh+1, (Wo-1)*sw+1, K]. */
function upsampleWithZeros(scope: KernelScope, dy: TensorInfo, sh: number, sw: number): TensorInfo {
  if (sh === 1 && sw === 1) return dy;
  const [b, ho, wo, k] = dy.shape as Shape4;
  const height = (ho - 1) * sh + 1;
  const width = (wo - 1) * sw + 1;
  const out = scope.alloc([b, height, width, k]);
  const src = scope.view(dy);
  const dst = scope.view(out);
  for (let n = 0; n < b; n++) {
    for (let y = 0; y < ho; y++) {
      for (let x = 0; x < wo; x++) {
        const from = ((n * ho + y) * wo + x) * k;
        dst.set(src.subarray(from, from + k), ((n * height + y * sh) * width + x * sw) * k);
      }
    }
  }
  return out;
}

/** w [kh, kw, C, M] rotated by 180 degrees and laid out as a [kh, kw, C*M, 1] filter. */
function flippedFilter(scope: KernelScope, w: TensorInfo): TensorInfo {
  const [kh, kw, c, m] = w.shape as Shape4;
  const out = scope.allocUninitialized([kh, kw, c * m, 1]);
  const src = scope.view(w);
  const dst = scope.view(out);
  const tap = c * m;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const from = ((kh - 1 - i) * kw + (kw - 1 - j)) * tap;
      dst.set(src.subarray(from, from + tap), (i * kw + j) * tap);
    }
  }
  return out;
}

/** dx [B, H, W, C] from dy [B, Ho, Wo, C*M] and w [kh, kw, C, M]. */
export function depthwiseBackpropInput(
  scope: KernelScope,
  dy: TensorInfo,
  w: TensorInfo,
  inputShape: Shape4,
  attrs: DepthwiseAttrs,
): TensorInfo {
  const info = depthwiseInfo(inputShape, w.shape as Shape4, attrs);
  const { batchSize: b, inHeight, inWidth, inChannels: c } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw } = info;
  const m = (w.shape as Shape4)[3];
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;

  // dx[y] reads dyUp[y + pt - i*dh]; padding dyUp by (kh-1)*dh - pt on top makes that a plain
  // correlation with the flipped filter. Negative padding is cropped instead.
  const up = upsampleWithZeros(scope, dy, sh, sw);
  const [, upHeight, upWidth] = up.shape as Shape4;
  const top = (kh - 1) * dh - pt;
  const left = (kw - 1) * dw - pl;
  const bottom = inHeight - 1 + pt - (upHeight - 1);
  const right = inWidth - 1 + pl - (upWidth - 1);
  const pad: backend_util.ExplicitPadding = [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ];
  const conv = depthwiseConv(scope, up, flippedFilter(scope, w), [1, 1], [dh, dw], pad);
  const cropped = crop4d(
    scope,
    conv,
    [0, Math.max(0, -top), Math.max(0, -left), 0],
    [b, inHeight, inWidth, c * m],
  );
  if (m === 1) return cropped;
  const perMultiplier = scope.reshape(cropped, [b, inHeight, inWidth, c, m]);
  return scope.run('Sum', { x: perMultiplier }, { axis: [4], keepDims: false }); // [B, H, W, C]
}

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as DepthwiseAttrs & { inputShape: Shape4 };
    return withScope(backend, (scope) =>
      depthwiseBackpropInput(scope, inputs.dy!, inputs.filter!, a.inputShape, a),
    );
  },
};

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as DepthwiseAttrs & { filterShape: Shape4 };
    return withScope(backend, (scope) =>
      depthwiseBackpropFilter(scope, inputs.x!, inputs.dy!, a.filterShape, a),
    );
  },
};
