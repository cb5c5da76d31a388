/**
 * Checks that models run at their public boundaries.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from './errors';
import type { ImageShape } from './types';

/**
 * Throws `INVALID_ARGUMENT` unless `images` is `[B, H, W, C]` with the model's `imageShape`:
 * `where: expected a [B, H, W, C] tensor; received shape [...]. Resize or convert ...`.
 */
export function checkImageBatch(where: string, images: tf.Tensor, imageShape: ImageShape): void {
  const { height, width, channels } = imageShape;
  const s = images.shape;
  if (s.length !== 4 || s[1] !== height || s[2] !== width || s[3] !== channels) {
    throw invalidArgument(
      where,
      `a [B, ${height}, ${width}, ${channels}] tensor`,
      `shape [${s.join(', ')}]`,
      'Resize or convert the images to the model imageShape.',
    );
  }
}

/** Throws `INVALID_ARGUMENT` naming `where` when a model was already disposed. */
export function checkLive(where: string, disposed: boolean): void {
  if (disposed) {
    throw invalidArgument(
      where,
      'a live model',
      'a disposed model',
      'Create a new model; dispose() freed its weights.',
    );
  }
}
