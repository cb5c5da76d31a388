/**
 * Preprocessing as tensor ops: normalise bytes to [-1, 1] and back, resize, center and random
 * crop. They run on any tfjs backend and are differentiable (resize is two matrix products with
 * the weights of `computeTaps`), so they apply equally to real batches and generated images.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument, Rng } from '@gensynth/core';
import { computeTaps, type ResizeOptions } from './resample';

/**
 * `pixels` (uint8 `[B, H, W, C]` row-major) -> `[B, H, W, C]` float32 in [-1, 1], `v / 127.5 - 1`.
 * Built in JS so only the result tensor is created.
 */
export function bytesToImages(
  pixels: Uint8Array,
  shape: [number, number, number, number],
): tf.Tensor4D {
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  if (pixels.length !== n) {
    throw invalidArgument(
      'bytesToImages(pixels)',
      `${n} bytes for shape [${shape.join(', ')}]`,
      `${pixels.length} bytes`,
      'Pass B*H*W*C bytes.',
    );
  }
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = (pixels[i] as number) / 127.5 - 1;
  return tf.tensor4d(values, shape, 'float32');
}

/** `images` with values in `inputRange` (default [0, 255]) -> float32 in [-1, 1]. Same shape. */
export function normalizeImages<T extends tf.Tensor>(
  images: T,
  inputRange: [number, number] = [0, 255],
): T {
  const [lo, hi] = inputRange;
  return tf.tidy(() =>
    tf.sub(tf.mul(tf.sub(tf.cast(images, 'float32'), lo), 2 / (hi - lo)), 1),
  ) as T;
}

/**
 * `[B, H, W, C]` float32 in [-1, 1] -> int32 in [0, 255]: `round((x + 1) * 127.5)`, clipped.
 * The inverse of `bytesToImages` on its outputs.
 */
export function denormalizeImages(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(
    () =>
      tf.cast(
        tf.clipByValue(tf.round(tf.mul(tf.add(images, 1), 127.5)), 0, 255),
        'int32',
      ) as tf.Tensor4D,
  );
}

/** `[B, H, W, C]` float32 in [-1, 1] -> uint8 bytes, row-major. */
export async function imagesToBytes(images: tf.Tensor4D): Promise<Uint8Array> {
  const ints = denormalizeImages(images);
  try {
    return Uint8Array.from(await ints.data());
  } finally {
    ints.dispose();
  }
}

function weightMatrix(inSize: number, outSize: number, options: ResizeOptions): tf.Tensor2D {
  const taps = computeTaps(
    inSize,
    outSize,
    options.method ?? 'bilinear',
    options.antialias ?? true,
  );
  const values = new Float32Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    for (let k = 0; k < (taps.count[i] as number); k++) {
      values[i * inSize + (taps.start[i] as number) + k] = taps.weights[
        i * taps.maxTaps + k
      ] as number;
    }
  }
  return tf.tensor2d(values, [outSize, inSize]);
}

/**
 * Resize `[B, H, W, C]` to `[B, outH, outW, C]` with the half-pixel convention (see
 * `resample.ts`); differentiable. Values are not rounded or clipped (lanczos may overshoot).
 */
export function resizeImages(
  images: tf.Tensor4D,
  size: [number, number],
  options: ResizeOptions = {},
): tf.Tensor4D {
  const [b, h, w, c] = images.shape;
  const [outH, outW] = size;
  if (outH === h && outW === w) return images.clone();
  return tf.tidy(() => {
    const wy = weightMatrix(h, outH, options); // [outH, H]
    const wx = weightMatrix(w, outW, options); // [outW, W]
    const rows = tf.reshape(tf.transpose(images, [1, 0, 2, 3]), [h, b * w * c]); // [H, B*W*C]
    const vertical = tf.reshape(tf.matMul(wy, rows), [outH, b, w, c]); // [outH, B, W, C]
    const cols = tf.reshape(tf.transpose(vertical, [2, 1, 0, 3]), [w, b * outH * c]); // [W, B*outH*C]
    const horizontal = tf.reshape(tf.matMul(wx, cols), [outW, b, outH, c]); // [outW, B, outH, C]
    return tf.transpose(horizontal, [1, 2, 0, 3]) as tf.Tensor4D; // [B, outH, outW, C]
  });
}

function checkCrop(where: string, images: tf.Tensor4D, size: [number, number]): void {
  const [, h, w] = images.shape;
  if (!(size[0] > 0 && size[1] > 0 && size[0] <= h && size[1] <= w)) {
    throw invalidArgument(
      where,
      `a crop size within the image size [${h}, ${w}]`,
      size,
      'Pass a smaller crop, or resize first.',
    );
  }
}

/** The centred `[B, cropH, cropW, C]` window; the odd pixel goes below/right of the window. */
export function centerCrop(images: tf.Tensor4D, size: [number, number]): tf.Tensor4D {
  checkCrop('centerCrop(size)', images, size);
  const [, h, w] = images.shape;
  const top = Math.floor((h - size[0]) / 2);
  const left = Math.floor((w - size[1]) / 2);
  return tf.slice(images, [0, top, left, 0], [-1, size[0], size[1], -1]);
}

/**
 * A `[cropH, cropW]` window at a seeded random position per image, after optional zero padding
 * of `padding` pixels on every side (the CIFAR "pad 4, crop 32" recipe). Differentiable.
 */
export function randomCrop(
  images: tf.Tensor4D,
  size: [number, number],
  options: { seed: number; padding?: number },
): tf.Tensor4D {
  const padding = options.padding ?? 0;
  const rng = Rng.fromSeed(options.seed);
  return tf.tidy(() => {
    const padded =
      padding > 0
        ? tf.pad(images, [
            [0, 0],
            [padding, padding],
            [padding, padding],
            [0, 0],
          ])
        : images;
    checkCrop('randomCrop(size)', padded, size);
    const [b, h, w] = padded.shape;
    const crops: tf.Tensor4D[] = [];
    for (let i = 0; i < b; i++) {
      const top = rng.nextInt(h - size[0] + 1);
      const left = rng.nextInt(w - size[1] + 1);
      crops.push(tf.slice(padded, [i, top, left, 0], [1, size[0], size[1], -1]));
    }
    return tf.concat(crops, 0);
  });
}
