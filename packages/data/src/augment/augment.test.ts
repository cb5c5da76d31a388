import { Rng } from '@gensynth/core';
import { useCpuBackend } from '../testing/tf-setup';
import { augmentImages } from './augment';
import { cutoutMask, diffAugment, translateImages } from './diffaugment';

let tf: Awaited<ReturnType<typeof useCpuBackend>>;
beforeAll(async () => {
  tf = await useCpuBackend();
});

/** [1, 3, 3, 1] with values 1..9. */
const grid = () => tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);

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

  it('keeps a constant image constant inside under a small rotation and scale', async () => {
    const x = tf.fill([1, 9, 9, 1], 0.5) as ReturnType<typeof grid>;
    const out = await values(augmentImages(x, { seed: 2, rotate: 10, scale: [1.1, 1.2] }));
    expect(out[4 * 9 + 4]).toBeCloseTo(0.5, 5);
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

  it('applies cutout as a zero square and works inside a gradient computation', async () => {
    const x = tf.ones([2, 8, 8, 1]) as ReturnType<typeof grid>;
    const out = await values(augmentImages(x, { seed: 4, cutout: 0.5 }));
    expect(out.filter((v) => v === 0).length).toBeGreaterThanOrEqual(2 * 4); // clipped at borders at worst
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
