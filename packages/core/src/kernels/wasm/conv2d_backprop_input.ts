/**
 * Input gradient of a 2-D convolution on WASM (also the forward pass of conv2dTranspose),
 * composed from the backend's XNNPACK `Conv2D` in sub-pixel form.
 *
 * Notation for the forward convolution y = conv2d(x, w):
 *   x  [B, H, W, Ci]     input          w  [kh, kw, Ci, Co]  filter
 *   dy [B, Ho, Wo, Co]   gradient of y  sh, sw strides; pt, pl top/left padding
 *   dx[b, y, x, ci] = sum over (oy, i) with oy*sh + i - pt = y (and the same for columns) of
 *                     dy[b, oy, ox, co] * w[i, j, ci, co]
 *
 * For an output row y let q = (y + pt) div sh and r = (y + pt) mod sh (its phase). Only taps
 * i = r + sh*m contribute, from dy row q - m, so with M = ceil(kh / sh)
 *   dx[y] = sum_{m < M} dy[q - m] * w[r + sh*m]
 * which is a stride-1 convolution of dy with the flipped sub-filter of phase r; no zero-dilated
 * dy (sh*sw times the work) is ever built. Two layouts of that work:
 *   - per phase (Ci >= 8): each of the sh*sw phases runs as its own convolution over exactly
 *     its rows and columns, and one pass interleaves them into dx;
 *   - stacked (Ci < 8): one convolution whose output channels hold all phases over a shared
 *     grid, which wastes up to 1.6x work at 4x4 inputs but keeps XNNPACK's output width usable
 *     (a 3-channel output per phase, as in an RGB generator's last layer, ran 2x slower).
 * Sub-filters are cached per weights tensor so XNNPACK's packed-weights cache hits.
 *
 * For NHWC float32, gensynth's own SIMD kernel runs instead (`conv2d_backprop_input` in
 * `wasm/kernels.c`: the same phase decomposition as a direct loop over dy, rows split across
 * the kernel threads; input channels are padded to a multiple of 4, so an RGB output computes a
 * fourth, zero channel and drops it). The composite forms remain for NCHW and wherever that
 * module cannot run.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { maxUnfoldedValues } from './conv2d';
import type { BackpropAttrs } from './conv2d_backprop_filter';
import { KernelScope, asFloat32, checkOutputGradient, withScope } from './composite';
import { DerivedFilterCache } from './filter_cache';
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

/** Rows (or columns) of one phase: its q range and where q = first sits in its conv output. */
interface PhaseAxis {
  phase: number;
  first: number;
  count: number;
  padBefore: number;
  padAfter: number;
  offset: number;
}

/** Plan the convolution of phase `phase` along one axis (see the header for q and M). */
function phaseAxis(
  phase: number,
  size: number,
  stride: number,
  pad: number,
  taps: number,
  dySize: number,
): PhaseAxis {
  const first = Math.ceil((pad - phase) / stride);
  const last = Math.floor((size - 1 + pad - phase) / stride);
  const count = last - first + 1;
  const before = taps - 1 - first;
  const padBefore = Math.max(0, before);
  const offset = Math.max(0, -before);
  const padAfter = Math.max(0, offset + count - dySize - padBefore + taps - 1);
  return { phase, first, count, padBefore, padAfter, offset };
}

const subFilters = new DerivedFilterCache();

/**
 * Few input channels (an RGB or grey image): each dy pixel's contribution to every tap, cols =
 * dy [P, Co] x w^T [Co, kh * kw * Ci], as one product on the kernel threads (`matmul`, the
 * filter read transposed through its packing), then gathered into dx (`col2im`, by dx rows on
 * the kernel threads). The direct kernel
 * would pad the channels to 4 and run tiles a quarter empty.
 */
function fewChannels(
  scope: KernelScope,
  native: NativeKernels,
  dy: TensorInfo,
  w: TensorInfo,
  inputShape: Shape4,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const b = scope.backend;
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
  // element (co, kk) of w^T is w[kk, co]: rows of the product run over co, columns over kk
  const wp = packedFrom(b, w, 'col2im', co * k, (dst) =>
    native.pack_weights(heapOffset(b, w), dst, 1, co, k, 0, 1, co),
  );
  const cols = scope.allocUninitialized([pixels, k]);
  const colsp = heapOffset(b, cols);
  runNative(b, native, 'matmul', pixels, pixels * co * k, [
    heapOffset(b, dy),
    wp,
    0,
    colsp,
    pixels,
    co,
    k,
    0,
  ]);
  const dx = scope.allocUninitialized(inputShape);
  runNative(b, native, 'col2im', batchSize * inHeight, pixels * k * COPY_MACS, [
    colsp,
    heapOffset(b, dx),
    batchSize,
    inHeight,
    inWidth,
    ci,
    outHeight,
    outWidth,
    ...convGeometry(info),
  ]);
  return dx;
}

/** Below this many input channels the phases share one convolution (see the header). */
const STACKED_BELOW_CHANNELS = 8;

/** Flipped sub-filter of phase (rh, rw): [M, Mx, Co, Ci], tap t = w[r + s*(M-1-t)] or 0. */
function subFilter(
  scope: KernelScope,
  w: TensorInfo,
  sh: number,
  sw: number,
  rh: number,
  rw: number,
): TensorInfo {
  const [kh, kw, ci, co] = w.shape as Shape4;
  const mh = Math.ceil(kh / sh);
  const mw = Math.ceil(kw / sw);
  const backend = scope.backend;
  return subFilters.get(backend, w, `${w.shape.join('x')}:${sh},${sw},${rh},${rw}`, () => {
    const out = backend.makeOutput([mh, mw, co, ci], 'float32');
    const dst = backend.typedArrayFromHeap(out);
    dst.fill(0);
    const src = backend.typedArrayFromHeap(w);
    for (let th = 0; th < mh; th++) {
      const i = rh + sh * (mh - 1 - th);
      if (i >= kh) continue;
      for (let tw = 0; tw < mw; tw++) {
        const j = rw + sw * (mw - 1 - tw);
        if (j >= kw) continue;
        for (let c = 0; c < ci; c++) {
          const from = ((i * kw + j) * ci + c) * co;
          let to = (th * mw + tw) * co * ci + c;
          for (let o = 0; o < co; o++, to += ci) dst[to] = src[from + o]!;
        }
      }
    }
    return out;
  });
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
  const { batchSize, inChannels: ci, inHeight, inWidth, outHeight, outWidth } = info;
  checkOutputGradient('Conv2DBackpropInput', dy, info, nhwc);
  const native = nhwc && dy.dtype === 'float32' ? nativeKernels(scope.backend) : undefined;
  if (native !== undefined && ci < 8 && (kh * kw * ci) % 4 === 0) {
    const unfolded = batchSize * outHeight * outWidth * kh * kw * ci;
    if (unfolded <= maxUnfoldedValues()) return fewChannels(scope, native, dy, w, inputShape, info);
  }
  if (native !== undefined) {
    const co = info.outChannels;
    const b = scope.backend;
    // Channels padded to a multiple of 4 (an RGB output gets a fourth, zero filter column).
    const cp = Math.ceil(ci / 4) * 4;
    // (tap, co, ci) in column blocks of ci
    const wtp = packedFrom(b, w, `backprop-input:${cp}`, kh * kw * co * cp, (dst) => {
      if (cp === ci) {
        native.pack_weights(heapOffset(b, w), dst, kh * kw, co, cp, cp * co, 1, co);
        return;
      }
      const inner = new KernelScope(b);
      try {
        const padded = inner.allocUninitialized([kh, kw, cp, co]);
        native.pad_channels(heapOffset(b, w), heapOffset(b, padded), kh * kw, ci * co, cp * co);
        native.pack_weights(heapOffset(b, padded), dst, kh * kw, co, cp, cp * co, 1, co);
      } finally {
        inner.dispose();
      }
    });
    const zeros = scope.alloc([co]);
    const dx = scope.allocUninitialized([batchSize, inHeight, inWidth, cp]);
    const [dyp, zp, dxp] = [dy, zeros, dx].map((t) => heapOffset(b, t));
    const macs = batchSize * outHeight * outWidth * co * kh * kw * cp;
    runNative(b, native, 'conv2d_backprop_input', batchSize * inHeight, macs, [
      dyp!,
      wtp,
      zp!,
      dxp!,
      batchSize,
      inHeight,
      inWidth,
      cp,
      outHeight,
      outWidth,
      co,
      ...convGeometry(info),
    ]);
    if (cp === ci) return dx;
    const cropped = scope.allocUninitialized(inputShape);
    native.crop_channels(dxp!, heapOffset(b, cropped), batchSize * inHeight * inWidth, cp, ci);
    return cropped;
  }
  const dyNhwc = nhwc ? dy : scope.transpose(dy, [0, 2, 3, 1]); // [B, Ho, Wo, Co]
  const mh = Math.ceil(kh / sh);
  const mw = Math.ceil(kw / sw);

  if (ci < STACKED_BELOW_CHANNELS) {
    const dx = stackedPhases(scope, dyNhwc, w, info);
    return nhwc ? dx : scope.transpose(dx, [0, 3, 1, 2]);
  }

  // 1. One stride-1 convolution per phase.
  const rows = Array.from({ length: sh }, (_, r) =>
    phaseAxis(r, inHeight, sh, info.padInfo.top, mh, outHeight),
  );
  const cols = Array.from({ length: sw }, (_, r) =>
    phaseAxis(r, inWidth, sw, info.padInfo.left, mw, outWidth),
  );
  const outputs: (TensorInfo | undefined)[] = [];
  for (const row of rows) {
    for (const col of cols) {
      if (row.count <= 0 || col.count <= 0) {
        outputs.push(undefined);
        continue;
      }
      const pad: backend_util.ExplicitPadding = [
        [0, 0],
        [row.padBefore, row.padAfter],
        [col.padBefore, col.padAfter],
        [0, 0],
      ];
      const filter = subFilter(scope, w, sh, sw, row.phase, col.phase);
      outputs.push(
        scope.run('Conv2D', { x: dyNhwc, filter }, {
          strides: [1, 1],
          pad,
          dilations: [1, 1],
          dataFormat: 'NHWC',
        } as unknown as NamedAttrMap),
      ); // [B, >=count, >=countX, Ci]
    }
  }

  // 2. A single phase that already has the output's exact shape needs no copy.
  const only = outputs.length === 1 ? outputs[0] : undefined;
  const exact =
    only !== undefined &&
    rows[0]!.offset === 0 &&
    cols[0]!.offset === 0 &&
    only.shape[1] === inHeight &&
    only.shape[2] === inWidth;
  const dx = exact
    ? only
    : interleave(scope, outputs, rows, cols, [batchSize, inHeight, inWidth, ci], info.padInfo);
  return nhwc ? dx : scope.transpose(dx, [0, 3, 1, 2]);
}

/** dx[b, y, x] = output of phase ((y + pt) mod sh, (x + pl) mod sw) at its (q, qx). */
function interleave(
  scope: KernelScope,
  outputs: (TensorInfo | undefined)[],
  rows: PhaseAxis[],
  cols: PhaseAxis[],
  shape: Shape4,
  padInfo: { top: number; left: number },
): TensorInfo {
  const [batch, height, width, channels] = shape;
  const sh = rows.length;
  const sw = cols.length;
  const dx = scope.allocUninitialized(shape);
  const dst = scope.view(dx);
  const views = outputs.map((o) => (o === undefined ? undefined : scope.view(o)));
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < height; y++) {
      const row = rows[(y + padInfo.top) % sh]!;
      const zr = (y + padInfo.top - row.phase) / sh - row.first + row.offset;
      for (let x = 0; x < width; x++) {
        const col = cols[(x + padInfo.left) % sw]!;
        const index = row.phase * sw + col.phase;
        const src = views[index]!;
        const [, zh, zw] = outputs[index]!.shape as Shape4;
        const zc = (x + padInfo.left - col.phase) / sw - col.first + col.offset;
        const start = ((b * zh + zr) * zw + zc) * channels;
        if (channels >= 16) {
          dst.set(src.subarray(start, start + channels), o);
          o += channels;
        } else {
          for (let c = 0; c < channels; c++) dst[o++] = src[start + c]!;
        }
      }
    }
  }
  return dx;
}

/** All phases in one convolution: filter [M, Mx, Co, sh*sw*Ci], channel (rh*sw + rw)*Ci + c. */
function stackedPhases(
  scope: KernelScope,
  dy: TensorInfo,
  w: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const {
    batchSize,
    inChannels: ci,
    outChannels: co,
    inHeight,
    inWidth,
    outHeight,
    outWidth,
  } = info;
  const mh = Math.ceil(kh / sh);
  const mw = Math.ceil(kw / sw);
  const depth = sh * sw * ci;
  const backend = scope.backend;
  const filter = subFilters.get(backend, w, `${w.shape.join('x')}:${sh},${sw},stacked`, () => {
    const out = backend.makeOutput([mh, mw, co, depth], 'float32');
    const dst = backend.typedArrayFromHeap(out);
    for (let rh = 0; rh < sh; rh++) {
      for (let rw = 0; rw < sw; rw++) {
        const part = subFilter(scope, w, sh, sw, rh, rw); // [M, Mx, Co, Ci]
        const src = backend.typedArrayFromHeap(part);
        const channel0 = (rh * sw + rw) * ci;
        for (let p = 0; p < mh * mw * co; p++) {
          for (let c = 0; c < ci; c++) dst[p * depth + channel0 + c] = src[p * ci + c]!;
        }
      }
    }
    return out;
  });
  const rowsNeeded = Math.floor((inHeight - 1 + info.padInfo.top) / sh) + 1;
  const colsNeeded = Math.floor((inWidth - 1 + info.padInfo.left) / sw) + 1;
  const pad: backend_util.ExplicitPadding = [
    [0, 0],
    [mh - 1, Math.max(0, rowsNeeded - outHeight)],
    [mw - 1, Math.max(0, colsNeeded - outWidth)],
    [0, 0],
  ];
  const z = scope.run('Conv2D', { x: dy, filter }, {
    strides: [1, 1],
    pad,
    dilations: [1, 1],
    dataFormat: 'NHWC',
  } as unknown as NamedAttrMap); // [B, Q, Qx, sh*sw*Ci], (q, qx) = ((y + pt) div sh, ...)
  const [, q, qx] = z.shape as Shape4;
  const dx = scope.allocUninitialized([batchSize, inHeight, inWidth, ci]);
  const src = scope.view(z);
  const dst = scope.view(dx);
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let y = 0; y < inHeight; y++) {
      const row = y + info.padInfo.top;
      const rowBase = (b * q + Math.floor(row / sh)) * qx * depth + (row % sh) * sw * ci;
      for (let x = 0; x < inWidth; x++) {
        const col = x + info.padInfo.left;
        const start = rowBase + Math.floor(col / sw) * depth + (col % sw) * ci;
        for (let c = 0; c < ci; c++) dst[o++] = src[start + c]!;
      }
    }
  }
  return dx;
}

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as BackpropAttrs & { inputShape: Shape4 };
    return withScope(backend, (scope) =>
      conv2dBackpropInput(
        scope,
        asFloat32(scope, inputs.dy!),
        asFloat32(scope, inputs.filter!),
        a.inputShape,
        a,
      ),
    );
  },
};
