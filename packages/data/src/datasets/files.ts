/**
 * A source over encoded image files (a folder, CelebA, an LMDB): decode on read, fit to the
 * declared shape, and apply the bad-file policy. With `badFiles: 'skip'` (default) a file that
 * fails to decode is logged once, recorded in the dataset's `badFiles`, and replaced by the next
 * example that decodes, so an epoch never dies on one file; with `'fail'` the read throws.
 */
import { getLogger, invalidArgument, type ImageShape, type Logger } from '@gensynth/core';
import type { DecodeOptions } from '../decode/decode';
import { decodeFitted } from '../decode/job';
import { sharedDecodePool } from '../decode/pool';
import { BadImageError, classifyDecodeError } from '../decode/errors';
import { readImageHeader } from '../decode/header';
import type { CropBox, FitOptions } from '../transforms/fit';
import type { BadFile, ExampleSource } from './dataset';

export type BadFilePolicy = 'skip' | 'fail';

/** One encoded image and how to get its bytes. */
export interface FileEntry {
  /** Path or key, used in reports. */
  name: string;
  /** Path on disk, when the entry is a plain file (lets the worker pool read it). */
  file?: string;
  load(): Promise<Uint8Array> | Uint8Array;
  label?: number;
  /** Crop applied before fitting (CelebA face crop), in source pixels. */
  crop?: CropBox;
}

export interface DecodedSourceOptions extends FitOptions {
  imageShape: ImageShape;
  background?: DecodeOptions['background'];
  maxPixels?: number;
  badFiles?: BadFilePolicy;
  /** Images decoded concurrently within a batch (default 16). */
  concurrency?: number;
  /** Worker threads decoding plain files (default: cores, at most 4; 0 decodes in-thread). */
  workers?: number;
  logger?: Logger;
  /** Shared list the source appends newly found bad files to. */
  badList: BadFile[];
}

export function checkPolicy(where: string, policy: unknown): BadFilePolicy {
  if (policy === undefined) return 'skip';
  if (policy !== 'skip' && policy !== 'fail') {
    throw invalidArgument(
      where,
      "'skip' or 'fail'",
      policy,
      "Pass badFiles: 'skip' to leave bad files out with a warning.",
    );
  }
  return policy;
}

/** Decode one entry to fitted uint8 pixels, or throw `BadImageError`. */
export async function decodeEntry(entry: FileEntry, o: DecodedSourceOptions): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await entry.load();
  } catch (error) {
    throw new BadImageError(entry.name, 'unreadable', (error as Error).message);
  }
  const fit = { fit: o.fit, resize: o.resize, padValue: o.padValue };
  return decodeFitted(
    bytes,
    entry.name,
    { imageShape: o.imageShape, fit, background: o.background, maxPixels: o.maxPixels },
    entry.crop,
  );
}

/**
 * Check entries without decoding pixels: readable, a known image signature, a sane claimed size.
 * Returns the good entries; bad ones go to `badList` (or throw with `'fail'`).
 */
export async function verifyHeaders(
  entries: FileEntry[],
  o: DecodedSourceOptions & { headerBytes?: (e: FileEntry) => Promise<Uint8Array> },
): Promise<FileEntry[]> {
  const maxPixels = o.maxPixels ?? 89_478_485;
  const problems = await mapLimit(entries, 32, async (entry): Promise<BadFile | undefined> => {
    const bad = (reason: BadFile['reason'], detail: string) => ({
      file: entry.name,
      reason,
      detail,
    });
    let bytes: Uint8Array;
    try {
      bytes = o.headerBytes ? await o.headerBytes(entry) : await entry.load();
    } catch (error) {
      return bad('unreadable', (error as Error).message);
    }
    const header = readImageHeader(bytes);
    if (bytes.length === 0) return bad('truncated', 'empty file');
    if (header.format === 'unknown') {
      return bad('not-an-image', 'no known image signature in the first bytes');
    }
    const { width, height } = header;
    if (width !== undefined && height !== undefined && width * height > maxPixels) {
      return bad('too-large', `header claims ${width}x${height} pixels, limit ${maxPixels}`);
    }
    return undefined;
  });
  // Report in file order, whatever order the reads finished in.
  problems.forEach((problem) => problem && reportBad(problem, o));
  return entries.filter((_, i) => problems[i] === undefined);
}

/** Fully decode every entry at scan time (`verify: 'decode'`); returns the good ones. */
export async function verifyByDecoding(
  entries: FileEntry[],
  o: DecodedSourceOptions,
): Promise<FileEntry[]> {
  const problems = await mapLimit(entries, o.concurrency ?? 16, async (entry) => {
    try {
      await decodeEntry(entry, o);
      return undefined;
    } catch (error) {
      return toBadFile(entry, error);
    }
  });
  // Report in file order, whatever order the decodes finished in.
  problems.forEach((problem) => problem && reportBad(problem, o));
  return entries.filter((_, i) => problems[i] === undefined);
}

function toBadFile(entry: FileEntry, error: unknown): BadFile {
  if (error instanceof BadImageError)
    return { file: entry.name, reason: error.reason, detail: error.detail };
  const message = (error as Error).message ?? String(error);
  return { file: entry.name, reason: classifyDecodeError(message), detail: message };
}

function reportBad(bad: BadFile, o: DecodedSourceOptions): void {
  if (o.badFiles === 'fail') throw new BadImageError(bad.file, bad.reason, bad.detail);
  if (o.badList.some((b) => b.file === bad.file)) return;
  o.badList.push(bad);
  (o.logger ?? getLogger()).warn(`skipping bad image ${bad.file} (${bad.reason}: ${bad.detail})`);
}

/** `fn` over `items` with at most `limit` promises in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The source: see the file comment. */
export function decodedSource(entries: FileEntry[], o: DecodedSourceOptions): ExampleSource {
  const { height, width, channels } = o.imageShape;
  const bytes = height * width * channels;
  const labelled = entries.length > 0 && entries.every((e) => e.label !== undefined);
  const labels = labelled ? Int32Array.from(entries, (e) => e.label as number) : undefined;
  // Entries that failed to decode once; later reads skip them instead of decoding them again.
  const failed = new Set<number>();
  const warnedClasses = new Set<number>();
  const load = async (i: number): Promise<Uint8Array> => {
    // A bad file is replaced by the next one that decodes, of the same class when labelled; if
    // no example of that class decodes, by the next one of any class (warned once per class).
    let attempts = 0;
    for (const sameClass of labels ? [true, false] : [false]) {
      let tried = 0;
      for (let offset = 0; offset < entries.length && tried < 64; offset++) {
        const k = (i + offset) % entries.length;
        const entry = entries[k] as FileEntry;
        if (failed.has(k) || (sameClass && labels && entry.label !== labels[i])) continue;
        tried += 1;
        try {
          const pixels = await decodeEntry(entry, o);
          if (!sameClass && labels && !warnedClasses.has(labels[i] as number)) {
            warnedClasses.add(labels[i] as number);
            (o.logger ?? getLogger()).warn(
              `no image of class ${labels[i]} decodes; ${entries[i]?.name ?? i} is replaced by ${entry.name} of class ${entry.label}`,
            );
          }
          return pixels;
        } catch (error) {
          failed.add(k);
          reportBad(toBadFile(entry, error), o);
        }
      }
      attempts += tried;
    }
    throw new BadImageError(
      entries[i]?.name ?? String(i),
      'corrupt',
      `this file and the ${Math.max(0, attempts - 1)} tried after it all failed to decode`,
    );
  };
  const pool = entries.every((e) => e.file !== undefined) ? sharedDecodePool(o.workers) : undefined;
  const { badList: _badList, logger: _logger, ...fit } = o;
  const readInPool = async (indices: Int32Array, out: Uint8Array) => {
    if (!pool) return false;
    const chunk = Math.max(8, Math.ceil(indices.length / (pool.size * 2)));
    const jobs: Promise<void>[] = [];
    for (let at = 0; at < indices.length; at += chunk) {
      const part = Array.from(indices.subarray(at, at + chunk));
      const files = part.map((i) => entries[i]?.file as string);
      const crops = part.map((i) => entries[i]?.crop);
      const job = {
        files,
        crops,
        imageShape: o.imageShape,
        fit: { fit: fit.fit, resize: fit.resize, padValue: fit.padValue },
        background: o.background,
        maxPixels: o.maxPixels,
      };
      jobs.push(
        pool.run(job).then(async (result) => {
          out.set(result.pixels, at * bytes);
          for (const failure of result.failures) {
            const k = at + failure.index;
            out.set(await load(indices[k] as number), k * bytes);
          }
        }),
      );
    }
    await Promise.all(jobs);
    return true;
  };
  return {
    size: entries.length,
    imageShape: o.imageShape,
    ...(labels ? { labels } : {}),
    async read(indices, out) {
      if (await readInPool(indices, out)) return;
      await mapLimit(Array.from(indices), o.concurrency ?? 16, async (i, k) => {
        out.set(await load(i), k * bytes);
      });
    },
  };
}
