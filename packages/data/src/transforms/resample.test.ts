import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend } from '../testing/tf-setup';
import { centerCropOffsets, cropHwc, resizeHwc, resizeHwcUint8 } from './resample';
import { bytesToImages, centerCrop, denormalizeImages, randomCrop, resizeImages } from './ops';

interface ResizeCase {
  id: string;
  input_chw: number[][][];
  out_hw: [number, number];
  half_pixel: number[][][];
}
const vectors = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../../../vectors/resize_vectors.json'), 'utf8'),
) as { cases: ResizeCase[] };
const halfPixelCases = vectors.cases.filter(
  (c) => c.input_chw && Array.isArray(c.half_pixel?.[0]?.[0]),
);

/** CHW nested arrays -> HWC flat. */
function chwToHwc(chw: number[][][]): { data: Float32Array; h: number; w: number; c: number } {
  const c = chw.length;
  const h = chw[0]!.length;
  const w = chw[0]![0]!.length;
  const data = new Float32Array(h * w * c);
  chw.forEach((plane, k) =>
    plane.forEach((row, y) => row.forEach((v, x) => (data[(y * w + x) * c + k] = v))),
  );
  return { data, h, w, c };
}

beforeAll(async () => {
  await useCpuBackend();
});

describe('resizeHwc', () => {
  it('resizes 3x3 (1..9) to 6x6 with first row 1, 1.25, 1.75, 2.25, 2.75, 3', () => {
    const out = resizeHwc(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 3, 3, 1, [6, 6]);
    expect(Array.from(out.subarray(0, 6))).toEqual([1, 1.25, 1.75, 2.25, 2.75, 3]);
  });

  it.each(halfPixelCases.map((c) => [c.id, c] as const))(
    'matches the PyTorch half-pixel vector %s',
    (_id, c) => {
      const { data, h, w, c: channels } = chwToHwc(c.input_chw);
      const expected = chwToHwc(c.half_pixel).data;
      const out = resizeHwc(data, h, w, channels, c.out_hw, { antialias: false });
      expect(out.length).toBe(expected.length);
      let worst = 0;
      out.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - expected[i]!))));
      expect(worst).toBeLessThan(1e-3);
    },
  );

  it('widens the triangle kernel when downscaling with antialias (4 -> 2)', () => {
    // centre 1.0, taps at 0.5/1.5/2.5 -> triangle(|d| / 2) = 0.75, 0.75, 0.25, normalised by 1.75.
    const out = resizeHwc(Float32Array.from([0, 0, 7, 0]), 1, 4, 1, [1, 2]);
    expect(out[0]).toBeCloseTo(1, 6);
    expect(out[1]).toBeCloseTo((7 * 0.75) / 1.75, 6);
  });

  it('averages exactly the covered area (3 -> 2)', () => {
    // output 0 covers [0, 1.5): (a + b/2) / 1.5; output 1 covers [1.5, 3): (b/2 + c) / 1.5.
    const out = resizeHwc(Float32Array.from([3, 6, 9]), 1, 3, 1, [1, 2], { method: 'area' });
    expect(out[0]).toBeCloseTo(4, 6);
    expect(out[1]).toBeCloseTo(8, 6);
  });

  it('keeps an image at its own size with lanczos and a constant image constant', () => {
    const ramp = Float32Array.from({ length: 25 }, (_, i) => i * 3);
    Array.from(resizeHwc(ramp, 5, 5, 1, [5, 5], { method: 'lanczos' })).forEach((v, i) =>
      expect(v).toBeCloseTo(ramp[i]!, 4),
    );
    const flat = new Float32Array(64).fill(100);
    resizeHwc(flat, 8, 8, 1, [3, 5], { method: 'lanczos' }).forEach((v) =>
      expect(v).toBeCloseTo(100, 3),
    );
  });

  it('weights lanczos taps by sinc(x) sinc(x / 3), normalised, when upscaling 2 -> 4', () => {
    // Output 0 sits at source 0.25 (pixel-edge units): taps at distances 0.25 and 1.25 give
    // L = 0.890067 and -0.132871, so 10 * -0.132871 / 0.757196 = -1.754777. Output 1 (0.75):
    // L = 0.890067, 0.270190 -> 10 * 0.270190 / 1.160257 = 2.328707. The rest by symmetry.
    const out = resizeHwc(Float32Array.from([0, 10]), 1, 2, 1, [1, 4], { method: 'lanczos' });
    [-1.754777, 2.328707, 7.671293, 11.754777].forEach((v, i) => expect(out[i]).toBeCloseTo(v, 5));
  });

  it('widens lanczos by in / out when downscaling 6 -> 2', () => {
    // Output 0 at 1.5 with stretch 3: weights L((j - 1) / 3) for j = 0..5; the one 6 sits at
    // j = 3 -> 6 * L(2/3) / sum = 0.799967. Output 1 at 4.5: 6 * L(-1/3) / sum = 1.702613.
    const out = resizeHwc(Float32Array.from([0, 0, 0, 6, 0, 0]), 1, 6, 1, [1, 2], {
      method: 'lanczos',
    });
    expect(out[0]).toBeCloseTo(0.799967, 5);
    expect(out[1]).toBeCloseTo(1.702613, 5);
  });

  it('rounds and clamps lanczos overshoot to uint8', () => {
    // 25.5 x the 2 -> 4 case above: -44.7, 59.38, 195.62, 299.7.
    const out = resizeHwcUint8(Uint8Array.from([0, 255]), 1, 2, 1, [1, 4], { method: 'lanczos' });
    expect(Array.from(out)).toEqual([0, 59, 196, 255]);
  });
});

describe('crops', () => {
  it('crops a window and centres it', () => {
    const src = Uint8Array.from({ length: 5 * 4 }, (_, i) => i); // 5 rows, 4 columns, 1 channel
    expect(centerCropOffsets(5, 4, 2, 2)).toEqual([1, 1]);
    expect(Array.from(cropHwc(src, 4, 1, 1, 1, 2, 2))).toEqual([5, 6, 9, 10]);
  });
});

describe('tensor ops', () => {
  it('normalises bytes to [-1, 1] and back exactly', async () => {
    const bytes = Uint8Array.from([0, 1, 127, 128, 254, 255]);
    const images = bytesToImages(bytes, [1, 1, 6, 1]);
    const values = await images.data();
    expect(values[0]).toBe(-1);
    expect(values[5]).toBe(1);
    expect(values[3]).toBeCloseTo(128 / 127.5 - 1, 6);
    const back = denormalizeImages(images);
    expect(Array.from(await back.data())).toEqual(Array.from(bytes));
    tf.dispose([images, back]);
  });

  it('resizes tensors like resizeHwc and is differentiable', async () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const y = resizeImages(x, [6, 6]);
    expect(Array.from((await y.data()).slice(0, 6))).toEqual(
      [1, 1.25, 1.75, 2.25, 2.75, 3].map(Math.fround),
    );
    // Each output row of weights sums to 1, so d(sum(y))/dx sums to the 36 outputs.
    const grad = tf.grad((input) => tf.sum(resizeImages(input as tf.Tensor4D, [6, 6])))(x);
    expect((await tf.sum(grad).data())[0]).toBeCloseTo(36, 4);
    tf.dispose([x, y, grad]);
  });

  it('matches the half-pixel vectors on tensors', async () => {
    for (const c of halfPixelCases.slice(0, 3)) {
      const { data, h, w, c: channels } = chwToHwc(c.input_chw);
      const x = tf.tensor4d(data, [1, h, w, channels]);
      const y = resizeImages(x, c.out_hw, { antialias: false });
      const expected = chwToHwc(c.half_pixel).data;
      (await y.data()).forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-3));
      tf.dispose([x, y]);
    }
  });

  it('center-crops and random-crops with a seed', async () => {
    const x = tf.tensor4d(
      Array.from({ length: 2 * 4 * 4 }, (_, i) => i),
      [2, 4, 4, 1],
    );
    const centre = centerCrop(x, [2, 2]);
    expect(Array.from(await centre.data())).toEqual([5, 6, 9, 10, 21, 22, 25, 26]);
    const a = randomCrop(x, [4, 4], { seed: 3, padding: 2 });
    const b = randomCrop(x, [4, 4], { seed: 3, padding: 2 });
    expect(a.shape).toEqual([2, 4, 4, 1]);
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    tf.dispose([x, centre, a, b]);
  });

  it('random-crops a window of the zero-padded image at offsets 0..2 * padding', async () => {
    // 4x4 holding 1..16; padded by 2 to 8x8; a 4x4 window at (top, left) in 0..4 each.
    const x = tf.tensor4d(
      Array.from({ length: 16 }, (_, i) => i + 1),
      [1, 4, 4, 1],
    );
    const offsets = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const crop = randomCrop(x, [4, 4], { seed, padding: 2 });
      const out = Array.from(await crop.data());
      crop.dispose();
      // Find the window: the output pixel (r, c) shows source (r + top - 2, c + left - 2).
      let found = '';
      for (let top = 0; top <= 4 && !found; top++) {
        for (let left = 0; left <= 4 && !found; left++) {
          const expected = out.map((_, k) => {
            const [sy, sx] = [Math.floor(k / 4) + top - 2, (k % 4) + left - 2];
            return sy >= 0 && sy < 4 && sx >= 0 && sx < 4 ? sy * 4 + sx + 1 : 0;
          });
          if (expected.every((v, k) => v === out[k])) found = `${top},${left}`;
        }
      }
      expect(found).not.toBe('');
      offsets.add(found);
    }
    expect(offsets.size).toBeGreaterThan(10);
    x.dispose();
  });
});
