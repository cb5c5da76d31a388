import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { isGensynthError } from '@gensynth/core';
import { tmpDir, write } from '../testing/tmp';
import { useCpuBackend } from '../testing/tf-setup';
import { mnistIdx, mnistPackage } from './mnist';
import { splitDataset } from './split';

function idx(dims: number[], data: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

beforeAll(useCpuBackend);

describe('mnistIdx', () => {
  const dir = tmpDir('idx');
  // Two 2x3 images: 0..5 and 10..15; labels 7 and 2.
  const images = idx([2, 2, 3], [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]);
  const labels = idx([2], [7, 2]);

  it.each([
    ['raw', (b: Buffer) => b],
    ['gzipped', (b: Buffer) => gzipSync(b)],
  ])('reads %s IDX images and labels exactly', async (_kind, encode) => {
    const files = {
      images: write(path.join(dir, `${_kind}-images`), encode(images)),
      labels: write(path.join(dir, `${_kind}-labels`), encode(labels)),
    };
    const ds = mnistIdx(files);
    expect(ds.size).toBe(2);
    expect(ds.imageShape).toEqual({ height: 2, width: 3, channels: 1 });
    const { pixels, labels: read } = await ds.read([1, 0]);
    expect(Array.from(pixels)).toEqual([10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5]);
    expect(Array.from(read!)).toEqual([2, 7]);
  });

  it('names a file whose size disagrees with its header', () => {
    const file = write(path.join(dir, 'short'), images.subarray(0, images.length - 1));
    try {
      mnistIdx({ images: file });
      throw new Error('expected an error');
    } catch (error) {
      expect(isGensynthError(error, 'DATA_FORMAT')).toBe(true);
      expect((error as Error).message).toContain(file);
    }
  });
});

describe('mnistIdx errors', () => {
  const dir = tmpDir('idx-bad');
  const images = idx([2, 2, 3], [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]);

  it('names a cut gzip file, a labels file of the wrong length and a non-byte IDX type', () => {
    const gz = gzipSync(images);
    const cut = write(path.join(dir, 'cut.gz'), gz.subarray(0, gz.length - 8));
    expect(() => mnistIdx({ images: cut })).toThrow(
      /cut\.gz: expected a complete gzip stream; received truncated or corrupt gzip/,
    );
    const ok = write(path.join(dir, 'images'), images);
    const three = write(path.join(dir, 'labels'), idx([3], [1, 2, 3]));
    expect(() => mnistIdx({ images: ok, labels: three })).toThrow(
      /labels: expected a labels file with dimensions \[2\]; received \[3\]/,
    );
    const floats = Buffer.from(images);
    floats[2] = 0x0d; // IDX type 0x0D: float
    const typed = write(path.join(dir, 'floats'), floats);
    expect(() => mnistIdx({ images: typed })).toThrow(
      /floats: expected IDX type 0x08 .*; received type 0xd/,
    );
  });
});

describe('mnistPackage', () => {
  const ds = mnistPackage();
  const padded = mnistPackage({ imageSize: 32 });

  it('holds the 10,000 real digits of the npm package, 28x28, labels 0..9', async () => {
    expect(ds.size).toBe(10000);
    expect(ds.imageShape).toEqual({ height: 28, width: 28, channels: 1 });
    expect(ds.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const counts = new Array(10).fill(0);
    ds.labels!.forEach((l) => counts[l]++);
    expect(counts.every((c) => c > 800)).toBe(true);
    // The first digit of the package's 0.json has 0.188 at flat index 154 (see its data file):
    // round(0.188 * 255) = 48.
    const { pixels } = await ds.read([0]);
    expect(pixels[154]).toBe(48);
    expect(pixels[0]).toBe(0);
  });

  it('pads to 32x32 with 2 black pixels on each side', async () => {
    expect(padded.imageShape).toEqual({ height: 32, width: 32, channels: 1 });
    const [a, b] = await Promise.all([ds.read([0]), padded.read([0])]);
    // Pixel (row 5, column 14) of the 28x28 digit is pixel (7, 16) of the padded one.
    expect(b.pixels[7 * 32 + 16]).toBe(a.pixels[5 * 28 + 14]);
    expect(b.pixels.subarray(0, 64).every((v) => v === 0)).toBe(true);
  });

  it('feeds the demo path: seeded split, [-1, 1] batches, a resumable cursor', async () => {
    const { train, validation } = splitDataset(padded, {
      seed: 42,
      fractions: { train: 0.9, validation: 0.1 },
    });
    expect([train.size, validation.size]).toEqual([9000, 1000]);
    expect(new Set(validation.labels).size).toBe(10);
    const stream = train.batches({ batchSize: 64, seed: 1 });
    const { value } = await stream.next();
    expect(value.images.shape).toEqual([64, 32, 32, 1]);
    const values = await value.images.data();
    expect(Math.min(...values)).toBe(-1);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    value.images.dispose();
    value.labels?.dispose();
    expect(stream.cursor()).toMatchObject({ epoch: 0, index: 64 });
  });
});
