/**
 * @gensynth/data: datasets, image decoding, preprocessing, augmentation and splits. Every dataset
 * yields `[B, H, W, C]` float32 batches in [-1, 1] (see `@gensynth/core` types).
 */
export const PACKAGE_NAME = '@gensynth/data';

export * from './decode/decode';
export { BadImageError, type BadFileReason } from './decode/errors';
export { readImageHeader, sniffFormat, type ImageFormat, type ImageHeader } from './decode/header';
export {
  decodePng,
  readPngHeader,
  canDecodePngFast,
  isPng,
  type PngHeader,
  type RawImage,
} from './decode/png';
export * from './transforms/resample';
export * from './transforms/ops';
export * from './transforms/fit';
export {
  ImageDataset,
  type BadFile,
  type ExampleSource,
  type DatasetInfo,
} from './datasets/dataset';
export { epochOrder, STREAM_DEFAULTS, type StreamOptions } from './datasets/stream';
export { splitDataset, apportion, type SplitOptions, type SplitResult } from './datasets/split';
export { fromArrays, arraySource, type ArrayDatasetOptions } from './datasets/arrays';
export { writeShard, openShard, type CacheOption } from './datasets/cache';
export { type BadFilePolicy, type FileEntry } from './datasets/files';
export {
  imageFolder,
  emojiDataset,
  emojiFolder,
  IMAGE_EXTENSIONS,
  type ImageFolderOptions,
  type EmojiOptions,
} from './datasets/folder';
export {
  mnistIdx,
  mnistPackage,
  readIdx,
  loadMnistPackage,
  type IdxArray,
  type MnistPackageOptions,
} from './datasets/mnist';
export { cifar10, readCifarBatch, CIFAR_RECORD_BYTES, type Cifar10Options } from './datasets/cifar';
export {
  celebA,
  CelebADataset,
  readCelebAAttributes,
  CELEBA_FACE_CROP,
  CELEBA_SPLITS,
  type CelebAOptions,
} from './datasets/celeba';
export { lsun, type LsunOptions } from './datasets/lsun';
export { augmentImages, warpImages, type AugmentOptions, type Affine } from './augment/augment';
export {
  diffAugment,
  translateImages,
  cutoutMask,
  DIFF_AUGMENT_DEFAULTS,
  type DiffAugmentOptions,
  type DiffAugmentPolicy,
} from './augment/diffaugment';
export {
  inspectSource,
  formatInspectReport,
  detectSourceKind,
  type InspectOptions,
  type InspectReport,
  type SourceKind,
} from './inspect';
