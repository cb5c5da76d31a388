/**
 * Gradient of nearest-neighbour resizing, shared by the CPU and WASM kernels.
 *
 *   images [B, H, W, C] (only its shape is used), dy [B, Ho, Wo, C] -> dx [B, H, W, C]
 *   dx[b, y, x, c] = sum of dy[b, oy, ox, c] over the output pixels whose nearest source is (y, x)
 *
 * Each output pixel's source is found with the forward pass's own rule (tfjs's CPU
 * ResizeNearestNeighbor: alignCorners, halfPixelCenters), then its gradient is added there, so
 * the gradient matches the forward pass by construction.
 */

/** The source index of every output index along one axis. */
function nearestSources(
  inSize: number,
  outSize: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): Int32Array {
  const effectiveIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effectiveOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const ratio = effectiveIn / effectiveOut;
  const sources = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const frac = halfPixelCenters ? ratio * (o + 0.5) : ratio * o;
    let source = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
    if (halfPixelCenters) source = Math.max(0, source);
    sources[o] = source;
  }
  return sources;
}

/** Accumulate dy [B, Ho, Wo, C] into dx [B, H, W, C] (dx must start zero-filled). */
export function resizeNearestNeighborGradInto(
  dy: ArrayLike<number>,
  dyShape: readonly number[],
  dx: Float32Array,
  imagesShape: readonly number[],
  alignCorners: boolean,
  halfPixelCenters: boolean,
): void {
  const [batch, inHeight, inWidth, channels] = imagesShape as [number, number, number, number];
  const [, outHeight, outWidth] = dyShape as [number, number, number, number];
  const rows = nearestSources(inHeight, outHeight, alignCorners, halfPixelCenters);
  const cols = nearestSources(inWidth, outWidth, alignCorners, halfPixelCenters);
  let from = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const rowBase = (b * inHeight + rows[oy]!) * inWidth;
      for (let ox = 0; ox < outWidth; ox++) {
        const to = (rowBase + cols[ox]!) * channels;
        for (let c = 0; c < channels; c++) dx[to + c] = dx[to + c]! + dy[from++]!;
      }
    }
  }
}
