/**
 * Bringing a decoded image to a dataset's declared `[H, W]`: the one place where crop, pad and
 * resize are chosen, shared by every source.
 */
import { centerCropOffsets, cropHwc, resizeHwcUint8, type ResizeMethod } from './resample';

/**
 * - `crop` (default): center-crop to the target aspect ratio, then resize.
 * - `stretch`: resize to the target size, ignoring the aspect ratio.
 * - `pad`: center the image on a canvas of `padValue` when it is smaller (MNIST 28 -> 32);
 *   larger images are center-cropped first.
 */
export type FitMode = 'crop' | 'stretch' | 'pad';

/**
 * A crop window applied before fitting, e.g. the CelebA face crop. In pixels, or with
 * `relative: true` in fractions of the image height (top, height) and width (left, width).
 */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
  relative?: boolean;
}

export interface FitOptions {
  fit?: FitMode;
  resize?: ResizeMethod;
  /** Value of padded pixels, 0..255 (default 0). */
  padValue?: number;
  /** Crop this window first (clipped to the image). */
  crop?: CropBox;
}

/** `[h, w, c]` uint8 -> `[outH, outW, c]` uint8. Returns `src` itself when nothing changes. */
export function fitImage(
  src: Uint8Array,
  height: number,
  width: number,
  channels: number,
  size: [number, number],
  options: FitOptions = {},
): Uint8Array {
  let pixels = src;
  let h = height;
  let w = width;
  if (options.crop) {
    const box = options.crop;
    const [sy, sx] = box.relative ? [h, w] : [1, 1];
    const top = Math.max(0, Math.min(h - 1, Math.round(box.top * sy)));
    const left = Math.max(0, Math.min(w - 1, Math.round(box.left * sx)));
    const ch = Math.max(1, Math.min(Math.round(box.height * sy), h - top));
    const cw = Math.max(1, Math.min(Math.round(box.width * sx), w - left));
    pixels = cropHwc(pixels, w, channels, top, left, ch, cw);
    h = ch;
    w = cw;
  }
  const [outH, outW] = size;
  if (h === outH && w === outW) return pixels;
  const method = { method: options.resize ?? 'bilinear' };
  const fit = options.fit ?? 'crop';
  if (fit === 'stretch') return resizeHwcUint8(pixels, h, w, channels, size, method);
  if (fit === 'pad' && h <= outH && w <= outW) {
    const out = new Uint8Array(outH * outW * channels).fill(options.padValue ?? 0);
    const [top, left] = centerCropOffsets(outH, outW, h, w);
    for (let y = 0; y < h; y++)
      out.set(
        pixels.subarray(y * w * channels, (y + 1) * w * channels),
        ((top + y) * outW + left) * channels,
      );
    return out;
  }
  // Center-crop to the target aspect ratio (or to the target size for oversized `pad`).
  let cropH = h;
  let cropW = w;
  if (fit === 'pad') {
    cropH = Math.min(h, outH);
    cropW = Math.min(w, outW);
  } else if (h * outW > w * outH) cropH = Math.max(1, Math.round((w * outH) / outW));
  else cropW = Math.max(1, Math.round((h * outW) / outH));
  if (cropH !== h || cropW !== w) {
    const [top, left] = centerCropOffsets(h, w, cropH, cropW);
    pixels = cropHwc(pixels, w, channels, top, left, cropH, cropW);
  }
  if (fit === 'pad')
    return fitImage(pixels, cropH, cropW, channels, size, { ...options, crop: undefined });
  return resizeHwcUint8(pixels, cropH, cropW, channels, size, method);
}
