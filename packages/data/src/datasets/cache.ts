/**
 * Caches of decoded, fitted uint8 images, for fast repeated epochs over encoded sources.
 *
 * Shard file layout (little-endian): 8 bytes magic `GSYNSHD1`, uint32 header length L, L bytes
 * of JSON header `{ version, size, imageShape, labelled, classNames, fingerprint }`, then
 * `size` int32 labels when labelled, then `size * H * W * C` bytes of pixels, image after image.
 * Reads are positional, so a shard larger than memory works (the OS page cache keeps it warm).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { GensynthError, getLogger, type ImageShape } from '@gensynth/core';
import { ImageDataset, type ExampleSource } from './dataset';

/** `'memory'` keeps images in RAM as they are first read; a string is a shard file path. */
export type CacheOption = 'memory' | string | false | undefined;

const MAGIC = 'GSYNSHD1';

interface ShardHeader {
  version: 1;
  size: number;
  imageShape: ImageShape;
  labelled: boolean;
  classNames?: string[];
  fingerprint: string;
}

function hash(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** Write every example of `dataset` to a shard file (atomically: temp file, then rename). */
export async function writeShard(
  dataset: ImageDataset,
  file: string,
  fingerprint = '',
): Promise<void> {
  const { height, width, channels } = dataset.imageShape;
  const bytes = height * width * channels;
  const header: ShardHeader = {
    version: 1,
    size: dataset.size,
    imageShape: dataset.imageShape,
    labelled: dataset.labels !== undefined,
    ...(dataset.classNames ? { classNames: [...dataset.classNames] } : {}),
    fingerprint: hash(fingerprint),
  };
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length, 8);
  const temp = `${file}.tmp-${process.pid}`;
  const handle = await fs.promises.open(temp, 'w');
  try {
    await handle.write(Buffer.concat([prefix, json]));
    if (dataset.labels)
      await handle.write(
        Buffer.from(dataset.labels.buffer, dataset.labels.byteOffset, dataset.labels.byteLength),
      );
    const chunk = 256;
    for (let start = 0; start < dataset.size; start += chunk) {
      const indices = Int32Array.from(
        { length: Math.min(chunk, dataset.size - start) },
        (_, k) => start + k,
      );
      const pixels = new Uint8Array(indices.length * bytes);
      await dataset.source.read(indices, pixels);
      await handle.write(pixels);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(temp, file);
}

function readHeader(fd: number, file: string): { header: ShardHeader; offset: number } {
  const prefix = Buffer.alloc(12);
  fs.readSync(fd, prefix, 0, 12, 0);
  if (prefix.toString('latin1', 0, 8) !== MAGIC) {
    throw new GensynthError('DATA_FORMAT', {
      where: file,
      expected: `a gensynth shard starting with ${MAGIC}`,
      received: JSON.stringify(prefix.toString('latin1', 0, 8)),
      fix: 'Delete the file; it is rebuilt from the source.',
    });
  }
  const length = prefix.readUInt32LE(8);
  const json = Buffer.alloc(length);
  fs.readSync(fd, json, 0, length, 12);
  return { header: JSON.parse(json.toString('utf8')) as ShardHeader, offset: 12 + length };
}

/** A dataset reading a shard file written by `writeShard`. */
export function openShard(file: string, name = 'shard'): ImageDataset {
  const fd = fs.openSync(file, 'r');
  const { header, offset } = readHeader(fd, file);
  const { height, width, channels } = header.imageShape;
  const bytes = height * width * channels;
  let labels: Int32Array | undefined;
  let pixelsAt = offset;
  if (header.labelled) {
    const raw = Buffer.alloc(header.size * 4);
    fs.readSync(fd, raw, 0, raw.length, offset);
    labels = new Int32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    pixelsAt += raw.length;
  }
  const expected = pixelsAt + header.size * bytes;
  const actual = fs.fstatSync(fd).size;
  if (actual !== expected) {
    fs.closeSync(fd);
    throw new GensynthError('DATA_FORMAT', {
      where: file,
      expected: `${expected} bytes for ${header.size} images`,
      received: `${actual} bytes`,
      fix: 'Delete the truncated shard; it is rebuilt from the source.',
    });
  }
  const source: ExampleSource = {
    size: header.size,
    imageShape: header.imageShape,
    ...(labels ? { labels } : {}),
    read(indices, out) {
      indices.forEach((i, k) => fs.readSync(fd, out, k * bytes, bytes, pixelsAt + i * bytes));
    },
  };
  return new ImageDataset(source, {
    name,
    ...(header.classNames ? { classNames: header.classNames } : {}),
    details: { source: 'shard', file },
  });
}

function shardMatches(file: string, fingerprint: string): boolean {
  if (!fs.existsSync(file)) return false;
  const fd = fs.openSync(file, 'r');
  try {
    return readHeader(fd, file).header.fingerprint === hash(fingerprint);
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

function memoryCache(dataset: ImageDataset): ExampleSource {
  const inner = dataset.source;
  const { height, width, channels } = inner.imageShape;
  const bytes = height * width * channels;
  const store = new Uint8Array(inner.size * bytes);
  const filled = new Uint8Array(inner.size);
  return {
    size: inner.size,
    imageShape: inner.imageShape,
    ...(inner.labels ? { labels: inner.labels } : {}),
    async read(indices, out) {
      const missing = indices.filter((i) => filled[i] === 0);
      if (missing.length > 0) {
        const fresh = new Uint8Array(missing.length * bytes);
        await inner.read(missing, fresh);
        missing.forEach((i, k) => {
          store.set(fresh.subarray(k * bytes, (k + 1) * bytes), i * bytes);
          filled[i] = 1;
        });
      }
      indices.forEach((i, k) => out.set(store.subarray(i * bytes, (i + 1) * bytes), k * bytes));
    },
  };
}

/** Wrap `dataset` in the cache `option` asks for; `fingerprint` identifies the source pixels. */
export async function withCache(
  dataset: ImageDataset,
  option: CacheOption,
  fingerprint: string,
): Promise<ImageDataset> {
  if (!option) return dataset;
  const info = {
    name: dataset.name,
    ...(dataset.classNames ? { classNames: dataset.classNames } : {}),
    badFiles: dataset.badFiles,
  };
  if (option === 'memory')
    return new ImageDataset(memoryCache(dataset), {
      ...info,
      details: { ...dataset.details, cache: 'memory' },
    });
  if (!shardMatches(option, fingerprint)) {
    getLogger().info(`${dataset.name}: decoding ${dataset.size} images into the cache ${option}`);
    await writeShard(dataset, option, fingerprint);
  }
  const shard = openShard(option, dataset.name);
  return new ImageDataset(shard.source, {
    ...info,
    details: { ...dataset.details, cache: option },
  });
}
