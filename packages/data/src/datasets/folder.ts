/**
 * Image folders: every image file under a root, recursively, in sorted path order; optionally
 * one class per first-level subfolder (sorted names = class ids, as torchvision's ImageFolder).
 * Extensions match case-insensitively; other files (`.DS_Store`, `Thumbs.db`, text) are ignored.
 */
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  GensynthError,
  getLogger,
  invalidArgument,
  type ImageShape,
  type Logger,
} from '@gensynth/core';
import type { Rgb } from '../decode/decode';
import type { FitOptions } from '../transforms/fit';
import { toSize } from './arrays';
import { withCache, type CacheOption } from './cache';
import { ImageDataset, type BadFile } from './dataset';
import {
  checkPolicy,
  decodedSource,
  verifyByDecoding,
  verifyHeaders,
  type BadFilePolicy,
  type FileEntry,
} from './files';

export const IMAGE_EXTENSIONS = Object.freeze([
  '.png',
  '.jpg',
  '.jpeg',
  '.jpe',
  '.jfif',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
]);

export interface ImageFolderOptions extends FitOptions {
  /** Output `[H, W]` (or one number for square). */
  imageSize: number | [number, number];
  /** 1 (gray), 3 (RGB, default) or 4 (RGBA). */
  channels?: 1 | 3 | 4;
  /** First-level subfolders are classes (default false). */
  classes?: boolean;
  /** What to do with bad files: `'skip'` (default, warn and count) or `'fail'`. */
  badFiles?: BadFilePolicy;
  /** Background for transparent pixels (default white). */
  background?: Rgb;
  /** `'header'` (default): read headers at scan; `'decode'`: decode everything at scan; `'none'`. */
  verify?: 'header' | 'decode' | 'none';
  /** Keep decoded, fitted uint8 images: `'memory'`, or a shard file path (see `cache.ts`). */
  cache?: CacheOption;
  extensions?: readonly string[];
  maxPixels?: number;
  concurrency?: number;
  /** Worker threads for decoding (default: cores, at most 4; 0 decodes in the calling thread). */
  workers?: number;
  name?: string;
  logger?: Logger;
}

/** The first few bad files with their reasons, for an error message: ` (a.png: truncated, ...)`. */
function describeBad(bad: readonly BadFile[], shown = 3): string {
  if (bad.length === 0) return '';
  const listed = bad.slice(0, shown).map((b) => `${path.basename(b.file)}: ${b.reason}`);
  const more = bad.length > shown ? `, and ${bad.length - shown} more` : '';
  return ` (${listed.join(', ')}${more})`;
}

/** Hidden entries and the `__MACOSX` folder that macOS zip archives carry: never images. */
export function isJunk(name: string): boolean {
  return name.startsWith('.') || name === '__MACOSX';
}

/** True for a folder, or a symbolic link to one (a broken or looping link is not). */
function isFolder(entry: fs.Dirent, full: string): boolean {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return fs.statSync(full).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Image files under `root` in sorted path order. Symbolic links to folders are followed, each
 * real folder once, so a link back up the tree ends the walk instead of looping.
 */
function listFiles(root: string, extensions: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (dir: string) => {
    const real = fs.realpathSync(dir);
    if (seen.has(real)) return;
    seen.add(real);
    const entries = fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (isJunk(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (isFolder(entry, full)) walk(full);
      else if (extensions.includes(path.extname(entry.name).toLowerCase())) out.push(full);
    }
  };
  walk(root);
  return out;
}

export async function readHead(file: string): Promise<Uint8Array> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(65536);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export function resolveShape(where: string, imageSize: unknown, channels: unknown = 3): ImageShape {
  const size =
    typeof imageSize === 'number' || Array.isArray(imageSize)
      ? toSize(imageSize as number)
      : undefined;
  if (!size || !size.every((v) => Number.isInteger(v) && v > 0)) {
    throw invalidArgument(
      `${where}(imageSize)`,
      'a positive integer or [height, width]',
      imageSize,
      'Pass e.g. imageSize: 64.',
    );
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw invalidArgument(
      `${where}(channels)`,
      '1, 3 or 4',
      channels,
      'Pass 3 for RGB or 1 for gray.',
    );
  }
  return { height: size[0], width: size[1], channels };
}

/** Scan entries with the chosen verification and build the dataset. Shared by folder sources. */
export async function buildFileDataset(
  entries: FileEntry[],
  options: Omit<ImageFolderOptions, 'imageSize'> & {
    imageShape: ImageShape;
    name: string;
    classNames?: string[];
    details?: Record<string, unknown>;
    headerBytes?: (e: FileEntry) => Promise<Uint8Array>;
  },
): Promise<ImageDataset> {
  const badList: BadFile[] = [];
  const policy = checkPolicy(`${options.name}(badFiles)`, options.badFiles);
  const o = { ...options, badFiles: policy, badList };
  let good = entries;
  if (options.verify === 'decode') good = await verifyByDecoding(entries, o);
  else if (options.verify !== 'none') good = await verifyHeaders(entries, o);
  if (good.length === 0) {
    throw new GensynthError('DATA_NOT_FOUND', {
      where: options.name,
      expected: 'at least one readable image',
      received: `${entries.length} candidate files, ${badList.length} bad${describeBad(badList)}`,
      fix: 'Check the path and the file extensions; inspectSource() (`gensynth data inspect <folder>`) lists every skipped file.',
    });
  }
  const source = decodedSource(good, o);
  const dataset = new ImageDataset(source, {
    name: options.name,
    ...(options.classNames ? { classNames: options.classNames } : {}),
    badFiles: badList,
    details: { ...options.details, files: good.map((e) => e.name) },
  });
  return options.cache ? withCache(dataset, options.cache, fingerprintOf(good, options)) : dataset;
}

function fingerprintOf(
  entries: FileEntry[],
  options: Omit<ImageFolderOptions, 'imageSize'> & { imageShape: ImageShape },
): string {
  const stats = entries.map((e) => {
    try {
      const s = fs.statSync(e.name);
      return `${e.name}:${s.size}:${s.mtimeMs}:${e.label ?? ''}`;
    } catch {
      return `${e.name}:${e.label ?? ''}`;
    }
  });
  const pixelOptions = [
    options.imageShape,
    options.fit,
    options.resize,
    options.padValue,
    options.crop,
    options.background,
  ];
  return JSON.stringify({ stats, pixelOptions });
}

/**
 * Every image under `root`. With `classes: true`, images in first-level subfolder k (sorted)
 * get label k and files directly under `root` are ignored.
 */
export async function imageFolder(
  root: string,
  options: ImageFolderOptions,
): Promise<ImageDataset> {
  const where = 'imageFolder';
  const imageShape = resolveShape(where, options.imageSize, options.channels ?? 3);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new GensynthError('DATA_NOT_FOUND', {
      where: `${where}(root)`,
      expected: 'an existing folder',
      received: JSON.stringify(root),
      fix: 'Pass the path of a folder of images.',
    });
  }
  const extensions = (options.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase());
  let entries: FileEntry[];
  let classNames: string[] | undefined;
  if (options.classes) {
    classNames = fs
      .readdirSync(root, { withFileTypes: true })
      .filter((d) => !isJunk(d.name) && isFolder(d, path.join(root, d.name)))
      .map((d) => d.name)
      .sort();
    entries = classNames.flatMap((name, label) => {
      const files = listFiles(path.join(root, name), extensions);
      if (files.length === 0) {
        (options.logger ?? getLogger()).warn(
          `imageFolder: class ${label} (${name}) has no image files; it keeps its id with no examples`,
        );
      }
      return files.map((file) => ({ name: file, file, label, load: () => fs.readFileSync(file) }));
    });
  } else {
    entries = listFiles(root, extensions).map((file) => ({
      name: file,
      file,
      load: () => fs.readFileSync(file),
    }));
  }
  return buildFileDataset(entries, {
    ...options,
    imageShape,
    name: options.name ?? path.basename(path.resolve(root)),
    ...(classNames ? { classNames } : {}),
    details: { source: 'imageFolder', root: path.resolve(root) },
    headerBytes: (e) => readHead(e.name),
  });
}

export interface EmojiOptions extends Partial<Omit<ImageFolderOptions, 'classes'>> {
  /** Folder of the emoji PNGs (default: the installed `emoji-datasource-google`, 64 px). */
  root?: string;
}

/** Where `emoji-datasource-google`'s 64x64 PNGs are, or an explanation of how to get them. */
export function emojiFolder(): string {
  const require = createRequire(__filename);
  let pkg: string;
  try {
    pkg = path.dirname(require.resolve('emoji-datasource-google/package.json'));
  } catch {
    throw new GensynthError('DATA_NOT_FOUND', {
      where: 'emojiDataset',
      expected: 'the npm package emoji-datasource-google to be installed',
      received: 'it could not be resolved',
      fix: 'Run `npm install emoji-datasource-google` (Apache-2.0 Noto emoji images), or pass { root } with a folder of PNGs.',
    });
  }
  return path.join(pkg, 'img', 'google', '64');
}

/**
 * The 3,786 Noto emoji PNGs (64x64 RGBA, Apache-2.0) of `emoji-datasource-google`, composited
 * onto white, as an unlabelled image dataset. Default `imageSize` 32, RGB.
 */
export function emojiDataset(options: EmojiOptions = {}): Promise<ImageDataset> {
  const root = options.root ?? emojiFolder();
  return imageFolder(root, {
    ...options,
    imageSize: options.imageSize ?? 32,
    name: options.name ?? 'emoji',
    extensions: ['.png'],
  });
}
