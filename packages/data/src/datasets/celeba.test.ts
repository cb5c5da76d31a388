import * as path from 'node:path';
import sharp from 'sharp';
import { setLogger, silentLogger } from '@gensynth/core';
import { tmpDir, write } from '../testing/tmp';
import { celebA } from './celeba';

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
