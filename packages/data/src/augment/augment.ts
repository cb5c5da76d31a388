/**
 * Seeded image augmentations as tensor ops, for real batches and generated images alike:
 * flips, 90-degree and small-angle rotations, translation and scale (one affine warp per image
 * with bilinear sampling, 0 outside), brightness / contrast / saturation, and cutout.
 *
 * The random parameters are drawn in JS from a Philox generator seeded with `seed`, so the same
 * seed gives the same augmentation on every backend. Sampling is four gathers weighted by the
 * bilinear coefficients, so gradients flow to the images. Exact transforms (flips, 90-degree
 * turns, whole-pixel shifts) land on pixel centres and move values without blending.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument, Rng } from '@gensynth/core';

export interface AugmentOptions {
  seed: number;
  /** Probability of a left-right flip (default 0). */
  flipHorizontal?: number;
  /** Probability of an up-down flip (default 0). */
  flipVertical?: number;
  /** Probability of a turn by a random multiple of 90 degrees (square images; default 0). */
  rotate90?: number;
  /** Largest small-angle rotation in degrees, uniform in [-r, r] (default 0). */
  rotate?: number;
  /** Largest shift as a fraction of the size, uniform per axis (default 0). */
  translate?: number;
  /** Shift by whole pixels only (default true, as DiffAugment and CIFAR crops do). */
  integerTranslate?: boolean;
  /** Zoom range `[min, max]`, uniform (default `[1, 1]`). */
  scale?: [number, number];
  /** Largest brightness offset in [-1, 1] units: `x + U(-b, b)` (default 0). */
  brightness?: number;
  /** Contrast factor `U(1 - c, 1 + c)` around each image's mean (default 0). */
  contrast?: number;
  /** Saturation factor `U(1 - s, 1 + s)` around each pixel's channel mean (default 0). */
  saturation?: number;
  /** Side of a square set to 0, as a fraction of the size, at a random centre (default 0). */
  cutout?: number;
}

/** Forward map (centred pixel coordinates): `dst = A src + t`, A row-major [a, b, c, d]. */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  ty: number;
  tx: number;
}

function drawAffine(rng: Rng, h: number, w: number, o: AugmentOptions): Affine {
  // Components, applied in this order: flips, quarter turns, rotation, scale; then translation.
  let m = [1, 0, 0, 1]; // [y from y, y from x, x from y, x from x]
  const mul = (p: number[]) => {
    m = [
      p[0]! * m[0]! + p[1]! * m[2]!,
      p[0]! * m[1]! + p[1]! * m[3]!,
      p[2]! * m[0]! + p[3]! * m[2]!,
      p[2]! * m[1]! + p[3]! * m[3]!,
    ];
  };
  if (rng.nextFloat() < (o.flipHorizontal ?? 0)) mul([1, 0, 0, -1]);
  if (rng.nextFloat() < (o.flipVertical ?? 0)) mul([-1, 0, 0, 1]);
  if (rng.nextFloat() < (o.rotate90 ?? 0)) {
    const turns = 1 + rng.nextInt(3);
    for (let k = 0; k < turns; k++) mul([0, -1, 1, 0]); // exact quarter turn
  }
  const degrees = (o.rotate ?? 0) * (2 * rng.nextFloat() - 1);
  if (degrees !== 0) {
    const r = (degrees * Math.PI) / 180;
    mul([Math.cos(r), -Math.sin(r), Math.sin(r), Math.cos(r)]);
  }
  const [lo, hi] = o.scale ?? [1, 1];
  const s = lo + (hi - lo) * rng.nextFloat();
  if (s !== 1) mul([s, 0, 0, s]);
  const shift = (size: number) => {
    const t = (o.translate ?? 0) * size * (2 * rng.nextFloat() - 1);
    return o.integerTranslate === false ? t : Math.round(t);
  };
  const ty = shift(h);
  const tx = shift(w);
  return { a: m[0]!, b: m[1]!, c: m[2]!, d: m[3]!, ty, tx };
}

/** Bilinear sample indices/weights for every output pixel under the inverse of each affine. */
function samplingPlan(affines: Affine[], h: number, w: number) {
  const n = affines.length * h * w;
  const index = [new Int32Array(n), new Int32Array(n), new Int32Array(n), new Int32Array(n)];
  const weight = [
    new Float32Array(n),
    new Float32Array(n),
    new Float32Array(n),
    new Float32Array(n),
  ];
  const zeroRow = n;
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  affines.forEach((f, b) => {
    const det = f.a * f.d - f.b * f.c;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const u = i - cy - f.ty;
        const v = j - cx - f.tx;
        const sy = (f.d * u - f.b * v) / det + cy;
        const sx = (-f.c * u + f.a * v) / det + cx;
        const y0 = Math.floor(sy + 1e-9);
        const x0 = Math.floor(sx + 1e-9);
        const fy = Math.max(0, sy - y0);
        const fx = Math.max(0, sx - x0);
        const o = (b * h + i) * w + j;
        const corners: [number, number, number][] = [
          [y0, x0, (1 - fy) * (1 - fx)],
          [y0, x0 + 1, (1 - fy) * fx],
          [y0 + 1, x0, fy * (1 - fx)],
          [y0 + 1, x0 + 1, fy * fx],
        ];
        corners.forEach(([y, x, wt], k) => {
          const inside = y >= 0 && y < h && x >= 0 && x < w && wt > 1e-7;
          index[k]![o] = inside ? (b * h + y) * w + x : zeroRow;
          weight[k]![o] = inside ? wt : 0;
        });
      }
    }
  });
  return { index, weight };
}

function isIdentity(f: Affine): boolean {
  return f.a === 1 && f.b === 0 && f.c === 0 && f.d === 1 && f.tx === 0 && f.ty === 0;
}

/** Warp every image by its affine (0 outside). `[B, H, W, C]` -> same shape; differentiable. */
export function warpImages(images: tf.Tensor4D, affines: Affine[]): tf.Tensor4D {
  const [b, h, w, c] = images.shape;
  if (affines.every(isIdentity)) return images.clone();
  const { index, weight } = samplingPlan(affines, h, w);
  return tf.tidy(() => {
    const flat = tf.concat([tf.reshape(images, [b * h * w, c]), tf.zeros([1, c])]); // [B*H*W + 1, C]
    const taps = index.map((idx, k) =>
      tf.mul(tf.gather(flat, tf.tensor1d(idx, 'int32')), tf.tensor2d(weight[k]!, [b * h * w, 1])),
    );
    return tf.reshape(tf.addN(taps), [b, h, w, c]);
  });
}

function checkOptions(o: AugmentOptions): void {
  const probabilities = ['flipHorizontal', 'flipVertical', 'rotate90'] as const;
  for (const key of probabilities) {
    const p = o[key];
    if (p !== undefined && !(p >= 0 && p <= 1))
      throw invalidArgument(
        `augmentImages(${key})`,
        'a probability in [0, 1]',
        p,
        'Pass e.g. 0.5.',
      );
  }
  if (o.scale && !(o.scale[0] > 0 && o.scale[1] >= o.scale[0])) {
    throw invalidArgument(
      'augmentImages(scale)',
      '[min, max] with 0 < min <= max',
      o.scale,
      'Pass e.g. [0.9, 1.1].',
    );
  }
}

/**
 * Augment `images` (`[B, H, W, C]` float32 in [-1, 1]) with the transforms `options` turns on.
 * Returns a new tensor of the same shape; the input is not disposed. Differentiable.
 */
export function augmentImages(images: tf.Tensor4D, options: AugmentOptions): tf.Tensor4D {
  checkOptions(options);
  const [b, h, w] = images.shape;
  if ((options.rotate90 ?? 0) > 0 && h !== w) {
    throw invalidArgument(
      'augmentImages(rotate90)',
      'square images',
      `[${h}, ${w}]`,
      'Crop or resize to a square first, or set rotate90: 0.',
    );
  }
  const rng = Rng.fromSeed(options.seed);
  const affines = Array.from({ length: b }, () => drawAffine(rng, h, w, options));
  const draws = (spread = 0) =>
    Float32Array.from({ length: b }, () => spread * (2 * rng.nextFloat() - 1));
  const brightness = draws(options.brightness);
  const contrast = draws(options.contrast);
  const saturation = draws(options.saturation);
  const cutSize = Math.round((options.cutout ?? 0) * Math.min(h, w));
  const centres = Array.from({ length: b }, () => [rng.nextInt(h), rng.nextInt(w)] as const);
  return tf.tidy(() => {
    let x = warpImages(images, affines);
    const perImage = (v: Float32Array) => tf.tensor4d(v, [b, 1, 1, 1]);
    if (options.brightness) x = tf.add(x, perImage(brightness));
    if (options.saturation) {
      const mean = tf.mean(x, 3, true);
      x = tf.add(tf.mul(tf.sub(x, mean), tf.add(perImage(saturation), 1)), mean);
    }
    if (options.contrast) {
      const mean = tf.mean(x, [1, 2, 3], true);
      x = tf.add(tf.mul(tf.sub(x, mean), tf.add(perImage(contrast), 1)), mean);
    }
    if (cutSize > 0) {
      const mask = new Float32Array(b * h * w).fill(1);
      centres.forEach(([cy, cx], n) => {
        const top = cy - Math.floor(cutSize / 2);
        const left = cx - Math.floor(cutSize / 2);
        for (let y = Math.max(0, top); y < Math.min(h, top + cutSize); y++) {
          for (let xx = Math.max(0, left); xx < Math.min(w, left + cutSize); xx++)
            mask[(n * h + y) * w + xx] = 0;
        }
      });
      x = tf.mul(x, tf.tensor4d(mask, [b, h, w, 1]));
    }
    return x;
  });
}
