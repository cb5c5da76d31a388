/**
 * Options of the diffusion model: one options object, defaults in one frozen constant, and a
 * validator that names the bad field and the allowed values.
 */
import { describeValue, invalidArgument, type ImageShape } from '@gensynth/core';
import {
  BETA_SCHEDULES,
  TIMESTEP_SPACINGS,
  type BetaSchedule,
  type TimestepSpacing,
} from './schedule';
import { PREDICTION_TYPES, type PredictionType } from './schedulers';

export type SamplerName = 'ddpm' | 'ddim';
export const SAMPLERS: readonly SamplerName[] = Object.freeze(['ddpm', 'ddim']);

export interface DiffusionOptions {
  /** One image's shape; height and width multiples of `2 ** (blockOutChannels.length − 1)`. */
  imageShape: ImageShape;
  /** UNet channels per resolution level, e.g. `[32, 64]`. */
  blockOutChannels?: number[];
  /** UNet ResNet blocks per level. */
  layersPerBlock?: number;
  /** GroupNorm groups; must divide every entry of `blockOutChannels`. */
  normNumGroups?: number;
  /** One self-attention block at the lowest resolution. */
  attention?: boolean;
  /** Diffusion steps T of training. */
  numTrainTimesteps?: number;
  /**
   * `linear` (DDPM), `scaled_linear` (latent diffusion) or `squaredcos_cap_v2` (the cosine
   * schedule of Improved DDPM).
   */
  betaSchedule?: BetaSchedule;
  betaStart?: number;
  betaEnd?: number;
  /** Training target: noise `epsilon` (DDPM), velocity `v_prediction`, or clean `sample`. */
  predictionType?: PredictionType;
  /** Sampler `sample()` uses. */
  sampler?: SamplerName;
  /** Denoising steps of `sample()`. */
  numInferenceSteps?: number;
  /** DDIM η (0: deterministic). Ignored by DDPM. */
  eta?: number;
  /** How the sampler spaces its timesteps (diffusers' `timestep_spacing`). */
  timestepSpacing?: TimestepSpacing;
  /** Clamp x̂_0 to [−1, 1] while sampling. */
  clipSample?: boolean;
  /**
   * Decay of an exponential moving average of the UNet weights (0 turns it off). The average is
   * the `ema` network, and `sample()` uses it. Warmed up as diffusers' EMAModel does:
   * `min(emaDecay, (1 + step) / (10 + step))`.
   */
  emaDecay?: number;
  /** Adam learning rate. */
  learningRate?: number;
  adamBeta1?: number;
  adamBeta2?: number;
  /** Seed of the weight initialisation and the default sampling seed. */
  seed?: number;
}

export type ResolvedDiffusionOptions = Required<DiffusionOptions>;

/** JSON config of a diffusion model, as stored in checkpoints. */
export type DiffusionConfig = { family: 'diffusion' } & ResolvedDiffusionOptions;

export const DEFAULT_DIFFUSION_OPTIONS = Object.freeze({
  blockOutChannels: Object.freeze([32, 64]) as readonly number[],
  layersPerBlock: 1,
  normNumGroups: 8,
  attention: true,
  numTrainTimesteps: 1000,
  betaSchedule: 'linear' as BetaSchedule,
  betaStart: 0.0001,
  betaEnd: 0.02,
  predictionType: 'epsilon' as PredictionType,
  sampler: 'ddim' as SamplerName,
  numInferenceSteps: 50,
  eta: 0,
  timestepSpacing: 'leading' as TimestepSpacing,
  clipSample: true,
  emaDecay: 0,
  learningRate: 2e-4,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  seed: 0,
});

const WHERE = 'createDiffusionModel';

function fail(field: string, expected: string, value: unknown, fix: string): never {
  throw invalidArgument(`${WHERE}(options.${field})`, expected, describeValue(value), fix);
}

function oneOf<T>(field: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    fail(
      field,
      `one of ${allowed.map((a) => `'${String(a)}'`).join(', ')}`,
      value,
      `Set ${field} to one of the allowed values.`,
    );
  }
  return value as T;
}

function integer(field: string, value: unknown, min: number): number {
  if (!Number.isInteger(value) || (value as number) < min) {
    fail(field, `an integer >= ${min}`, value, `Pass a whole number >= ${min} for ${field}.`);
  }
  return value as number;
}

function number(
  field: string,
  value: unknown,
  test: (v: number) => boolean,
  expected: string,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !test(value)) {
    fail(field, expected, value, `Pass ${expected} for ${field}.`);
  }
  return value;
}

function boolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    fail(field, 'true or false', value, `Pass a boolean for ${field}.`);
  return value as boolean;
}

/** Fill in defaults and validate; throws `INVALID_ARGUMENT` naming the field. */
export function resolveDiffusionOptions(options: DiffusionOptions): ResolvedDiffusionOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument(
      WHERE,
      'an options object',
      describeValue(options),
      'Pass { imageShape: { height, width, channels } }.',
    );
  }
  const known = ['imageShape', ...Object.keys(DEFAULT_DIFFUSION_OPTIONS)];
  for (const key of Object.keys(options)) {
    if (key !== 'family' && !known.includes(key)) {
      fail(
        key,
        `one of the options ${known.join(', ')}`,
        key,
        'Remove the unknown option or fix its spelling.',
      );
    }
  }
  const merged = { ...DEFAULT_DIFFUSION_OPTIONS, ...options };

  const widths = merged.blockOutChannels;
  if (!Array.isArray(widths) || widths.length === 0) {
    fail(
      'blockOutChannels',
      'a non-empty array of positive integers',
      widths,
      'Pass e.g. [32, 64].',
    );
  }
  widths.forEach((w, i) => integer(`blockOutChannels[${i}]`, w, 1));
  const groups = integer('normNumGroups', merged.normNumGroups, 1);
  if (widths.some((w) => w % groups !== 0)) {
    fail(
      'normNumGroups',
      `a divisor of every blockOutChannels entry (${widths.join(', ')})`,
      groups,
      'Use e.g. 8 with channels that are multiples of 8.',
    );
  }

  const factor = 2 ** (widths.length - 1);
  const shape = merged.imageShape as ImageShape | undefined;
  const shapeOk =
    typeof shape === 'object' &&
    shape !== null &&
    [1, 3, 4].includes(shape.channels) &&
    [shape.height, shape.width].every(
      (s) => Number.isInteger(s) && s >= factor && s % factor === 0,
    );
  if (!shapeOk) {
    fail(
      'imageShape',
      `{ height, width, channels } with channels 1, 3 or 4 and height, width multiples of 2 ** (blockOutChannels.length - 1) = ${factor}`,
      shape,
      'Resize the images or use fewer blockOutChannels (each level halves the resolution).',
    );
  }

  const numTrainTimesteps = integer('numTrainTimesteps', merged.numTrainTimesteps, 2);
  const betaStart = number(
    'betaStart',
    merged.betaStart,
    (v) => v > 0 && v < 1,
    'a number in (0, 1)',
  );
  const betaEnd = number(
    'betaEnd',
    merged.betaEnd,
    (v) => v >= betaStart && v < 1,
    'a number in [betaStart, 1)',
  );
  const numInferenceSteps = integer('numInferenceSteps', merged.numInferenceSteps, 1);
  if (numInferenceSteps > numTrainTimesteps) {
    fail(
      'numInferenceSteps',
      `at most numTrainTimesteps = ${numTrainTimesteps}`,
      numInferenceSteps,
      'Use fewer inference steps.',
    );
  }
  return {
    imageShape: { height: shape.height, width: shape.width, channels: shape.channels },
    blockOutChannels: [...widths],
    layersPerBlock: integer('layersPerBlock', merged.layersPerBlock, 1),
    normNumGroups: groups,
    attention: boolean('attention', merged.attention),
    numTrainTimesteps,
    betaSchedule: oneOf('betaSchedule', merged.betaSchedule, BETA_SCHEDULES),
    betaStart,
    betaEnd,
    predictionType: oneOf('predictionType', merged.predictionType, PREDICTION_TYPES),
    sampler: oneOf('sampler', merged.sampler, SAMPLERS),
    numInferenceSteps,
    eta: number('eta', merged.eta, (v) => v >= 0, 'a number >= 0'),
    timestepSpacing: oneOf('timestepSpacing', merged.timestepSpacing, TIMESTEP_SPACINGS),
    clipSample: boolean('clipSample', merged.clipSample),
    emaDecay: number('emaDecay', merged.emaDecay, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
    learningRate: number('learningRate', merged.learningRate, (v) => v > 0, 'a number > 0'),
    adamBeta1: number('adamBeta1', merged.adamBeta1, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
    adamBeta2: number('adamBeta2', merged.adamBeta2, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
    seed: integer('seed', merged.seed, 0),
  };
}
