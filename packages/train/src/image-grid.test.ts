import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { createLogger, expectNoLeaks, initBackend, isGensynthError } from '@gensynth/core';
import { imageGrid, imageGridRaw, toByte, writeImageGrid } from './image-grid';

beforeAll(async () => {
  await initBackend({ force: 'cpu', logger: createLogger('silent') });
  tf.env().set('IS_TEST', true);
});

async function decode(png: Buffer) {
  const gray = (await sharp(png).metadata()).channels === 1;
  const image = gray ? sharp(png).toColourspace('b-w') : sharp(png);
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  return {
    data: Array.from(data),
    width: info.width,
    height: info.height,
    channels: info.channels,
  };
}

describe('toByte', () => {
  it('maps -1 -> 0, 0 -> 128, 1 -> 255 by round((x + 1) * 127.5) and clamps outside [-1, 1]', () => {
    // (0.5 + 1) * 127.5 = 191.25 -> 191; (-0.5 + 1) * 127.5 = 63.75 -> 64
    expect([-1, 0, 1, 0.5, -0.5, -3, 7].map(toByte)).toEqual([0, 128, 255, 191, 64, 0, 255]);
  });
});

describe('imageGrid', () => {
  it('writes a grayscale PNG whose pixels are the mapped values', async () => {
    const images = tf.tensor4d([-1, 0, 1, 0.5], [1, 1, 4, 1]);
    const png = await imageGrid(images, { padding: 0 });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect((await sharp(png).metadata()).channels).toBe(1);
    expect(await decode(png)).toEqual({
      data: [0, 128, 255, 191],
      width: 4,
      height: 1,
      channels: 1,
    });
    images.dispose();
  });

  it('writes an RGB PNG for 3-channel images', async () => {
    const images = tf.tensor4d([-1, 0, 1, 1, -1, 0], [1, 1, 2, 3]);
    const png = await imageGrid(images, { padding: 0 });
    expect(await decode(png)).toEqual({
      data: [0, 128, 255, 255, 0, 128],
      width: 2,
      height: 1,
      channels: 3,
    });
    images.dispose();
  });

  it('tiles row by row with padding between and around tiles', async () => {
    // Three 1x2 images, 2 columns, padding 1, pad value 9: a 7 x 5 canvas.
    const images = tf.tensor4d([-1, -1, 0, 0, 1, 1], [3, 1, 2, 1]);
    const raw = await imageGridRaw(images, { columns: 2, padding: 1, padValue: 9 });
    expect([raw.width, raw.height, raw.channels]).toEqual([7, 5, 1]);
    const rows = Array.from({ length: 5 }, (_, y) =>
      Array.from(raw.data.subarray(y * 7, y * 7 + 7)),
    );
    expect(rows).toEqual([
      [9, 9, 9, 9, 9, 9, 9],
      [9, 0, 0, 9, 128, 128, 9],
      [9, 9, 9, 9, 9, 9, 9],
      [9, 255, 255, 9, 9, 9, 9],
      [9, 9, 9, 9, 9, 9, 9],
    ]);
    images.dispose();
  });

  it('leaves the input tensor alive and unchanged and allocates no tensors', async () => {
    const values = [-1, -0.25, 0.25, 1];
    const images = tf.tensor4d(values, [1, 2, 2, 1]);
    await expectNoLeaks(() => imageGrid(images));
    expect(images.isDisposed).toBe(false);
    expect(Array.from(await images.data())).toEqual(values);
    images.dispose();
  });

  it('refuses NaN and infinite values with NON_FINITE instead of writing a black image', async () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const images = tf.tensor4d([0, 0, bad, 0], [1, 2, 2, 1]);
      const error = await imageGrid(images).catch((e) => e);
      expect(isGensynthError(error, 'NON_FINITE')).toBe(true);
      expect(error.message).toContain(`received ${bad} at flat index 2 of shape [1,2,2,1]`);
      expect(images.isDisposed).toBe(false);
      images.dispose();
    }
  });

  it('rejects 2-channel images with where/expected/received', async () => {
    const images = tf.zeros([1, 2, 2, 2]) as tf.Tensor4D;
    await expect(imageGrid(images)).rejects.toThrow(
      'imageGrid(images): expected C = 1, 3 or 4 channels; received shape [1,2,2,2]. Pass grayscale, RGB or RGBA images.',
    );
    images.dispose();
  });
});

describe('writeImageGrid', () => {
  it('writes the PNG it returns, creating directories', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gensynth-grid-'));
    const images = tf.fill([4, 3, 3, 1], 0.5) as tf.Tensor4D;
    const file = path.join(dir, 'a', 'grid.png');
    const png = await writeImageGrid(file, images);
    expect((await fs.readFile(file)).equals(png)).toBe(true);
    const decoded = await decode(png);
    // 2x2 grid of 3 px tiles with the default 2 px padding: 2*3 + 3*2 = 12
    expect([decoded.width, decoded.height]).toEqual([12, 12]);
    expect(decoded.data[2 * 12 + 2]).toBe(191);
    expect(decoded.data[0]).toBe(0);
    images.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });
});
