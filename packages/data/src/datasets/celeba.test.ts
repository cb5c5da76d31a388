import * as path from 'node:path';
import sharp from 'sharp';
import { isGensynthError, setLogger, silentLogger } from '@gensynth/core';
import { encodePng } from '../testing/png-writer';
import { tmpDir, write } from '../testing/tmp';
import { celebA, readCelebAAttributes } from './celeba';

/** A 178x218 aligned-CelebA-sized JPEG: colour `inside` on the DCGAN face box, `outside` elsewhere. */
async function faceJpeg(inside: number[], outside: number[]): Promise<Buffer> {
  const w = 178;
  const h = 218;
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inBox = y >= 55 && y < 55 + 108 && x >= 35 && x < 35 + 108;
      data.set(inBox ? inside : outside, (y * w + x) * 3);
    }
  }
  return sharp(data, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
    .toBuffer();
}

describe('celebA', () => {
  const root = tmpDir('celeba');
  const ready = (async () => {
    setLogger(silentLogger);
    const colours = [
      [200, 30, 30],
      [30, 200, 30],
      [30, 30, 200],
      [120, 120, 120],
    ];
    for (let i = 0; i < 4; i++)
      write(
        path.join(root, 'img_align_celeba', `00000${i + 1}.jpg`),
        await faceJpeg(colours[i]!, [0, 0, 0]),
      );
    write(
      path.join(root, 'list_eval_partition.txt'),
      '000001.jpg 0\n000002.jpg 0\n000003.jpg 1\n000004.jpg 2\n',
    );
    write(
      path.join(root, 'list_attr_celeba.txt'),
      '4\n5_o_Clock_Shadow Arched_Eyebrows Male \n000001.jpg -1  1 -1\n000002.jpg  1 -1  1\n000003.jpg -1 -1  1\n000004.jpg  1  1 -1\n',
    );
  })();

  it('reads the train partition with the face crop: only the face box colour remains', async () => {
    await ready;
    const ds = await celebA(root, { imageSize: 8 });
    expect(ds.size).toBe(2);
    const { pixels } = await ds.read([0, 1]);
    for (let p = 0; p < 64; p++) {
      [200, 30, 30].forEach((v, c) =>
        expect(Math.abs(pixels[p * 3 + c]! - v)).toBeLessThanOrEqual(3),
      );
      [30, 200, 30].forEach((v, c) =>
        expect(Math.abs(pixels[192 + p * 3 + c]! - v)).toBeLessThanOrEqual(3),
      );
    }
  });

  it('selects validation (1) and test (2) partitions', async () => {
    await ready;
    const validation = await celebA(root, { split: 'validation', imageSize: 4 });
    const test = await celebA(root, { split: 'test', imageSize: 4 });
    expect([validation.size, test.size]).toEqual([1, 1]);
    expect(Math.abs((await validation.read([0])).pixels[2]! - 200)).toBeLessThanOrEqual(3);
  });

  it('parses attributes with runs of spaces and uses one as a binary label', async () => {
    await ready;
    const ds = await celebA(root, { split: 'all', imageSize: 4, labelAttribute: 'Male' });
    expect(ds.attributeNames).toEqual(['5_o_Clock_Shadow', 'Arched_Eyebrows', 'Male']);
    expect(Array.from(ds.attributes!)).toEqual([-1, 1, -1, 1, -1, 1, -1, -1, 1, 1, 1, -1]);
    expect(Array.from(ds.labels!)).toEqual([0, 1, 1, 0]);
    expect(ds.classNames).toEqual(['not Male', 'Male']);
  });

  it('keeps the whole frame with crop: none', async () => {
    await ready;
    const ds = await celebA(root, { imageSize: 8, crop: 'none', fit: 'stretch' });
    const { pixels } = await ds.read([0]);
    expect(pixels[0]).toBeLessThanOrEqual(3); // corner is outside the face box: black
  });
});

describe('celebA face crop', () => {
  // A lossless 178x218 image (CelebA also ships img_align_celeba_png) whose pixel (y, x) is
  // (y, x, 7): the crop's placement reads straight off the output.
  const root = tmpDir('celeba-png');
  const samples: number[] = [];
  for (let y = 0; y < 218; y++) for (let x = 0; x < 178; x++) samples.push(y, x, 7);
  write(
    path.join(root, 'img_align_celeba', '000001.png'),
    encodePng({ width: 178, height: 218, colorType: 2, bitDepth: 8, samples }),
  );
  write(path.join(root, 'list_eval_partition.txt'), '000001.png 0\n');

  it('is the 108x108 box at top 55, left 35, before any resize', async () => {
    const ds = await celebA(root, { imageSize: 108 });
    const { pixels } = await ds.read([0]);
    const at = (i: number, j: number) =>
      Array.from(pixels.subarray((i * 108 + j) * 3, (i * 108 + j) * 3 + 3));
    expect(at(0, 0)).toEqual([55, 35, 7]);
    expect(at(0, 107)).toEqual([55, 142, 7]);
    expect(at(107, 0)).toEqual([162, 35, 7]);
    expect(at(107, 107)).toEqual([162, 142, 7]);
    expect(at(50, 20)).toEqual([105, 55, 7]);
  });

  it('resizes the box, not the whole frame: 108 -> 54 averages 2x2 blocks of it', async () => {
    const ds = await celebA(root, { imageSize: 54, resize: 'area' });
    const { pixels } = await ds.read([0]);
    // Output (0, 0) averages rows 55..56 and columns 35..36: 55.5 -> 56, 35.5 -> 36 (round half up).
    expect(Array.from(pixels.subarray(0, 3))).toEqual([56, 36, 7]);
    // Output (53, 53) averages rows 161..162, columns 141..142.
    expect(Array.from(pixels.subarray((53 * 54 + 53) * 3, (53 * 54 + 53) * 3 + 3))).toEqual([
      162, 142, 7,
    ]);
  });
});

describe('readCelebAAttributes', () => {
  const dir = tmpDir('celeba-attr');

  it('names a file whose row count disagrees with its first line, or a bad value', () => {
    const short = write(
      path.join(dir, 'short.txt'),
      '3\nSmiling  Young\na.jpg  1 -1\nb.jpg -1  1\n',
    );
    expect(() => readCelebAAttributes(short)).toThrow(
      /short\.txt: expected 3 rows \(the count on the first line\); received 2 rows/,
    );
    const bad = write(path.join(dir, 'bad.txt'), '1\nSmiling Young\na.jpg 1 0\n');
    let error: unknown;
    try {
      readCelebAAttributes(bad);
    } catch (e) {
      error = e;
    }
    expect(isGensynthError(error, 'DATA_FORMAT')).toBe(true);
    expect((error as Error).message).toMatch(/bad\.txt: a\.jpg: expected 2 values of -1 or 1/);
  });
});
