/**
 * Separable image resampling on typed arrays, `[H, W, C]` row-major (HWC).
 *
 * Coordinates follow the half-pixel convention of PIL, PyTorch (`align_corners=False`) and TF2:
 * output pixel i has its centre at source coordinate `(i + 0.5) * in / out - 0.5`. Each output
 * sample is a normalised weighted sum of source samples along one axis, then the other.
 *
 * - `bilinear`: triangle kernel, support 1. With `antialias` (default true, as PIL) the kernel
 *   widens by `in / out` when downscaling, so every source pixel contributes; without it the
 *   result equals PyTorch's `F.interpolate(mode='bilinear', align_corners=False)`.
 * - `lanczos`: windowed sinc, a = 3 (PIL's LANCZOS), widened the same way.
 * - `area`: exact area coverage: each output pixel averages the source area it covers (TF's
 *   `area`; PyTorch's `adaptive_avg_pool2d` for integer factors).
 */
import { invalidArgument } from '@gensynth/core';

export type ResizeMethod = 'bilinear' | 'area' | 'lanczos';

export interface ResizeOptions {
  method?: ResizeMethod;
  /** Widen the bilinear/lanczos kernel when downscaling (default true). */
  antialias?: boolean;
}

/** Per-output-index source window and weights along one axis. */
export interface Taps {
  outSize: number;
  /** First source index of each output index. */
  start: Int32Array;
  /** Number of taps of each output index (<= maxTaps). */
  count: Int32Array;
  maxTaps: number;
  /** `outSize * maxTaps` normalised weights. */
  weights: Float64Array;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

const KERNELS = {
  bilinear: { support: 1, f: (x: number) => Math.max(0, 1 - Math.abs(x)) },
  lanczos: { support: 3, f: (x: number) => (Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

const tapCache = new Map<string, Taps>();

/** Source windows and weights for resampling `inSize` samples to `outSize`. Cached. */
export function computeTaps(
  inSize: number,
  outSize: number,
  method: ResizeMethod,
  antialias = true,
): Taps {
  const key = `${inSize}:${outSize}:${method}:${antialias}`;
  const cached = tapCache.get(key);
  if (cached) return cached;
  const scale = inSize / outSize;
  const lists: { start: number; w: number[] }[] = [];
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale; // in source pixel-edge units
    if (method === 'area') {
      const lo = centre - scale / 2;
      const hi = centre + scale / 2;
      const first = Math.max(0, Math.floor(lo));
      const last = Math.min(inSize, Math.ceil(hi));
      const w: number[] = [];
      for (let j = first; j < last; j++) w.push(Math.max(0, Math.min(hi, j + 1) - Math.max(lo, j)));
      lists.push({ start: first, w });
      continue;
    }
    const kernel = KERNELS[method];
    const stretch = antialias ? Math.max(scale, 1) : 1;
    const support = kernel.support * stretch;
    const first = Math.max(0, Math.floor(centre - support + 0.5));
    const last = Math.min(inSize, Math.floor(centre + support + 0.5));
    const w: number[] = [];
    for (let j = first; j < last; j++) w.push(kernel.f((j + 0.5 - centre) / stretch));
    lists.push({ start: first, w });
  }
  const maxTaps = Math.max(...lists.map((l) => l.w.length));
  const taps: Taps = {
    outSize,
    start: Int32Array.from(lists, (l) => l.start),
    count: Int32Array.from(lists, (l) => l.w.length),
    maxTaps,
    weights: new Float64Array(outSize * maxTaps),
  };
  lists.forEach((l, i) => {
    const total = l.w.reduce((a, b) => a + b, 0);
    l.w.forEach((v, k) => (taps.weights[i * maxTaps + k] = total === 0 ? 0 : v / total));
  });
  tapCache.set(key, taps);
  return taps;
}

type Samples = Uint8Array | Uint16Array | Float32Array | Float64Array;

function checkSize(where: string, size: [number, number]): void {
  if (!size.every((v) => Number.isInteger(v) && v > 0)) {
    throw invalidArgument(where, '[height, width] positive integers', size, 'Pass e.g. [32, 32].');
  }
}

/**
 * Resize `src` (`[h, w, c]` samples) to `[outH, outW, c]`, returned as float32 (not rounded).
 * Values 1..9 in a 3x3 image resized bilinearly to 6x6 give the first row 1, 1.25, 1.75, 2.25,
 * 2.75, 3.
 */
export function resizeHwc(
  src: Samples,
  height: number,
  width: number,
  channels: number,
  size: [number, number],
  options: ResizeOptions = {},
): Float32Array {
  checkSize('resizeHwc(size)', size);
  const [outH, outW] = size;
  const method = options.method ?? 'bilinear';
  const antialias = options.antialias ?? true;
  const tx = computeTaps(width, outW, method, antialias);
  const ty = computeTaps(height, outH, method, antialias);

  // Run the pass that shrinks the data first (fewer multiply-adds in the second pass).
  const rowFirst = outH * width <= height * outW;
  if (rowFirst) {
    const mid = verticalPass(src, width * channels, ty); // [outH, W, C]
    return horizontalPass(mid, outH, width, channels, tx); // [outH, outW, C]
  }
  const mid = horizontalPass(src, height, width, channels, tx); // [H, outW, C]
  return verticalPass(mid, outW * channels, ty); // [outH, outW, C]
}

/** `[H, W, C]` -> `[H, outW, C]`. One pass over the taps accumulates every channel at once. */
function horizontalPass(
  src: Samples,
  height: number,
  width: number,
  channels: number,
  tx: Taps,
): Float32Array {
  const outW = tx.outSize;
  const out = new Float32Array(height * outW * channels);
  const xw = tx.weights;
  const xm = tx.maxTaps;
  const acc = new Float64Array(channels);
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let x = 0; x < outW; x++) {
      const n = tx.count[x] as number;
      let at = row + (tx.start[x] as number) * channels;
      const o = (y * outW + x) * channels;
      if (channels === 3) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = 0; k < n; k++, at += 3) {
          const w = xw[x * xm + k] as number;
          r += w * (src[at] as number);
          g += w * (src[at + 1] as number);
          b += w * (src[at + 2] as number);
        }
        out[o] = r;
        out[o + 1] = g;
        out[o + 2] = b;
        continue;
      }
      acc.fill(0);
      for (let k = 0; k < n; k++, at += channels) {
        const w = xw[x * xm + k] as number;
        for (let c = 0; c < channels; c++)
          acc[c] = (acc[c] as number) + w * (src[at + c] as number);
      }
      for (let c = 0; c < channels; c++) out[o + c] = acc[c] as number;
    }
  }
  return out;
}

/** `[H, rowLength]` -> `[outH, rowLength]`: contiguous rows, so the inner loop streams. */
function verticalPass(src: Samples, rowLength: number, ty: Taps): Float32Array {
  const outH = ty.outSize;
  const out = new Float32Array(outH * rowLength);
  for (let y = 0; y < outH; y++) {
    const n = ty.count[y] as number;
    const first = (ty.start[y] as number) * rowLength;
    const w = ty.weights.subarray(y * ty.maxTaps, y * ty.maxTaps + n);
    const o = y * rowLength;
    if (n === 4) {
      // The common 2x antialiased bilinear case, unrolled: one store per output sample.
      const [w0, w1, w2, w3] = w as unknown as [number, number, number, number];
      const r1 = first + rowLength;
      const r2 = r1 + rowLength;
      const r3 = r2 + rowLength;
      for (let i = 0; i < rowLength; i++) {
        out[o + i] =
          w0 * (src[first + i] as number) +
          w1 * (src[r1 + i] as number) +
          w2 * (src[r2 + i] as number) +
          w3 * (src[r3 + i] as number);
      }
      continue;
    }
    for (let i = 0; i < rowLength; i++) {
      let acc = 0;
      for (let k = 0, at = first + i; k < n; k++, at += rowLength)
        acc += (w[k] as number) * (src[at] as number);
      out[o + i] = acc;
    }
  }
  return out;
}

/** `resizeHwc` rounded and clamped to 0..255. */
export function resizeHwcUint8(
  src: Uint8Array,
  height: number,
  width: number,
  channels: number,
  size: [number, number],
  options: ResizeOptions = {},
): Uint8Array {
  if (size[0] === height && size[1] === width) return src;
  const f = resizeHwc(src, height, width, channels, size, options);
  const out = new Uint8Array(f.length);
  // A Uint8Array store truncates (and wraps out-of-range values), so add 0.5 and clamp first.
  for (let i = 0; i < f.length; i++) {
    const v = (f[i] as number) + 0.5;
    out[i] = v < 0 ? 0 : v >= 255 ? 255 : v;
  }
  return out;
}

/** A `[cropH, cropW, c]` window of `src` starting at (`top`, `left`). */
export function cropHwc<T extends Samples>(
  src: T,
  width: number,
  channels: number,
  top: number,
  left: number,
  cropH: number,
  cropW: number,
): T {
  const out = new (src.constructor as new (n: number) => T)(cropH * cropW * channels);
  for (let y = 0; y < cropH; y++) {
    const from = ((top + y) * width + left) * channels;
    out.set(src.subarray(from, from + cropW * channels) as never, y * cropW * channels);
  }
  return out;
}

/**
 * Offsets of a centred `cropH x cropW` window in `height x width`; the odd pixel, if any, is left
 * below and to the right of the window.
 */
export function centerCropOffsets(
  height: number,
  width: number,
  cropH: number,
  cropW: number,
): [number, number] {
  return [Math.floor((height - cropH) / 2), Math.floor((width - cropW) / 2)];
}
