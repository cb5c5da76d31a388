/**
 * DiffAugment: Zhao, Liu, Lin, Zhu and Han, "Differentiable Augmentation for Data-Efficient GAN
 * Training", NeurIPS 2020, arXiv 2006.10738. Same semantics as the authors' reference
 * (`DiffAugment_pytorch.py`), on NHWC images in [-1, 1]:
 *
 * - color: brightness `x + (r - 0.5)`; saturation `(x - mean_C) * 2r + mean_C`; contrast
 *   `(x - mean_HWC) * (r + 0.5) + mean_HWC`; r ~ U[0, 1) per image, in that order.
 * - translation (ratio 1/8): per image integer shifts `t ~ U{-s..s}`, `s = int(size * ratio +
 *   0.5)`; `out[i, j] = x[i + t_y, j + t_x]`, 0 outside the image.
 * - cutout (ratio 1/2): per image an `s_y x s_x` square, `s = int(size * ratio + 0.5)`, centred
 *   at `o ~ U{0..size - (s % 2)}` per axis (cells clipped to the image), is multiplied by 0.
 *
 * Randomness comes from a seed (Philox), not from tfjs, so a step replays exactly. Every op is
 * differentiable with respect to the images (gradients flow through add, mul, mean, gather).
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument, Rng } from '@gensynth/core';

export type DiffAugmentPolicy = 'color' | 'translation' | 'cutout';

export interface DiffAugmentOptions {
  seed: number;
  /** Default `['color', 'translation', 'cutout']`, applied in the given order. */
  policy?: readonly DiffAugmentPolicy[];
  translationRatio?: number;
  cutoutRatio?: number;
}

export const DIFF_AUGMENT_DEFAULTS = Object.freeze({
  policy: Object.freeze(['color', 'translation', 'cutout'] as DiffAugmentPolicy[]),
  translationRatio: 0.125,
  cutoutRatio: 0.5,
});

/** `[B]` uniform draws as a `[B, 1, 1, 1]` tensor. */
function perImage(rng: Rng, b: number): tf.Tensor4D {
  return tf.tensor4d(
    Float32Array.from({ length: b }, () => rng.nextFloat()),
    [b, 1, 1, 1],
  );
}

/** Integer in [lo, hi) like `torch.randint(lo, hi)`. */
function randint(rng: Rng, lo: number, hi: number): number {
  return lo + rng.nextInt(hi - lo);
}

function color(x: tf.Tensor4D, rng: Rng): tf.Tensor4D {
  const b = x.shape[0];
  const bright = tf.add(x, tf.sub(perImage(rng, b), 0.5));
  const satMean = tf.mean(bright, 3, true);
  const saturated = tf.add(tf.mul(tf.sub(bright, satMean), tf.mul(perImage(rng, b), 2)), satMean);
  const conMean = tf.mean(saturated, [1, 2, 3], true);
  return tf.add(tf.mul(tf.sub(saturated, conMean), tf.add(perImage(rng, b), 0.5)), conMean);
}

/**
 * Shift each image by whole pixels: `out[b, i, j] = x[b, i + shifts[b][0], j + shifts[b][1]]`,
 * 0 outside. `[B, H, W, C]` -> same shape; differentiable.
 */
export function translateImages(
  x: tf.Tensor4D,
  shifts: readonly (readonly [number, number])[],
): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const zeroRow = b * h * w;
  const index = new Int32Array(b * h * w);
  for (let n = 0; n < b; n++) {
    const [ty, tx] = shifts[n] ?? [0, 0];
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const si = i + ty;
        const sj = j + tx;
        index[(n * h + i) * w + j] =
          si >= 0 && si < h && sj >= 0 && sj < w ? (n * h + si) * w + sj : zeroRow;
      }
    }
  }
  return tf.tidy(() => {
    const flat = tf.concat([tf.reshape(x, [b * h * w, c]), tf.zeros([1, c])]); // [B*H*W + 1, C]
    return tf.reshape(tf.gather(flat, tf.tensor1d(index, 'int32')), [b, h, w, c]);
  });
}

function translation(x: tf.Tensor4D, rng: Rng, ratio: number): tf.Tensor4D {
  const [b, h, w] = x.shape;
  const sy = Math.floor(h * ratio + 0.5);
  const sx = Math.floor(w * ratio + 0.5);
  const ty = Array.from({ length: b }, () => randint(rng, -sy, sy + 1));
  const tx = Array.from({ length: b }, () => randint(rng, -sx, sx + 1));
  return translateImages(
    x,
    ty.map((t, n) => [t, tx[n] as number] as const),
  );
}

/** `[B, H, W, 1]` mask of ones with a zero `size` square centred at each `centres[b]` (clipped). */
export function cutoutMask(
  b: number,
  h: number,
  w: number,
  size: [number, number],
  centres: readonly (readonly [number, number])[],
): tf.Tensor4D {
  const mask = new Float32Array(b * h * w).fill(1);
  for (let n = 0; n < b; n++) {
    const [oy, ox] = centres[n] ?? [0, 0];
    for (let i = 0; i < size[0]; i++) {
      const y = Math.min(Math.max(i + oy - Math.floor(size[0] / 2), 0), h - 1);
      for (let j = 0; j < size[1]; j++) {
        const xx = Math.min(Math.max(j + ox - Math.floor(size[1] / 2), 0), w - 1);
        mask[(n * h + y) * w + xx] = 0;
      }
    }
  }
  return tf.tensor4d(mask, [b, h, w, 1]);
}

function cutout(x: tf.Tensor4D, rng: Rng, ratio: number): tf.Tensor4D {
  const [b, h, w] = x.shape;
  const size: [number, number] = [Math.floor(h * ratio + 0.5), Math.floor(w * ratio + 0.5)];
  const oy = Array.from({ length: b }, () => randint(rng, 0, h + (1 - (size[0] % 2))));
  const ox = Array.from({ length: b }, () => randint(rng, 0, w + (1 - (size[1] % 2))));
  return tf.mul(
    x,
    cutoutMask(
      b,
      h,
      w,
      size,
      oy.map((o, n) => [o, ox[n] as number] as const),
    ),
  );
}

/**
 * DiffAugment of `images` (`[B, H, W, C]` float32 in [-1, 1]; real or generated). Returns a
 * new tensor of the same shape (values may leave [-1, 1], as in the reference). Differentiable.
 */
export function diffAugment(images: tf.Tensor4D, options: DiffAugmentOptions): tf.Tensor4D {
  const o = { ...DIFF_AUGMENT_DEFAULTS, ...options };
  for (const p of o.policy) {
    if (!['color', 'translation', 'cutout'].includes(p)) {
      throw invalidArgument(
        'diffAugment(policy)',
        "'color', 'translation' and/or 'cutout'",
        p,
        "Pass e.g. policy: ['color', 'translation', 'cutout'].",
      );
    }
  }
  const rng = Rng.fromSeed(options.seed);
  return tf.tidy(() => {
    let x = images;
    for (const p of o.policy) {
      if (p === 'color') x = color(x, rng);
      else if (p === 'translation') x = translation(x, rng, o.translationRatio);
      else x = cutout(x, rng, o.cutoutRatio);
    }
    return x === images ? images.clone() : x;
  });
}
