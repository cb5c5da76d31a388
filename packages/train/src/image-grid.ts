/**
 * Sample grids: a batch of images in [-1, 1] tiled into one PNG. This is one of the two places
 * where tensors become bytes (the other is decoding in `@gensynth/data`).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { GensynthError, invalidArgument } from '@gensynth/core';

export interface ImageGridOptions {
  /** Images per row (default `ceil(sqrt(B))`). */
  columns?: number;
  /** Pixels between and around tiles (default 2). */
  padding?: number;
  /** Byte value of the padding, 0..255 (default 0, black). */
  padValue?: number;
}

/** A grid as raw interleaved bytes, before PNG encoding. */
export interface RawGrid {
  data: Uint8Array;
  height: number;
  width: number;
  channels: 1 | 3 | 4;
}

/** Map a value in [-1, 1] to a byte: round((x + 1) * 127.5), clamped to [0, 255]. */
export function toByte(x: number): number {
  return Math.min(255, Math.max(0, Math.round((x + 1) * 127.5)));
}

/**
 * Tile `images` into one raw image. `images`: `[B, H, W, C]` float32 in [-1, 1], C in {1, 3, 4};
 * it is read, never disposed or changed. Throws `NON_FINITE` when any value is NaN or infinite.
 */
export async function imageGridRaw(
  images: tf.Tensor4D,
  options: ImageGridOptions = {},
): Promise<RawGrid> {
  const where = 'imageGrid(images)';
  if (images.rank !== 4) {
    throw invalidArgument(
      where,
      'a [B, H, W, C] tensor',
      `shape [${images.shape}]`,
      'Pass a batch of images.',
    );
  }
  const [count, height, width, channels] = images.shape;
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw invalidArgument(
      where,
      'C = 1, 3 or 4 channels',
      `shape [${images.shape}]`,
      'Pass grayscale, RGB or RGBA images.',
    );
  }
  if (count === 0)
    throw invalidArgument(where, 'at least one image', `shape [${images.shape}]`, 'Pass B >= 1.');
  const columns = options.columns ?? Math.ceil(Math.sqrt(count));
  const padding = options.padding ?? 2;
  const padValue = options.padValue ?? 0;
  if (!Number.isInteger(columns) || columns < 1) {
    throw invalidArgument(
      'imageGrid(options.columns)',
      'a positive integer',
      columns,
      'Pass e.g. 8.',
    );
  }
  if (!Number.isInteger(padding) || padding < 0) {
    throw invalidArgument(
      'imageGrid(options.padding)',
      'a non-negative integer',
      padding,
      'Pass e.g. 2.',
    );
  }

  const values = await images.data<'float32'>();
  const firstBad = values.findIndex((v) => !Number.isFinite(v));
  if (firstBad >= 0) {
    throw new GensynthError('NON_FINITE', {
      where,
      expected: 'finite pixel values in [-1, 1]',
      received: `${values[firstBad]} at flat index ${firstBad} of shape [${images.shape}]`,
      fix: 'The model diverged or was fed bad data; lower the learning rate or check the inputs before writing samples.',
    });
  }

  const rows = Math.ceil(count / columns);
  const gridWidth = columns * width + (columns + 1) * padding;
  const gridHeight = rows * height + (rows + 1) * padding;
  const data = new Uint8Array(gridWidth * gridHeight * channels).fill(padValue);
  for (let b = 0; b < count; b++) {
    const top = padding + Math.floor(b / columns) * (height + padding);
    const left = padding + (b % columns) * (width + padding);
    for (let y = 0; y < height; y++) {
      const source = (b * height + y) * width * channels;
      const target = ((top + y) * gridWidth + left) * channels;
      for (let i = 0; i < width * channels; i++)
        data[target + i] = toByte(values[source + i] as number);
    }
  }
  return { data, height: gridHeight, width: gridWidth, channels };
}

/**
 * Tile `images` (`[B, H, W, C]` float32 in [-1, 1]) into a PNG: -1 -> 0, 0 -> 128, 1 -> 255.
 * The input tensor is left as it was. Returns the PNG bytes.
 */
export async function imageGrid(
  images: tf.Tensor4D,
  options: ImageGridOptions = {},
): Promise<Buffer> {
  return encodePng(await imageGridRaw(images, options));
}

/** Encode raw grid bytes as PNG (grayscale, RGB or RGBA by channel count). */
export async function encodePng(raw: RawGrid): Promise<Buffer> {
  const { data, height, width, channels } = raw;
  const png = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
    raw: { width, height, channels },
  });
  return (channels === 1 ? png.toColourspace('b-w') : png).png().toBuffer();
}

/** Write `images` as a PNG grid to `file` (directories created). Returns the PNG bytes. */
export async function writeImageGrid(
  file: string,
  images: tf.Tensor4D,
  options: ImageGridOptions = {},
): Promise<Buffer> {
  const png = await imageGrid(images, options);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, png);
  return png;
}
