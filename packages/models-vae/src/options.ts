/**
 * Options of the convolutional VAE: one options object, defaults in one frozen constant, and a
 * validator that names the bad field and the allowed values.
 */
import { describeValue, invalidArgument, type ImageShape } from '@gensynth/core';

export type VaeReconstruction = 'gaussian' | 'bernoulli';
export type VaeNormalization = 'batch' | 'layer' | 'none';
export type VaeActivation = 'leakyRelu' | 'relu' | 'elu' | 'swish';

export const VAE_RECONSTRUCTIONS: readonly VaeReconstruction[] = Object.freeze([
  'gaussian',
  'bernoulli',
]);
export const VAE_NORMALIZATIONS: readonly VaeNormalization[] = Object.freeze([
  'batch',
  'layer',
  'none',
]);
export const VAE_ACTIVATIONS: readonly VaeActivation[] = Object.freeze([
  'leakyRelu',
  'relu',
  'elu',
  'swish',
]);

export interface ConvVaeOptions {
  /** Shape of one image; height and width must be divisible by `2 ** filters.length`. */
  imageShape: ImageShape;
  /** Size Z of the latent code. */
  latentDim?: number;
  /** Filters of each stride-2 encoder conv; the decoder mirrors them. Its length is the depth. */
  filters?: number[];
  /** Kernel size of every conv and conv-transpose. */
  kernelSize?: number;
  /** Normalization after each hidden conv. */
  normalization?: VaeNormalization;
  /** Activation after each hidden conv. */
  activation?: VaeActivation;
  /**
   * Decoder likelihood. `gaussian`: unit-variance Gaussian on [-1, 1] pixels, decoder mean through
   * tanh, loss `0.5 Σ (x − x̂)²`. `bernoulli`: pixels mapped to [0, 1], decoder logits, loss
   * `Σ BCE-with-logits` (grey levels allowed, as in the usual MNIST VAE).
   */
  reconstruction?: VaeReconstruction;
  /** Weight of the KL term (β-VAE, Higgins et al. 2017). 1 gives the plain ELBO. */
  beta?: number;
  /** Steps over which the KL weight ramps linearly from 0 to `beta`; 0 turns the warmup off. */
  klWarmupSteps?: number;
  /** Adam learning rate. */
  learningRate?: number;
  adamBeta1?: number;
  adamBeta2?: number;
  /** Seed of the weight initialisation. */
  seed?: number;
}

export type ResolvedConvVaeOptions = Required<ConvVaeOptions>;

/** JSON config of a VAE, as stored in checkpoints. */
export type VaeConfig = { family: 'vae' } & ResolvedConvVaeOptions;

export const DEFAULT_VAE_OPTIONS = Object.freeze({
  latentDim: 16,
  filters: Object.freeze([32, 64]) as readonly number[],
  kernelSize: 3,
  normalization: 'batch' as VaeNormalization,
  activation: 'leakyRelu' as VaeActivation,
  reconstruction: 'gaussian' as VaeReconstruction,
  beta: 1,
  klWarmupSteps: 0,
  learningRate: 1e-3,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  seed: 0,
});

const WHERE = 'createConvVAE';

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw invalidArgument(
      `${WHERE}(options.${field})`,
      `one of ${allowed.map((a) => `'${a}'`).join(', ')}`,
      describeValue(value),
      `Set ${field} to one of the allowed values.`,
    );
  }
  return value as T;
}

function positiveInt(field: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw invalidArgument(
      `${WHERE}(options.${field})`,
      'a positive integer',
      describeValue(value),
      `Pass an integer >= 1 for ${field}.`,
    );
  }
  return value as number;
}

function nonNegative(field: string, value: unknown, integer = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= 0;
  if (!ok || (integer && !Number.isInteger(value))) {
    throw invalidArgument(
      `${WHERE}(options.${field})`,
      integer ? 'a non-negative integer' : 'a finite number >= 0',
      describeValue(value),
      `Pass a ${integer ? 'whole ' : ''}number >= 0 for ${field}.`,
    );
  }
  return value as number;
}

function unitInterval(field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw invalidArgument(
      `${WHERE}(options.${field})`,
      'a number in [0, 1)',
      describeValue(value),
      `Pass e.g. 0.9.`,
    );
  }
  return value;
}

/** Fill in defaults and validate; throws `INVALID_ARGUMENT` naming the field. */
export function resolveVaeOptions(options: ConvVaeOptions): ResolvedConvVaeOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument(
      WHERE,
      'an options object',
      options,
      'Pass { imageShape: { height, width, channels } }.',
    );
  }
  const known = new Set(['imageShape', 'family', ...Object.keys(DEFAULT_VAE_OPTIONS)]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw invalidArgument(
        `${WHERE}(options.${key})`,
        `one of the options ${[...known].filter((k) => k !== 'family').join(', ')}`,
        describeValue(key),
        'Remove the unknown option or fix its spelling.',
      );
    }
  }
  const merged = { ...DEFAULT_VAE_OPTIONS, ...options };
  const shape = merged.imageShape as ImageShape | undefined;
  const filters = merged.filters;
  if (!Array.isArray(filters) || filters.length === 0) {
    throw invalidArgument(
      `${WHERE}(options.filters)`,
      'a non-empty array of positive integers',
      filters,
      'Pass e.g. [32, 64].',
    );
  }
  filters.forEach((f, i) => positiveInt(`filters[${i}]`, f));
  const factor = 2 ** filters.length;
  const shapeOk =
    typeof shape === 'object' &&
    shape !== null &&
    [1, 3, 4].includes(shape.channels) &&
    Number.isInteger(shape.height) &&
    Number.isInteger(shape.width) &&
    shape.height >= factor &&
    shape.width >= factor &&
    shape.height % factor === 0 &&
    shape.width % factor === 0;
  if (!shapeOk) {
    throw invalidArgument(
      `${WHERE}(options.imageShape)`,
      `{ height, width, channels } with channels 1, 3 or 4 and height, width multiples of 2 ** filters.length = ${factor}`,
      shape,
      'Resize the images or use fewer filters (each entry halves the resolution).',
    );
  }
  if (typeof merged.beta !== 'number' || !(merged.beta >= 0) || !Number.isFinite(merged.beta)) {
    nonNegative('beta', merged.beta);
  }
  if (!(typeof merged.learningRate === 'number' && merged.learningRate > 0)) {
    throw invalidArgument(
      `${WHERE}(options.learningRate)`,
      'a number > 0',
      describeValue(merged.learningRate),
      'Pass e.g. 1e-3.',
    );
  }
  return {
    imageShape: { height: shape.height, width: shape.width, channels: shape.channels },
    latentDim: positiveInt('latentDim', merged.latentDim),
    filters: [...filters],
    kernelSize: positiveInt('kernelSize', merged.kernelSize),
    normalization: oneOf('normalization', merged.normalization, VAE_NORMALIZATIONS),
    activation: oneOf('activation', merged.activation, VAE_ACTIVATIONS),
    reconstruction: oneOf('reconstruction', merged.reconstruction, VAE_RECONSTRUCTIONS),
    beta: merged.beta,
    klWarmupSteps: nonNegative('klWarmupSteps', merged.klWarmupSteps, true),
    learningRate: merged.learningRate,
    adamBeta1: unitInterval('adamBeta1', merged.adamBeta1),
    adamBeta2: unitInterval('adamBeta2', merged.adamBeta2),
    seed: nonNegative('seed', merged.seed, true),
  };
}
