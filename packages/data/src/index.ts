/**
 * @gensynth/data: datasets, image decoding, preprocessing, augmentation and splits. Every dataset
 * yields `[B, H, W, C]` float32 batches in [-1, 1] (see `@gensynth/core` types).
 */
export const PACKAGE_NAME = '@gensynth/data';

export * from './decode/decode';
export { BadImageError, type BadFileReason } from './decode/errors';
export { readImageHeader, sniffFormat, type ImageFormat, type ImageHeader } from './decode/header';
export { decodePng, readPngHeader, canDecodePngFast, isPng, type PngHeader, type RawImage } from './decode/png';
export * from './transforms/resample';
export * from './transforms/ops';
