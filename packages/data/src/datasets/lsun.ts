/**
 * LSUN (Yu et al. 2015) as distributed: one LMDB environment per category and split (e.g.
 * `church_outdoor_train_lmdb/` with `data.mdb`), keys = image ids, values = encoded images
 * (WebP or JPEG); also a folder of exported images. The LSUN files are LMDB data format 1
 * (LMDB 0.9, python-lmdb), read by `LmdbFile`; format-2 files (written by the `lmdb` npm
 * package) are read through that package, which cannot open format 1.
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
import { LmdbFile, lmdbFormatVersion } from './lmdb-file';

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
  const dataFile = source.endsWith('.mdb') ? source : path.join(dir, 'data.mdb');
  const version = lmdbFormatVersion(dataFile);
  let entries: FileEntry[];
  if (version === 1) entries = formatOneEntries(dataFile, dir, options.limit);
  else if (version === 2) entries = formatTwoEntries(dir, options.limit);
  else {
    throw new GensynthError('DATA_FORMAT', {
      where: dataFile,
      expected: 'an LMDB data file (magic 0xBEEFC0DE, data format 1 or 2)',
      received: version === undefined ? 'no LMDB magic number' : `data format ${version}`,
      fix: 'Re-extract the LSUN download, or pass a folder of exported images.',
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

/** LSUN's own files: LMDB 0.9 format, read page by page (see `lmdb-file.ts`). */
function formatOneEntries(dataFile: string, dir: string, limit?: number): FileEntry[] {
  let db: LmdbFile | undefined;
  try {
    db = new LmdbFile(dataFile);
    const file = db;
    return file.refs(limit).map((ref) => ({
      name: `${dir}#${ref.key.toString('latin1')}`,
      load: () => file.read(ref),
    }));
  } catch (error) {
    db?.close();
    throw new GensynthError('DATA_FORMAT', {
      where: dataFile,
      expected: 'an LMDB data-format-1 file',
      received: (error as Error).message,
      fix: 'Re-extract the LSUN download; the file is damaged.',
    });
  }
}

/** Files written by the `lmdb` npm package (LMDB 1.0, data format 2). */
function formatTwoEntries(dir: string, limit?: number): FileEntry[] {
  const db: RootDatabase<Buffer, Buffer> = open({
    path: dir,
    readOnly: true,
    noSubdir: false,
    keyEncoding: 'binary',
    encoding: 'binary',
  });
  const entries: FileEntry[] = [];
  for (const key of db.getKeys(limit ? { limit } : {})) {
    const id = Buffer.from(key as Buffer);
    entries.push({
      name: `${dir}#${id.toString('latin1')}`,
      load: () => db.getBinary(id) ?? new Uint8Array(0),
    });
  }
  return entries;
}
