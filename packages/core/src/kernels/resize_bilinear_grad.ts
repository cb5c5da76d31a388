/**
 * Gradient of bilinear resizing, shared by the CPU and WASM kernels.
 *
 *   images [B, H, W, C] (only its shape is used), dy [B, Ho, Wo, C] -> dx [B, H, W, C]
 *
 * Each output pixel of the forward pass (tfjs's CPU ResizeBilinear: alignCorners,
 * halfPixelCenters) blends four source pixels with weights (1-a)(1-b), (1-a)b, a(1-b), ab; the
 * gradient adds dy times the same weights back to those pixels. tfjs 4.22's own gradient
 * kernels ignore halfPixelCenters, and the CPU one also reports the shape [B, W, H, C].
 */

interface Taps {
  low: Int32Array;
  high: Int32Array;
  frac: Float32Array;
}

/** The two source indices and the blend fraction of every output index along one axis. */
function bilinearTaps(
  inSize: number,
  outSize: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): Taps {
  const effectiveIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effectiveOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const ratio = effectiveIn / effectiveOut;
  const taps = {
    low: new Int32Array(outSize),
    high: new Int32Array(outSize),
    frac: new Float32Array(outSize),
  };
  for (let o = 0; o < outSize; o++) {
    const source = halfPixelCenters ? ratio * (o + 0.5) - 0.5 : ratio * o;
    const low = Math.max(0, Math.floor(source));
    taps.low[o] = low;
    taps.high[o] = Math.min(inSize - 1, Math.ceil(source));
    taps.frac[o] = source - low;
  }
  return taps;
}

/** Accumulate dy [B, Ho, Wo, C] into dx [B, H, W, C] (dx must start zero-filled). */
export function resizeBilinearGradInto(
  dy: ArrayLike<number>,
  dyShape: readonly number[],
  dx: Float32Array,
  imagesShape: readonly number[],
  alignCorners: boolean,
  halfPixelCenters: boolean,
): void {
  const [batch, inHeight, inWidth, channels] = imagesShape as [number, number, number, number];
  const [, outHeight, outWidth] = dyShape as [number, number, number, number];
  const rows = bilinearTaps(inHeight, outHeight, alignCorners, halfPixelCenters);
  const cols = bilinearTaps(inWidth, outWidth, alignCorners, halfPixelCenters);
  let from = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const a = rows.frac[oy]!;
      const topBase = (b * inHeight + rows.low[oy]!) * inWidth;
      const bottomBase = (b * inHeight + rows.high[oy]!) * inWidth;
      for (let ox = 0; ox < outWidth; ox++) {
        const f = cols.frac[ox]!;
        const tl = (topBase + cols.low[ox]!) * channels;
        const tr = (topBase + cols.high[ox]!) * channels;
        const bl = (bottomBase + cols.low[ox]!) * channels;
        const br = (bottomBase + cols.high[ox]!) * channels;
        const wtl = (1 - a) * (1 - f);
        const wtr = (1 - a) * f;
        const wbl = a * (1 - f);
        const wbr = a * f;
        for (let c = 0; c < channels; c++) {
          const g = dy[from++]!;
          dx[tl + c] = dx[tl + c]! + g * wtl;
          dx[tr + c] = dx[tr + c]! + g * wtr;
          dx[bl + c] = dx[bl + c]! + g * wbl;
          dx[br + c] = dx[br + c]! + g * wbr;
        }
      }
    }
  }
}
