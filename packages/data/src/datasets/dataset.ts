/**
 * The dataset class every source returns. A source gives random access to examples as uint8
 * `[H, W, C]` pixels at the dataset's declared shape; the dataset turns them into seeded,
 * resumable streams of `[B, H, W, C]` float32 batches in [-1, 1] (see `stream.ts`).
 */
import type { BatchStream, Dataset, ImageShape } from '@gensynth/core';
import { invalidArgument } from '@gensynth/core';
import type { BadFileReason } from '../decode/errors';
import { createBatchStream, type StreamOptions } from './stream';

/** A file left out of (or substituted in) a dataset, with the reason. */
export interface BadFile {
  file: string;
  reason: BadFileReason;
  detail: string;
}

/** Random access to the examples of a dataset. */
export interface ExampleSource {
  readonly size: number;
  readonly imageShape: ImageShape;
  /** Label of every example, when labelled (used by stratified splits and batches). */
  readonly labels?: Int32Array;
  /**
   * Write examples `indices` into `pixels` (`indices.length * H * W * C` bytes, HWC per image,
   * in the order given). May decode files; must not throw for one bad file when the dataset's
   * policy is to skip (it substitutes a good example and records the bad one instead).
   */
  read(indices: Int32Array, pixels: Uint8Array): Promise<void> | void;
}

export interface DatasetInfo {
  name: string;
  classNames?: readonly string[];
  /** Files found bad when the source was scanned or read. Grows if reads find more. */
  badFiles?: BadFile[];
  /** Free-form facts for `inspectSource` (source kind, root folder, split...). */
  details?: Record<string, unknown>;
}

export class ImageDataset implements Dataset {
  readonly name: string;
  readonly classNames?: readonly string[];
  readonly badFiles: BadFile[];
  readonly details: Record<string, unknown>;
  readonly source: ExampleSource;

  constructor(source: ExampleSource, info: DatasetInfo) {
    this.source = source;
    this.name = info.name;
    if (info.classNames) this.classNames = Object.freeze([...info.classNames]);
    this.badFiles = info.badFiles ?? [];
    this.details = info.details ?? {};
  }

  get imageShape(): ImageShape {
    return this.source.imageShape;
  }

  get size(): number {
    return this.source.size;
  }

  /** Label of every example (int32 class ids), when labelled. */
  get labels(): Int32Array | undefined {
    return this.source.labels;
  }

  /**
   * A seeded, resumable stream of batches: `images` `[B, H, W, C]` float32 in [-1, 1] and, when
   * labelled, `labels` `[B]` int32. The consumer disposes each batch's tensors.
   */
  batches(options: StreamOptions): BatchStream {
    return createBatchStream(this, options);
  }

  /** Uint8 pixels of examples `indices`, `[n, H, W, C]` row-major, and their labels. */
  async read(indices: ArrayLike<number>): Promise<{ pixels: Uint8Array; labels?: Int32Array }> {
    const idx = Int32Array.from(indices);
    for (const i of idx) {
      if (!(i >= 0 && i < this.size)) {
        throw invalidArgument(
          `${this.name}.read(indices)`,
          `indices in [0, ${this.size})`,
          i,
          'Pass indices below dataset.size.',
        );
      }
    }
    const { height, width, channels } = this.imageShape;
    const pixels = new Uint8Array(idx.length * height * width * channels);
    await this.source.read(idx, pixels);
    const all = this.source.labels;
    return all ? { pixels, labels: idx.map((i) => all[i] as number) } : { pixels };
  }

  /** A view of examples `indices` of this dataset, in that order (no copy of pixels). */
  subset(indices: ArrayLike<number>, name = `${this.name}[subset]`): ImageDataset {
    const map = Int32Array.from(indices);
    const parent = this.source;
    map.forEach((i) => {
      if (!(i >= 0 && i < parent.size)) {
        throw invalidArgument(
          `${this.name}.subset(indices)`,
          `indices in [0, ${parent.size})`,
          i,
          'Pass indices below dataset.size.',
        );
      }
    });
    const labels = parent.labels ? map.map((i) => parent.labels?.[i] as number) : undefined;
    const source: ExampleSource = {
      size: map.length,
      imageShape: parent.imageShape,
      ...(labels ? { labels } : {}),
      read: (idx, pixels) =>
        parent.read(
          idx.map((i) => map[i] as number),
          pixels,
        ),
    };
    return new ImageDataset(source, {
      name,
      ...(this.classNames ? { classNames: this.classNames } : {}),
      badFiles: this.badFiles,
      details: { ...this.details, subsetOf: this.name },
    });
  }
}
