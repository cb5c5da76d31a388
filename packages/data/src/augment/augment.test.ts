import { Rng } from '@gensynth/core';
import { useCpuBackend } from '../testing/tf-setup';
import { augmentImages, warpImages } from './augment';
import { cutoutMask, diffAugment, translateImages } from './diffaugment';

let tf: Awaited<ReturnType<typeof useCpuBackend>>;
beforeAll(async () => {
  tf = await useCpuBackend();
});

/** [1, 3, 3, 1] with values 1..9. */
const grid = () => tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);

/** [1, n, n, 2]: channel 0 holds the column index, channel 1 the row index. */
const ramp = (n: number) =>
  tf.tensor4d(
    Array.from({ length: n * n * 2 }, (_, k) =>
      k % 2 === 0 ? Math.floor(k / 2) % n : Math.floor(k / 2 / n),
    ),
    [1, n, n, 2],
  );

async function values(t: {
  data(): Promise<ArrayLike<number>>;
  dispose(): void;
}): Promise<number[]> {
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

describe('augmentImages', () => {
  it('flips left-right exactly', async () => {
    const x = grid();
    expect(await values(augmentImages(x, { seed: 1, flipHorizontal: 1 }))).toEqual([
      3, 2, 1, 6, 5, 4, 9, 8, 7,
    ]);
    expect(await values(augmentImages(x, { seed: 1, flipVertical: 1 }))).toEqual([
      7, 8, 9, 4, 5, 6, 1, 2, 3,
    ]);
    x.dispose();
  });

  it('turns by a multiple of 90 degrees without blending', async () => {
    const x = grid();
    const turns = [
      [3, 6, 9, 2, 5, 8, 1, 4, 7],
      [9, 8, 7, 6, 5, 4, 3, 2, 1],
      [7, 4, 1, 8, 5, 2, 9, 6, 3],
    ].map(String);
    const seen = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const out = await values(augmentImages(x, { seed, rotate90: 1 }));
      expect(turns).toContain(String(out));
      seen.add(String(out));
    }
    expect(seen.size).toBe(3);
    x.dispose();
  });

  it('shifts by whole pixels with 0 outside', async () => {
    const x = tf.tensor4d(
      Array.from({ length: 16 }, (_, i) => i + 1),
      [1, 4, 4, 1],
    );
    const out = await values(augmentImages(x, { seed: 5, translate: 0.5 }));
    // Find the shift: every value either moved by the same (dy, dx) or became 0.
    const shifts = new Set<string>();
    out.forEach((v, k) => {
      if (v === 0) return;
      const src = v - 1;
      shifts.add(`${Math.floor(k / 4) - Math.floor(src / 4)},${(k % 4) - (src % 4)}`);
    });
    expect(shifts.size).toBe(1);
    x.dispose();
  });

  it('rotates a ramp by the given angle: the sampled source is A^-1 (dst - t)', async () => {
    // Channel 0 holds the column x, channel 1 the row y, so bilinear sampling returns the source
    // coordinates exactly. With dst = A src about the centre (4, 4), A = [[cos, -sin], [sin, cos]]
    // in (y, x), A^-1 = [[cos, sin], [-sin, cos]]: pixel (4, 5) samples y = 4 + sin,
    // x = 4 + cos; pixel (5, 4) samples y = 4 + cos, x = 4 - sin.
    const x = ramp(9);
    const r = (10 * Math.PI) / 180;
    const turn = { a: Math.cos(r), b: -Math.sin(r), c: Math.sin(r), d: Math.cos(r), ty: 0, tx: 0 };
    const out = await values(warpImages(x, [turn]));
    const at = (i: number, j: number, ch: number) => out[(i * 9 + j) * 2 + ch]!;
    expect(at(4, 4, 0)).toBeCloseTo(4, 5);
    expect(at(4, 5, 0)).toBeCloseTo(4 + 0.984808, 5);
    expect(at(4, 5, 1)).toBeCloseTo(4 + 0.173648, 5);
    expect(at(5, 4, 0)).toBeCloseTo(4 - 0.173648, 5);
    expect(at(5, 4, 1)).toBeCloseTo(4 + 0.984808, 5);
    x.dispose();
  });

  it('draws small rotations in [-r, r] degrees, both ways', async () => {
    const x = ramp(9);
    const angles: number[] = [];
    for (let seed = 0; seed < 24; seed++) {
      const out = await values(augmentImages(x, { seed, rotate: 10 }));
      const at = (i: number, j: number) => out[(i * 9 + j) * 2]!;
      // x sampled at (4, 5) is 4 + cos(theta), at (5, 4) it is 4 - sin(theta).
      angles.push((Math.atan2(4 - at(5, 4), at(4, 5) - 4) * 180) / Math.PI);
    }
    expect(Math.max(...angles.map(Math.abs))).toBeLessThanOrEqual(10 + 1e-4);
    expect(Math.min(...angles)).toBeLessThan(-3);
    expect(Math.max(...angles)).toBeGreaterThan(3);
    x.dispose();
  });

  it('draws zoom factors in the scale range', async () => {
    const x = ramp(9);
    for (let seed = 0; seed < 12; seed++) {
      const out = await values(augmentImages(x, { seed, scale: [1.1, 1.2] }));
      // Zoom s samples x = 4 + 1 / s one pixel right of the centre.
      const s = 1 / (out[(4 * 9 + 5) * 2]! - 4);
      expect(s).toBeGreaterThanOrEqual(1.1 - 1e-4);
      expect(s).toBeLessThanOrEqual(1.2 + 1e-4);
    }
    x.dispose();
  });

  it('draws whole-pixel shifts of at most translate * size', async () => {
    const x = ramp(8);
    const shifts = new Set<number>();
    for (let seed = 0; seed < 30; seed++) {
      const out = await values(augmentImages(x, { seed, translate: 0.25 }));
      // A shift by (ty, tx) samples column 3 - tx at pixel (3, 3); |tx| <= 0.25 * 8 = 2.
      const tx = 3 - out[(3 * 8 + 3) * 2]!;
      expect(Number.isInteger(tx)).toBe(true);
      expect(Math.abs(tx)).toBeLessThanOrEqual(2);
      shifts.add(tx);
    }
    expect(shifts.size).toBeGreaterThanOrEqual(4);
    x.dispose();
  });

  it('adds one brightness offset per image, within [-b, b]', async () => {
    const x = tf.zeros([6, 3, 3, 3]) as ReturnType<typeof grid>;
    const out = await values(augmentImages(x, { seed: 9, brightness: 0.2 }));
    const offsets = Array.from({ length: 6 }, (_, n) => out[n * 27]!);
    offsets.forEach((offset, n) => {
      expect(Math.abs(offset)).toBeLessThanOrEqual(0.2);
      out.slice(n * 27, (n + 1) * 27).forEach((v) => expect(v).toBeCloseTo(offset, 6));
    });
    expect(new Set(offsets).size).toBe(6);
    x.dispose();
  });

  it('scales contrast about the image mean and saturation about the pixel mean', async () => {
    // One pixel gray (0.2, 0.2, 0.2), one coloured (0.6, 0, -0.3): image mean 0.1167.
    const data = [0.2, 0.2, 0.2, 0.6, 0, -0.3];
    const x = tf.tensor4d(data, [1, 1, 2, 3]);
    const contrasted = await values(augmentImages(x, { seed: 4, contrast: 0.5 }));
    const mean = data.reduce((a, b) => a + b, 0) / 6;
    const k = (contrasted[3]! - mean) / (data[3]! - mean);
    expect(k).toBeGreaterThanOrEqual(0.5);
    expect(k).toBeLessThanOrEqual(1.5);
    contrasted.forEach((v, i) => expect(v).toBeCloseTo(mean + k * (data[i]! - mean), 5));
    const saturated = await values(augmentImages(x, { seed: 4, saturation: 0.5 }));
    expect(saturated.slice(0, 3).map((v) => Number(v.toFixed(5)))).toEqual([0.2, 0.2, 0.2]);
    const pixelMean = 0.1;
    const f = (saturated[3]! - pixelMean) / (0.6 - pixelMean);
    expect(f).toBeGreaterThanOrEqual(0.5);
    expect(f).toBeLessThanOrEqual(1.5);
    [0.6, 0, -0.3].forEach((v, c) =>
      expect(saturated[3 + c]).toBeCloseTo(pixelMean + f * (v - pixelMean), 5),
    );
    x.dispose();
  });

  it('cuts out one axis-aligned square of cutout * size, clipped at the border', async () => {
    const x = tf.ones([1, 8, 8, 1]) as ReturnType<typeof grid>;
    const sides = new Set<string>();
    for (let seed = 0; seed < 24; seed++) {
      const out = await values(augmentImages(x, { seed, cutout: 0.5 }));
      const rows = new Set<number>();
      const cols = new Set<number>();
      out.forEach((v, k) => {
        if (v === 0) {
          rows.add(Math.floor(k / 8));
          cols.add(k % 8);
        } else expect(v).toBe(1);
      });
      // The zeros fill exactly rows x cols, each a run of 2..4 (a side of 4, centre inside).
      expect(out.filter((v) => v === 0).length).toBe(rows.size * cols.size);
      for (const set of [rows, cols]) {
        expect(set.size).toBeGreaterThanOrEqual(2);
        expect(set.size).toBeLessThanOrEqual(4);
        expect(Math.max(...set) - Math.min(...set)).toBe(set.size - 1);
      }
      sides.add(`${rows.size}x${cols.size}`);
    }
    expect(sides.has('4x4')).toBe(true);
    x.dispose();
  });

  it('is seeded: same seed, same result; another seed, another one', async () => {
    const x = tf.randomUniform([4, 8, 8, 3], -1, 1, 'float32', 3) as ReturnType<typeof grid>;
    const options = {
      flipHorizontal: 0.5,
      rotate: 15,
      translate: 0.1,
      brightness: 0.2,
      contrast: 0.2,
      saturation: 0.2,
      cutout: 0.25,
    };
    const a = await values(augmentImages(x, { seed: 7, ...options }));
    const b = await values(augmentImages(x, { seed: 7, ...options }));
    const c = await values(augmentImages(x, { seed: 8, ...options }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    x.dispose();
  });

  it('works inside a gradient computation', async () => {
    const x = tf.ones([2, 8, 8, 1]) as ReturnType<typeof grid>;
    const grad = tf.grad((input) =>
      tf.sum(augmentImages(input as typeof x, { seed: 1, flipHorizontal: 1, brightness: 0.3 })),
    )(x);
    expect(await values(grad)).toEqual(new Array(128).fill(1));
    x.dispose();
  });

  it('leaks no tensors', async () => {
    const x = grid();
    const before = tf.memory().numTensors;
    augmentImages(x, { seed: 1, rotate: 5, cutout: 0.3, contrast: 0.1 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('DiffAugment', () => {
  it('translates like the reference: out[i, j] = x[i + ty, j + tx], 0 outside', async () => {
    const x = grid();
    expect(await values(translateImages(x, [[1, 0]]))).toEqual([4, 5, 6, 7, 8, 9, 0, 0, 0]);
    expect(await values(translateImages(x, [[0, -1]]))).toEqual([0, 1, 2, 0, 4, 5, 0, 7, 8]);
    x.dispose();
  });

  it('builds the reference cutout mask, clipping cells to the image', async () => {
    // size 2: rows o - 1 .. o, clamped to [0, H - 1].
    expect(await values(cutoutMask(1, 4, 4, [2, 2], [[2, 2]]))).toEqual([
      1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1,
    ]);
    expect(await values(cutoutMask(1, 3, 3, [2, 2], [[0, 0]]))).toEqual([
      0, 1, 1, 1, 1, 1, 1, 1, 1,
    ]);
  });

  it('draws translations in {-s..s}, s = int(size / 8 + 0.5), per image', async () => {
    // 32 px: s = int(4.5) = 4. The ramp + 1 tells a sampled pixel (>= 1) from the zero fill.
    const x = tf.add(ramp(32), 1) as ReturnType<typeof grid>;
    const seen = new Set<number>();
    for (let seed = 0; seed < 30; seed++) {
      const out = await values(diffAugment(x, { seed, policy: ['translation'] }));
      const at = (i: number, j: number, ch: number) => out[(i * 32 + j) * 2 + ch]!;
      // out[i, j] = x[i + ty, j + tx]: the centre pixel holds column 16 + tx and row 16 + ty.
      const tx = at(16, 16, 0) - 1 - 16;
      const ty = at(16, 16, 1) - 1 - 16;
      for (const t of [tx, ty]) {
        expect(Number.isInteger(t)).toBe(true);
        expect(Math.abs(t)).toBeLessThanOrEqual(4);
        seen.add(t);
      }
      // Zero fill on the side the image moved away from.
      if (tx > 0) expect(at(16, 31, 0)).toBe(0);
      if (tx < 0) expect(at(16, 0, 0)).toBe(0);
    }
    expect(seen.size).toBeGreaterThanOrEqual(7);
    x.dispose();
  });

  it('cuts out a square of int(size / 2 + 0.5) centred in 0..size, clamped to the image', async () => {
    const x = tf.ones([1, 8, 8, 1]) as ReturnType<typeof grid>;
    const sides = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      const out = await values(diffAugment(x, { seed, policy: ['cutout'] }));
      const rows = new Set<number>();
      const cols = new Set<number>();
      out.forEach((v, k) => {
        if (v === 0) {
          rows.add(Math.floor(k / 8));
          cols.add(k % 8);
        }
      });
      // Side 4: rows o - 2 .. o + 1 for o in 0..8, clamped: runs of 2 (o = 0 or 8) to 4.
      expect(out.filter((v) => v === 0).length).toBe(rows.size * cols.size);
      for (const set of [rows, cols]) {
        expect(set.size).toBeGreaterThanOrEqual(2);
        expect(set.size).toBeLessThanOrEqual(4);
        expect(Math.max(...set) - Math.min(...set)).toBe(set.size - 1);
        sides.add(set.size);
      }
    }
    expect([...sides].sort()).toEqual([2, 3, 4]);
    x.dispose();
  });

  it('applies brightness, saturation and contrast with the reference formulas', async () => {
    const data = [0.1, -0.2, 0.3, 0.5, 0.0, -0.5, -0.9, 0.4, 0.2, 0.7, -0.1, 0.6]; // [1, 2, 2, 3]
    const x = tf.tensor4d(data, [1, 2, 2, 3]);
    const out = await values(diffAugment(x, { seed: 11, policy: ['color'] }));
    const rng = Rng.fromSeed(11);
    const [r1, r2, r3] = [rng.nextFloat(), rng.nextFloat(), rng.nextFloat()];
    const bright = data.map((v) => v + (r1 - 0.5));
    const sat = bright.map((v, i) => {
      const p = Math.floor(i / 3) * 3;
      const mean = (bright[p]! + bright[p + 1]! + bright[p + 2]!) / 3;
      return (v - mean) * (r2 * 2) + mean;
    });
    const mean = sat.reduce((a, b) => a + b, 0) / sat.length;
    const expected = sat.map((v) => (v - mean) * (r3 + 0.5) + mean);
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    x.dispose();
  });

  it('is differentiable and seeded for the full policy', async () => {
    const x = tf.randomUniform([3, 8, 8, 3], -1, 1, 'float32', 1) as ReturnType<typeof grid>;
    const a = await values(diffAugment(x, { seed: 3 }));
    expect(a).toEqual(await values(diffAugment(x, { seed: 3 })));
    const grad = tf.grad((input) => tf.sum(diffAugment(input as typeof x, { seed: 3 })))(x);
    expect(grad.shape).toEqual([3, 8, 8, 3]);
    const g = await values(grad);
    expect(g.every(Number.isFinite)).toBe(true);
    expect(g.some((v) => v !== 0)).toBe(true);
    x.dispose();
  });
});
