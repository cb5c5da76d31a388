/**
 * Bring gensynth images (`[B, H, W, C]` float32 in [-1, 1], C = 1, 3 or 4) to what an extractor
 * expects: its channel count, its size and its value range.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GensynthError } from '@gensynth/core';

export type FitMode = 'resize' | 'crop-or-pad';

export interface InputSpec {
  /** `[height, width]` the network takes. */
  inputSize: [number, number];
  inputChannels: 1 | 3;
  /** Value range the network takes, e.g. [-1, 1], [0, 1] or [0, 255]. */
  inputRange: [number, number];
  /**
   * `'resize'`: bilinear resize (TF's legacy `resize_bilinear`, the FID Inception graph's own
   * resize). `'crop-or-pad'`: centre crop or pad with background (-1) to the size, which undoes
   * the padding of 28x28 digits to 32x32.
   */
  fit: FitMode;
}

// ITU-R BT.601 luma, as PIL's convert('L')
const LUMA = [0.299, 0.587, 0.114];

function cropOrPad(images: tf.Tensor4D, [height, width]: [number, number]): tf.Tensor4D {
  let [, h, w] = images.shape;
  let out = images;
  if (h > height || w > width) {
    const top = Math.max(0, Math.floor((h - height) / 2));
    const left = Math.max(0, Math.floor((w - width) / 2));
    out = tf.slice(out, [0, top, left, 0], [-1, Math.min(h, height), Math.min(w, width), -1]);
    [, h, w] = out.shape;
  }
  if (h < height || w < width) {
    const top = Math.floor((height - h) / 2);
    const left = Math.floor((width - w) / 2);
    out = tf.pad(
      out,
      [
        [0, 0],
        [top, height - h - top],
        [left, width - w - left],
        [0, 0],
      ],
      -1,
    );
  }
  return out;
}

/** `[B, H, W, C]` in [-1, 1] -> `[B, inputSize, inputChannels]` in `inputRange`. Call inside tidy. */
export function prepareImages(images: tf.Tensor4D, spec: InputSpec, where: string): tf.Tensor4D {
  if (images.rank !== 4 || ![1, 3, 4].includes(images.shape[3])) {
    throw new GensynthError('SHAPE_MISMATCH', {
      where,
      expected: 'images [B, H, W, C] with C = 1, 3 or 4, float32 in [-1, 1]',
      received: `shape [${images.shape}]`,
      fix: 'Pass a batch of NHWC images, e.g. a Batch.images tensor or model.sample(n).',
    });
  }
  let x = images;
  let channels = x.shape[3];
  if (channels === 4) {
    x = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 3]); // drop alpha
    channels = 3;
  }
  if (spec.inputChannels === 1 && channels === 3) {
    x = tf.sum(tf.mul(x, tf.tensor1d(LUMA)), 3, true);
  } else if (spec.inputChannels === 3 && channels === 1) {
    x = tf.tile(x, [1, 1, 1, 3]);
  }
  const [height, width] = spec.inputSize;
  if (x.shape[1] !== height || x.shape[2] !== width) {
    x =
      spec.fit === 'resize'
        ? tf.image.resizeBilinear(x, [height, width])
        : cropOrPad(x, spec.inputSize);
  }
  const [low, high] = spec.inputRange;
  if (low !== -1 || high !== 1) {
    x = tf.add(tf.mul(tf.add(x, 1), (high - low) / 2), low); // [-1, 1] -> [low, high]
  }
  return x;
}
