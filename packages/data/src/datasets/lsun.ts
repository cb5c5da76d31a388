/**
 * LSUN (Yu et al. 2015) as distributed: one LMDB environment per category and split (e.g.
 * `church_outdoor_train_lmdb/` with `data.mdb`), keys = image ids, values = encoded images
 * (WebP or JPEG). Read through the `lmdb` package; also accepts a folder of exported images.
 * LMDB values are checked when first read, not at scan (reading every value of a 3-million
 * image category at startup would take minutes); bad ones follow the `badFiles` policy.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { GensynthError } from '@gensynth/core';
import type { ImageDataset } from './dataset';
import type { FileEntry } from './files';
import { buildFileDataset, imageFolder, resolveShape, type ImageFolderOptions } from './folder';

export interface LsunOptions extends Partial<Omit<ImageFolderOptions, 'classes'>> {
  /** Use only the first `limit` keys (in key order). */
  limit?: number;
}

function isLmdb(p: string): boolean {
  return (
    (fs.statSync(p).isDirectory() && fs.existsSync(path.join(p, 'data.mdb'))) || p.endsWith('.mdb')
  );
}

/** LSUN from an LMDB folder (or `data.mdb` file) or from a folder of exported images. */
export async function lsun(source: string, options: LsunOptions = {}): Promise<ImageDataset> {
  if (!fs.existsSync(source)) {
    throw new GensynthError('DATA_NOT_FOUND', {
      where: 'lsun(source)',
      expected: 'an LSUN LMDB folder (with data.mdb) or a folder of images',
      received: JSON.stringify(source),
      fix: 'Pass e.g. church_outdoor_train_lmdb/ as extracted from the LSUN download.',
    });
  }
  const imageSize = options.imageSize ?? 64;
  if (!isLmdb(source))
    return imageFolder(source, {
      ...options,
      imageSize,
      name: options.name ?? `lsun/${path.basename(source)}`,
    });
  const dir = source.endsWith('.mdb') ? path.dirname(source) : source;
  const db: RootDatabase<Buffer, Buffer> = open({
    path: dir,
    readOnly: true,
    noSubdir: false,
    keyEncoding: 'binary',
    encoding: 'binary',
  });
  const entries: FileEntry[] = [];
  for (const key of db.getKeys({ ...(options.limit ? { limit: options.limit } : {}) })) {
    const id = Buffer.from(key as Buffer);
    entries.push({
      name: `${dir}#${id.toString('latin1')}`,
      load: () => db.getBinary(id) ?? new Uint8Array(0),
    });
  }
  return buildFileDataset(entries, {
    ...options,
    verify: options.verify ?? 'none',
    imageShape: resolveShape('lsun', imageSize, options.channels ?? 3),
    name: options.name ?? `lsun/${path.basename(dir)}`,
    details: { source: 'lsun-lmdb', path: path.resolve(dir) },
  });
}
