import * as path from 'node:path';
import { open } from 'lmdb';
import sharp from 'sharp';
import { setLogger, silentLogger } from '@gensynth/core';
import { encodePng } from '../testing/png-writer';
import { useCpuBackend } from '../testing/tf-setup';
import { tmpDir, write } from '../testing/tmp';
import { lsun } from './lsun';

describe('lsun', () => {
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
