import * as fs from 'node:fs';
import * as path from 'node:path';
import { open } from 'lmdb';
import sharp from 'sharp';
import { isGensynthError, setLogger, silentLogger } from '@gensynth/core';
import { encodePng } from '../testing/png-writer';
import { useCpuBackend } from '../testing/tf-setup';
import { tmpDir, write } from '../testing/tmp';
import { lmdbFormatVersion } from './lmdb-file';
import { lsun } from './lsun';

describe('lsun on an LMDB written by the lmdb package (data format 2)', () => {
  const dir = tmpDir('lsun');
  const lmdbDir = path.join(dir, 'church_outdoor_train_lmdb');
  const ready = (async () => {
    setLogger(silentLogger);
    await useCpuBackend();
    // LSUN's LMDBs map ASCII image ids to encoded image bytes (WebP in the current release).
    const db = open({ path: lmdbDir, keyEncoding: 'binary', encoding: 'binary' });
    const rgb = (v: number[]) => Buffer.from(Array.from({ length: 16 }, () => v).flat());
    await db.put(
      Buffer.from('0001a'),
      await sharp(rgb([10, 20, 30]), { raw: { width: 4, height: 4, channels: 3 } })
        .webp({ lossless: true })
        .toBuffer(),
    );
    await db.put(
      Buffer.from('0002b'),
      encodePng({
        width: 2,
        height: 2,
        colorType: 2,
        bitDepth: 8,
        samples: [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3],
      }),
    );
    await db.put(Buffer.from('0003c'), Buffer.from('not an image at all'));
    await db.put(
      Buffer.from('0004d'),
      await sharp(rgb([90, 90, 90]), { raw: { width: 4, height: 4, channels: 3 } })
        .webp({ lossless: true })
        .toBuffer(),
    );
    await db.close();
    write(
      path.join(dir, 'exported', 'a.webp'),
      await sharp(rgb([5, 6, 7]), { raw: { width: 4, height: 4, channels: 3 } })
        .webp({ lossless: true })
        .toBuffer(),
    );
  })();

  it('reads an LMDB of encoded images in key order with exact pixels', async () => {
    await ready;
    expect(lmdbFormatVersion(path.join(lmdbDir, 'data.mdb'))).toBe(2);
    const ds = await lsun(lmdbDir, { imageSize: 2 });
    expect(ds.size).toBe(4);
    const { pixels } = await ds.read([0, 1]);
    expect(Array.from(pixels.subarray(0, 3))).toEqual([10, 20, 30]);
    expect(Array.from(pixels.subarray(12, 15))).toEqual([1, 2, 3]);
  });

  it('skips a value that is not an image on first read and names its key', async () => {
    await ready;
    const ds = await lsun(lmdbDir, { imageSize: 2 });
    const { pixels } = await ds.read([2]);
    expect(Array.from(pixels.subarray(0, 3))).toEqual([90, 90, 90]); // substituted by the next key
    expect(ds.badFiles).toEqual([
      expect.objectContaining({ file: `${lmdbDir}#0003c`, reason: 'not-an-image' }),
    ]);
  });

  it('honours limit, and reads an exported image folder', async () => {
    await ready;
    expect((await lsun(lmdbDir, { imageSize: 2, limit: 2 })).size).toBe(2);
    const folder = await lsun(path.join(dir, 'exported'), { imageSize: 2 });
    expect(Array.from((await folder.read([0])).pixels.subarray(0, 3))).toEqual([5, 6, 7]);
  });
});

/**
 * `fixtures/lsun-lmdb/data.mdb` was written by LMDB's own `mdb_load` (LMDB 0.9.24) from
 * `data.dump` (see `make-dump.mjs` there): data format 1, as LSUN ships. 150 keys `lsun-000` ..
 * `lsun-149` in a two-level tree; value i is a 2x2 lossless WebP of colour (i, 255 - i, 3i mod
 * 256), except `lsun-075`, a 64x64 PNG on overflow pages with sample (y, x, c) =
 * (7y + 13x + 101c) mod 256, and `lsun-100`, which is text.
 */
describe('lsun on an LMDB as LSUN distributes it (LMDB 0.9, data format 1)', () => {
  const dir = tmpDir('lsun-v1');
  const lmdbDir = path.join(dir, 'bedroom_val_lmdb');
  const fixture = path.join(__dirname, '../../fixtures/lsun-lmdb/data.mdb');
  write(path.join(lmdbDir, 'data.mdb'), fs.readFileSync(fixture));
  beforeAll(async () => {
    setLogger(silentLogger);
    await useCpuBackend();
  });

  it('lists every key in key order across branch and leaf pages', async () => {
    expect(lmdbFormatVersion(path.join(lmdbDir, 'data.mdb'))).toBe(1);
    const ds = await lsun(lmdbDir, { imageSize: 2 });
    expect(ds.size).toBe(150);
    const files = ds.details.files as string[];
    expect(files[0]).toBe(`${lmdbDir}#lsun-000`);
    expect(files.map((f) => f.slice(-3))).toEqual(
      Array.from({ length: 150 }, (_, i) => String(i).padStart(3, '0')),
    );
  });

  it('decodes each value exactly, including one stored on overflow pages', async () => {
    const ds = await lsun(lmdbDir, { imageSize: 2 });
    const wanted = Array.from({ length: 150 }, (_, i) => i).filter((i) => i !== 75 && i !== 100);
    const { pixels } = await ds.read(wanted);
    wanted.forEach((i, k) => {
      const rgb = [i, 255 - i, (3 * i) % 256];
      for (let p = 0; p < 4; p++)
        expect(Array.from(pixels.subarray(k * 12 + p * 3, k * 12 + p * 3 + 3))).toEqual(rgb);
    });
    const big = await lsun(lmdbDir, { imageSize: 64, limit: 76 });
    const image = (await big.read([75])).pixels;
    for (const [y, x, c] of [
      [0, 0, 0],
      [0, 63, 2],
      [31, 17, 1],
      [63, 63, 2],
    ] as const)
      expect(image[(y * 64 + x) * 3 + c]).toBe((7 * y + 13 * x + 101 * c) % 256);
    let mismatches = 0;
    image.forEach((v, n) => {
      const [y, x, c] = [Math.floor(n / 192), Math.floor(n / 3) % 64, n % 3];
      if (v !== (7 * y + 13 * x + 101 * c) % 256) mismatches += 1;
    });
    expect(mismatches).toBe(0);
  });

  it('skips the value that is not an image on first read and names its key', async () => {
    const ds = await lsun(lmdbDir, { imageSize: 2 });
    const { pixels } = await ds.read([100]);
    expect(Array.from(pixels.subarray(0, 3))).toEqual([101, 154, 47]); // the next key, lsun-101
    expect(ds.badFiles).toEqual([
      expect.objectContaining({ file: `${lmdbDir}#lsun-100`, reason: 'not-an-image' }),
    ]);
  });

  it('honours limit', async () => {
    const ds = await lsun(path.join(lmdbDir, 'data.mdb'), { imageSize: 2, limit: 10 });
    expect(ds.size).toBe(10);
    expect((ds.details.files as string[]).at(-1)).toBe(`${lmdbDir}#lsun-009`);
  });

  it('names a damaged data file instead of crashing', async () => {
    const cut = path.join(dir, 'cut_lmdb');
    write(path.join(cut, 'data.mdb'), fs.readFileSync(fixture).subarray(0, 2 * 4096 + 100));
    const error = await lsun(cut, { imageSize: 2 }).catch((e: unknown) => e);
    expect(isGensynthError(error, 'DATA_FORMAT')).toBe(true);
    expect((error as Error).message).toMatch(/data\.mdb: expected .*; received .*truncated/);
    const junk = path.join(dir, 'junk_lmdb');
    write(path.join(junk, 'data.mdb'), Buffer.alloc(8192, 7));
    const other = await lsun(junk, { imageSize: 2 }).catch((e: unknown) => e);
    expect((other as Error).message).toMatch(/data\.mdb: expected an LMDB data file/);
  });
});
