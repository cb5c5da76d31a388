import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { isGensynthError, setLogger, silentLogger } from '@gensynth/core';
import { decodeImage } from '../decode/decode';
import { encodePng } from '../testing/png-writer';
import { useCpuBackend } from '../testing/tf-setup';
import { tmpDir, write } from '../testing/tmp';
import { emojiDataset, emojiFolder, imageFolder } from './folder';

/** w x h RGBA PNG of one colour. */
const solidPng = (w: number, h: number, rgba: number[]) =>
  encodePng({
    width: w,
    height: h,
    colorType: 6,
    bitDepth: 8,
    samples: Array.from({ length: w * h }, () => rgba).flat(),
  });

async function makeFolder(root: string) {
  write(path.join(root, 'cats', 'a.PNG'), solidPng(4, 4, [10, 20, 30, 255]));
  write(
    path.join(root, 'cats', 'b.jpeg'),
    await sharp(Buffer.alloc(8 * 8 * 3, 200), { raw: { width: 8, height: 8, channels: 3 } })
      .jpeg({ quality: 100 })
      .toBuffer(),
  );
  write(
    path.join(root, 'dogs', 'c.webp'),
    await sharp(Buffer.alloc(4 * 4 * 3, 60), { raw: { width: 4, height: 4, channels: 3 } })
      .webp({ lossless: true })
      .toBuffer(),
  );
  write(path.join(root, 'dogs', 'nested', 'd.png'), solidPng(2, 2, [0, 0, 0, 0])); // fully transparent
  const big = solidPng(64, 64, [1, 2, 3, 255]);
  write(path.join(root, 'dogs', 'broken.png'), big.subarray(0, big.length - 40)); // truncated data
  write(path.join(root, 'dogs', 'fake.jpg'), 'this is a text file named like a JPEG');
  const huge = solidPng(1, 1, [0, 0, 0, 255]);
  huge.writeUInt32BE(100000, 16);
  huge.writeUInt32BE(100000, 20);
  write(path.join(root, 'dogs', 'huge.png'), huge);
  write(path.join(root, '.DS_Store'), 'Bud1');
  write(path.join(root, 'cats', 'Thumbs.db'), 'thumbs');
  write(path.join(root, 'notes.txt'), 'hello');
  write(path.join(root, 'root-level.png'), solidPng(2, 2, [9, 9, 9, 255]));
}

beforeAll(async () => {
  await useCpuBackend();
  setLogger(silentLogger);
});

describe('imageFolder', () => {
  const root = tmpDir('folder');
  const ready = makeFolder(root);

  it('finds images recursively with case-insensitive extensions and classes from subfolders', async () => {
    await ready;
    const ds = await imageFolder(root, { imageSize: 2, classes: true });
    expect(ds.classNames).toEqual(['cats', 'dogs']);
    // a.PNG, b.jpeg | broken.png (header looks fine), c.webp, nested/d.png; root files ignored.
    expect(ds.size).toBe(5);
    expect(Array.from(ds.labels!)).toEqual([0, 0, 1, 1, 1]);
    expect(ds.badFiles.map((b) => [path.basename(b.file), b.reason]).sort()).toEqual([
      ['fake.jpg', 'not-an-image'],
      ['huge.png', 'too-large'],
    ]);
  });

  it('decodes exact pixels: composite onto the background, gray/colour as declared', async () => {
    await ready;
    const ds = await imageFolder(root, { imageSize: 2, classes: true, background: [255, 0, 255] });
    const { pixels } = await ds.read([0, 4]);
    expect(Array.from(pixels.subarray(0, 12))).toEqual([
      10, 20, 30, 10, 20, 30, 10, 20, 30, 10, 20, 30,
    ]);
    expect(Array.from(pixels.subarray(12, 15))).toEqual([255, 0, 255]); // transparent -> background
    const gray = await imageFolder(root, { imageSize: 2, channels: 1 });
    expect(gray.imageShape.channels).toBe(1);
  });

  it('skips a truncated file found on first read, substitutes one of the same class, and lists it', async () => {
    await ready;
    const ds = await imageFolder(root, { imageSize: 2, classes: true });
    let seen = 0;
    for await (const batch of ds.batches({ batchSize: 5, epochs: 2, seed: 1 })) {
      seen += batch.images.shape[0];
      batch.images.dispose();
      batch.labels?.dispose();
    }
    expect(seen).toBe(10);
    const broken = ds.badFiles.find((b) => b.file.endsWith('broken.png'));
    expect(broken?.reason).toBe('truncated');
  });

  it("finds every bad file at scan with verify: 'decode', and fails on them with badFiles: 'fail'", async () => {
    await ready;
    const ds = await imageFolder(root, { imageSize: 2, classes: true, verify: 'decode' });
    expect(ds.size).toBe(4);
    expect(ds.badFiles.map((b) => path.basename(b.file)).sort()).toEqual([
      'broken.png',
      'fake.jpg',
      'huge.png',
    ]);
    await expect(imageFolder(root, { imageSize: 2, badFiles: 'fail' })).rejects.toThrow(
      /fake\.jpg/,
    );
  });

  it('caches decoded images in a shard file and rebuilds it when a file changes', async () => {
    await ready;
    const shard = path.join(tmpShard, 'cache.bin');
    const first = await imageFolder(root, { imageSize: 2, classes: true, cache: shard });
    expect(fs.existsSync(shard)).toBe(true);
    const again = await imageFolder(root, { imageSize: 2, classes: true, cache: shard });
    const a = await first.read([0, 1, 2, 3, 4]);
    const b = await again.read([0, 1, 2, 3, 4]);
    expect(Array.from(b.pixels)).toEqual(Array.from(a.pixels));
    expect(Array.from(b.labels!)).toEqual(Array.from(a.labels!));
    const stamp = fs.statSync(shard).mtimeMs;
    const file = path.join(root, 'cats', 'a.PNG');
    write(file, solidPng(4, 4, [90, 80, 70, 255]));
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const rebuilt = await imageFolder(root, { imageSize: 2, classes: true, cache: shard });
    expect(fs.statSync(shard).mtimeMs).not.toBe(stamp);
    expect(Array.from((await rebuilt.read([0])).pixels.subarray(0, 3))).toEqual([90, 80, 70]);
  });
  const tmpShard = tmpDir('shard');

  it('explains a missing folder', async () => {
    const error = await imageFolder(path.join(root, 'nope'), { imageSize: 2 }).catch(
      (e: unknown) => e,
    );
    expect(isGensynthError(error, 'DATA_NOT_FOUND')).toBe(true);
  });
});

describe('imageFolder with no readable image', () => {
  const root = tmpDir('all-bad');
  write(path.join(root, 'zero.png'), '');
  write(path.join(root, 'notes.jpg'), 'a text file named like a JPEG');

  it('names each bad file and its reason in the error, since no dataset is returned', async () => {
    const error = await imageFolder(root, { imageSize: 2 }).catch((e: unknown) => e);
    expect(isGensynthError(error, 'DATA_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain(
      'received 2 candidate files, 2 bad (notes.jpg: not-an-image, zero.png: truncated).',
    );
    expect((error as Error).message).toContain('`gensynth data inspect <folder>`');
  });
});

describe('imageFolder on an archive extracted from macOS', () => {
  const root = tmpDir('macos');
  write(path.join(root, 'cats', 'a.png'), solidPng(2, 2, [3, 3, 3, 255]));
  write(path.join(root, 'cats', '._a.png'), 'AppleDouble resource fork, not an image');
  write(path.join(root, 'dogs', 'notes.txt'), 'no images here yet');
  write(path.join(root, '__MACOSX', 'cats', '._a.png'), 'AppleDouble resource fork');

  it('ignores __MACOSX and ._ files, and warns about a class folder with no images', async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => warnings.push(m) };
    const ds = await imageFolder(root, { imageSize: 2, classes: true, logger });
    expect(ds.classNames).toEqual(['cats', 'dogs']);
    expect(ds.size).toBe(1);
    expect(ds.badFiles).toEqual([]);
    expect(warnings).toEqual([
      'imageFolder: class 1 (dogs) has no image files; it keeps its id with no examples',
    ]);
  });
});

describe('imageFolder channel count', () => {
  const root = tmpDir('channels');
  const ready = (async () => {
    const gray = await sharp(Buffer.alloc(4 * 4, 90), { raw: { width: 4, height: 4, channels: 1 } })
      .toColourspace('b-w')
      .jpeg({ quality: 100 })
      .toBuffer();
    write(path.join(root, 'gray.jpg'), gray);
    write(path.join(root, 'red.png'), solidPng(4, 4, [255, 0, 0, 255]));
  })();

  it('returns R=G=B for a gray JPEG in an RGB folder and luma for colour in a gray one', async () => {
    await ready;
    const rgb = await imageFolder(root, { imageSize: 4, workers: 0 });
    const { pixels } = await rgb.read([0]); // gray.jpg
    expect(pixels).toHaveLength(4 * 4 * 3);
    for (let p = 0; p < 16; p++) {
      expect(pixels[3 * p]).toBe(pixels[3 * p + 1]);
      expect(pixels[3 * p]).toBe(pixels[3 * p + 2]);
      expect(Math.abs(pixels[3 * p]! - 90)).toBeLessThanOrEqual(1);
    }
    const gray = await imageFolder(root, { imageSize: 4, channels: 1, workers: 0 });
    const red = (await gray.read([1])).pixels; // red.png: (19595 * 255 + 32768) >> 16 = 76
    expect(Array.from(red)).toEqual(new Array(16).fill(76));
  });
});

describe('imageFolder with a class whose only file is bad', () => {
  const root = tmpDir('lonely');
  write(path.join(root, 'cats', 'a.png'), solidPng(2, 2, [10, 10, 10, 255]));
  write(path.join(root, 'cats', 'b.png'), solidPng(2, 2, [20, 20, 20, 255]));
  const only = solidPng(16, 16, [1, 2, 3, 255]);
  write(path.join(root, 'dogs', 'only.png'), only.subarray(0, only.length - 30)); // header intact

  it('finishes every epoch: the bad file is listed and replaced by another class, with a warning', async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => warnings.push(m) };
    const ds = await imageFolder(root, { imageSize: 2, classes: true, workers: 0, logger });
    expect(ds.size).toBe(3);
    let seen = 0;
    for await (const batch of ds.batches({ batchSize: 3, epochs: 3, seed: 4 })) {
      seen += batch.images.shape[0];
      batch.images.dispose();
      batch.labels?.dispose();
    }
    expect(seen).toBe(9);
    expect(ds.badFiles.map((b) => [path.basename(b.file), b.reason])).toEqual([
      ['only.png', 'truncated'],
    ]);
    expect(warnings.filter((w) => w.startsWith('no image of class 1 decodes'))).toHaveLength(1);
  });

  it("throws on first read with badFiles: 'fail', naming the file and the reason", async () => {
    const ds = await imageFolder(root, { imageSize: 2, classes: true, badFiles: 'fail' });
    await expect(ds.read([2])).rejects.toThrow(/only\.png: expected .*; received truncated: /);
  });
});

describe('imageFolder with symbolic links', () => {
  const root = tmpDir('links');
  const elsewhere = tmpDir('links-target');
  write(path.join(root, 'real', 'x.png'), solidPng(2, 2, [5, 6, 7, 255]));
  fs.symlinkSync(path.join(root, 'real'), path.join(root, 'linked')); // a second way in
  fs.symlinkSync(root, path.join(root, 'real', 'up')); // a loop back to the root
  fs.symlinkSync(path.join(root, 'nowhere.png'), path.join(root, 'dangling.png'));
  fs.symlinkSync(path.join(root, 'self.png'), path.join(root, 'self.png'));
  write(path.join(elsewhere, 'dogs', 'd.png'), solidPng(2, 2, [1, 1, 1, 255]));
  const classes = tmpDir('links-classes');
  write(path.join(classes, 'cats', 'c.png'), solidPng(2, 2, [2, 2, 2, 255]));
  fs.symlinkSync(path.join(elsewhere, 'dogs'), path.join(classes, 'dogs'));

  it('follows links to folders once each, ends loops, and reports broken links by name', async () => {
    const ds = await imageFolder(root, { imageSize: 2 });
    expect(ds.details.files).toEqual([path.join(root, 'linked', 'x.png')]);
    expect(ds.badFiles.map((b) => [path.basename(b.file), b.reason])).toEqual([
      ['dangling.png', 'unreadable'],
      ['self.png', 'unreadable'],
    ]);
    expect(ds.badFiles[1]?.detail).toContain('ELOOP');
  });

  it('takes a linked first-level folder as a class', async () => {
    const ds = await imageFolder(classes, { imageSize: 2, classes: true });
    expect(ds.classNames).toEqual(['cats', 'dogs']);
    expect(Array.from(ds.labels!)).toEqual([0, 1]);
    expect(Array.from((await ds.read([1])).pixels.subarray(0, 3))).toEqual([1, 1, 1]);
  });
});

describe('emojiDataset', () => {
  it('holds the 3,786 Noto emoji PNGs, composited onto white', async () => {
    const ds = await emojiDataset({ imageSize: 32, verify: 'none' });
    expect(ds.size).toBe(3786);
    expect(ds.imageShape).toEqual({ height: 32, width: 32, channels: 3 });
    const { pixels } = await ds.read([0]);
    expect(Array.from(pixels.subarray(0, 3))).toEqual([255, 255, 255]); // transparent corner
  });

  it('decodes real emoji PNGs exactly as sharp does', async () => {
    const dir = emojiFolder();
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.png'))
      .sort();
    const sample = files.filter((_, i) => i % 97 === 0);
    for (const name of sample) {
      const bytes = fs.readFileSync(path.join(dir, name));
      for (const channels of [1, 3, 4] as const) {
        const fast = await decodeImage(bytes, { channels });
        const slow = await decodeImage(bytes, { channels, fastPng: false });
        expect(Buffer.compare(Buffer.from(fast.data), Buffer.from(slow.data))).toBe(0);
      }
    }
  });
});
