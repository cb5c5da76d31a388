/**
 * CelebA (Liu et al., ICCV 2015), aligned-and-cropped release: `img_align_celeba/` with
 * 178x218 JPEGs, `list_eval_partition.txt` (`000001.jpg 0`; 0 train, 1 validation, 2 test) and
 * `list_attr_celeba.txt` (a count line, a header line of 40 attribute names, then one line per
 * image of -1/1 values separated by runs of spaces).
 *
 * The default face crop is the DCGAN one: a 108x108 square centred on the 178x218 image
 * (top 55, left 35), scaled proportionally for other image sizes, then resized.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GensynthError, invalidArgument } from '@gensynth/core';
import type { CropBox } from '../transforms/fit';
import { ImageDataset } from './dataset';
import type { FileEntry } from './files';
import { buildFileDataset, readHead, resolveShape, type ImageFolderOptions } from './folder';

export const CELEBA_SPLITS = Object.freeze({ train: 0, validation: 1, test: 2 });

export interface CelebAOptions extends Partial<Omit<ImageFolderOptions, 'classes' | 'crop'>> {
  /** Default `'train'`. */
  split?: 'train' | 'validation' | 'test' | 'all';
  /** `'face'` (default, see the file comment), `'none'`, or a fixed box in source pixels. */
  crop?: 'face' | 'none' | CropBox;
  /** Use this attribute (e.g. `'Male'`) as a binary label: 0 for -1, 1 for 1. */
  labelAttribute?: string;
  /** Folder of the images, relative to `root` (default `img_align_celeba`). */
  imagesDir?: string;
}

/**
 * The DCGAN face crop as fractions of the image: on the 178x218 aligned images it is the
 * 108x108 square at top 55, left 35; other sizes scale proportionally.
 */
export const CELEBA_FACE_CROP: Readonly<CropBox> = Object.freeze({
  top: 55 / 218,
  left: 35 / 178,
  height: 108 / 218,
  width: 108 / 178,
  relative: true,
});

function lines(file: string): string[] {
  if (!fs.existsSync(file)) {
    throw new GensynthError('DATA_NOT_FOUND', {
      where: 'celebA',
      expected: `${path.basename(file)} in the CelebA folder`,
      received: `no file ${file}`,
      fix: 'Pass the folder holding img_align_celeba/ and the Anno/Eval text files.',
    });
  }
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** `list_attr_celeba.txt` -> attribute names and a map file -> Int8Array of -1/1. */
export function readCelebAAttributes(file: string): {
  names: string[];
  values: Map<string, Int8Array>;
} {
  const [countLine, headerLine, ...rows] = lines(file);
  const names = (headerLine ?? '').split(/\s+/);
  const values = new Map<string, Int8Array>();
  for (const row of rows) {
    const [name, ...fields] = row.split(/\s+/);
    if (!name || fields.length !== names.length || fields.some((f) => f !== '1' && f !== '-1')) {
      throw new GensynthError('DATA_FORMAT', {
        where: `${file}: ${name ?? row}`,
        expected: `${names.length} values of -1 or 1`,
        received: JSON.stringify(fields.slice(0, 5)),
        fix: 'Use the original list_attr_celeba.txt.',
      });
    }
    values.set(name, Int8Array.from(fields, Number));
  }
  if (Number(countLine) !== values.size) {
    throw new GensynthError('DATA_FORMAT', {
      where: file,
      expected: `${countLine} rows (the count on the first line)`,
      received: `${values.size} rows`,
      fix: 'The file is truncated; re-download it.',
    });
  }
  return { names, values };
}

export class CelebADataset extends ImageDataset {
  /** The 40 attribute names, when `list_attr_celeba.txt` is present. */
  attributeNames: readonly string[] = [];
  /** `[N, 40]` of -1/1, row k for example k. */
  attributes?: Int8Array;
}

/** CelebA from its root folder; see the file comment. */
export async function celebA(root: string, options: CelebAOptions = {}): Promise<CelebADataset> {
  const split = options.split ?? 'train';
  if (!(split === 'all' || split in CELEBA_SPLITS)) {
    throw invalidArgument(
      'celebA(split)',
      "'train', 'validation', 'test' or 'all'",
      split,
      "Pass split: 'train'.",
    );
  }
  const imageShape = resolveShape('celebA', options.imageSize ?? 64, options.channels ?? 3);
  const imagesDir = path.join(root, options.imagesDir ?? 'img_align_celeba');
  const partition = lines(path.join(root, 'list_eval_partition.txt')).map(
    (l) => l.split(/\s+/) as [string, string],
  );
  const wanted = partition
    .filter(
      ([, p]) =>
        split === 'all' || Number(p) === CELEBA_SPLITS[split as keyof typeof CELEBA_SPLITS],
    )
    .map(([f]) => f);
  const attrFile = path.join(root, 'list_attr_celeba.txt');
  const attrs = fs.existsSync(attrFile) ? readCelebAAttributes(attrFile) : undefined;
  const labelIndex =
    options.labelAttribute === undefined
      ? -1
      : (attrs?.names.indexOf(options.labelAttribute) ?? -1);
  if (options.labelAttribute !== undefined && labelIndex < 0) {
    throw invalidArgument(
      'celebA(labelAttribute)',
      `one of the attributes in list_attr_celeba.txt`,
      options.labelAttribute,
      `Pass e.g. 'Male'; available: ${attrs?.names.join(', ') ?? 'none (file missing)'}.`,
    );
  }
  const crop = options.crop ?? 'face';
  const entries: FileEntry[] = wanted.map((name) => {
    const file = path.join(imagesDir, name);
    const entry: FileEntry = { name: file, file, load: () => fs.readFileSync(file) };
    if (labelIndex >= 0) entry.label = (attrs?.values.get(name)?.[labelIndex] ?? -1) > 0 ? 1 : 0;
    if (crop === 'face') entry.crop = { ...CELEBA_FACE_CROP };
    else if (crop !== 'none') entry.crop = crop;
    return entry;
  });
  const { crop: _crop, ...rest } = options;
  const base = await buildFileDataset(entries, {
    ...rest,
    imageShape,
    name: `celeba/${split}`,
    ...(labelIndex >= 0
      ? { classNames: [`not ${options.labelAttribute}`, options.labelAttribute as string] }
      : {}),
    details: { source: 'celebA', root: path.resolve(root), split, crop },
    headerBytes: (e) => readHead(e.name),
  });
  const dataset = new CelebADataset(base.source, {
    name: base.name,
    ...(base.classNames ? { classNames: base.classNames } : {}),
    badFiles: base.badFiles,
    details: base.details,
  });
  if (attrs) {
    const files = (base.details.files as string[] | undefined) ?? [];
    dataset.attributeNames = attrs.names;
    dataset.attributes = new Int8Array(files.length * attrs.names.length);
    files.forEach((f, k) => {
      const row = attrs.values.get(path.basename(f));
      if (row) dataset.attributes?.set(row, k * attrs.names.length);
    });
  }
  return dataset;
}
