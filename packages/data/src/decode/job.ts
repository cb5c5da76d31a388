/**
 * One decode job: files -> fitted uint8 pixels. Runs in a pool worker, or in the calling thread
 * when no pool is available; both give identical pixels.
 */
import * as fs from 'node:fs';
import type { ImageShape } from '@gensynth/core';
import { fitImage, type FitOptions } from '../transforms/fit';
import { decodeImage, type Rgb } from './decode';
import { BadImageError, classifyDecodeError, type BadFileReason } from './errors';

export interface DecodeJob {
  id: number;
  files: string[];
  /** Per-file crop boxes (same length as files), or undefined. */
  crops?: (FitOptions['crop'] | undefined)[];
  imageShape: ImageShape;
  fit: FitOptions;
  background?: Rgb;
  maxPixels?: number;
}

export interface DecodeJobResult {
  id: number;
  pixels: Uint8Array;
  failures: { index: number; reason: BadFileReason; detail: string }[];
}

/** Decode bytes of one file into fitted pixels for `job`'s shape. */
export async function decodeFitted(
  bytes: Uint8Array,
  name: string,
  job: Omit<DecodeJob, 'id' | 'files'>,
  crop?: FitOptions['crop'],
): Promise<Uint8Array> {
  const { height, width, channels } = job.imageShape;
  const image = await decodeImage(bytes, {
    channels,
    name,
    ...(job.background ? { background: job.background } : {}),
    ...(job.maxPixels ? { maxPixels: job.maxPixels } : {}),
  });
  return fitImage(
    image.data,
    image.height,
    image.width,
    channels,
    [height, width],
    crop ? { ...job.fit, crop } : job.fit,
  );
}

export async function decodeFileJob(job: DecodeJob): Promise<DecodeJobResult> {
  const { height, width, channels } = job.imageShape;
  const bytes = height * width * channels;
  const pixels = new Uint8Array(job.files.length * bytes);
  const failures: DecodeJobResult['failures'] = [];
  for (let k = 0; k < job.files.length; k++) {
    const file = job.files[k] as string;
    try {
      const data = fs.readFileSync(file);
      pixels.set(await decodeFitted(data, file, job, job.crops?.[k]), k * bytes);
    } catch (error) {
      const reason =
        error instanceof BadImageError
          ? error.reason
          : fs.existsSync(file)
            ? classifyDecodeError(String(error))
            : 'unreadable';
      failures.push({
        index: k,
        reason,
        detail: error instanceof BadImageError ? error.detail : String((error as Error).message),
      });
    }
  }
  return { id: job.id, pixels, failures };
}
