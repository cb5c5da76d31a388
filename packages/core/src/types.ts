/**
 * The shared tensor interface. Every package speaks these types.
 *
 * - Images: `tf.Tensor4D`, NHWC `[B, H, W, C]`, float32, values in [-1, 1]. Bytes only at the
 *   edges (decoding in `@gensynth/data`, image writers in `@gensynth/train`).
 * - Ownership: a function that returns a tensor hands it to the caller, who disposes it.
 *   Functions never dispose their inputs.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { RngState } from './rng';

/** `[B, H, W, C]` float32 in [-1, 1]. */
export type ImageTensor = tf.Tensor4D;

/** Height, width and channels of one image. */
export interface ImageShape {
  height: number;
  width: number;
  channels: 1 | 3 | 4;
}

/**
 * One batch. `images`: `[B, H, W, C]` float32 in [-1, 1]; `labels`: `[B]` int32 class ids.
 * The consumer of a batch owns its tensors and disposes them.
 */
export interface Batch {
  images: tf.Tensor4D;
  labels?: tf.Tensor1D;
}

/** Position of a batch stream, as plain JSON: a resumed stream continues with the same batch. */
export interface DataCursor {
  epoch: number;
  /** Index of the next example within the epoch's order. */
  index: number;
  /** Generator state that produced (and will produce) the epoch orders. */
  rng: RngState;
}

export interface BatchOptions {
  batchSize: number;
  /** Seed of the epoch shuffles; ignored when `cursor` is given. */
  seed?: number;
  /** Shuffle each epoch (default true). */
  shuffle?: boolean;
  /** Drop a last, smaller batch of an epoch (default true, as training wants equal batches). */
  dropRemainder?: boolean;
  /** Continue from a saved position instead of the start. */
  cursor?: DataCursor;
  /** Stop after this many epochs (default: never stop). */
  epochs?: number;
}

/** An async iterator of batches that can report where it is. */
export interface BatchStream extends AsyncIterableIterator<Batch> {
  /** The position of the next batch. */
  cursor(): DataCursor;
}

/** A source of images with a known size and shape. */
export interface Dataset {
  readonly name: string;
  readonly imageShape: ImageShape;
  readonly size: number;
  /** Class names, index = label id, when the dataset is labelled. */
  readonly classNames?: readonly string[];
  /** A stream of batches; see `BatchOptions`. */
  batches(options: BatchOptions): BatchStream;
}

/** Inputs to one training step. */
export interface StepContext {
  /** Zero-based step index. */
  step: number;
  /** Seed for all randomness of this step (derived from the run's root seed and the step). */
  seed: number;
}

export interface SampleOptions {
  /** Seed for the latent noise; same seed, same images. */
  seed?: number;
  /** Fixed latents `[n, Z]` instead of drawing them. */
  latents?: tf.Tensor2D;
  /** Class ids `[n]` for class-conditional models. */
  labels?: tf.Tensor1D;
}

/** Anything with weights that can be saved: a tfjs LayersModel satisfies it. */
export interface WeightedNetwork {
  readonly name: string;
  getWeights(): tf.Tensor[];
  setWeights(weights: tf.Tensor[]): void;
}

/** JSON-serialisable model configuration, stored in checkpoints. */
export type ModelConfig = { family: string } & Record<string, unknown>;

/**
 * A generative model, of any family. The trainer drives it through this interface only, and can
 * checkpoint it without knowing the family.
 */
export interface GenerativeModel<C extends ModelConfig = ModelConfig> {
  readonly config: C;
  readonly imageShape: ImageShape;
  /**
   * One optimisation step on `batch`. Returns named scalar losses (`loss/d`, `loss/g`, ...) that
   * the caller owns and disposes. Leaves `tf.memory().numTensors` unchanged otherwise.
   */
  trainStep(batch: Batch, context: StepContext): Record<string, tf.Scalar>;
  /** `n` images `[n, H, W, C]` float32 in [-1, 1]; the caller owns the result. */
  sample(n: number, options?: SampleOptions): tf.Tensor4D;
  /** Named sub-networks (`generator`, `discriminator`, `ema`, ...). */
  networks(): Record<string, WeightedNetwork>;
  /** Named optimizers, for checkpointing their slots and iteration counts. */
  optimizers(): Record<string, tf.Optimizer>;
  /** Free every tensor the model holds. */
  dispose(): void;
}

/** Maps images to features `[B, D]`. */
export interface FeatureExtractor {
  readonly name: string;
  /** Height and width the extractor expects; callers resize to it. */
  readonly inputSize: [number, number];
  readonly inputChannels: 1 | 3;
  /** The value range the extractor expects, e.g. [-1, 1] or [0, 255]. */
  readonly inputRange: [number, number];
  readonly featureDim: number;
  /**
   * `images`: `[B, H, W, C]` float32 in [-1, 1] at any size and channel count; the extractor
   * converts. Returns `[B, D]` float32 that the caller owns.
   */
  extract(images: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}
