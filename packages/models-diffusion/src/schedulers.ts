/**
 * DDPM and DDIM samplers with diffusers' interface: `setTimesteps(n)`, then for each `t` of
 * `timesteps`: `step(modelOutput, t, sample)`.
 *
 * Papers: DDPM, Ho et al. 2020, arXiv:2006.11239; DDIM, Song et al. 2021, arXiv:2010.02502.
 *
 * Notation (code name -> paper symbol; see also schedule.ts):
 *   sample                   x_t, the current noisy images
 *   modelOutput              ε_θ(x_t, t), v, or x̂_0 depending on `predictionType`
 *   predOriginalSample       x̂_0, the model's estimate of the clean images
 *   predEpsilon              ε̂, the implied noise
 *   alphaProdT, alphaProdTPrev   ᾱ_t and ᾱ_{t_prev} (DDIM's α_t and α_{t−1})
 *   variance                 σ_t² of the step
 *   eta                      η of DDIM eq. 16 (0: deterministic DDIM, 1: DDPM-like)
 *
 * Coefficients are computed in float64 and enter the tensors as float32 scalars.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '@gensynth/core';
import {
  inferenceTimesteps,
  makeNoiseSchedule,
  resolveScheduleOptions,
  TIMESTEP_SPACINGS,
  type NoiseSchedule,
  type ScheduleOptions,
  type TimestepSpacing,
} from './schedule';

export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export const PREDICTION_TYPES: readonly PredictionType[] = Object.freeze([
  'epsilon',
  'v_prediction',
  'sample',
]);

export interface SchedulerOptions extends ScheduleOptions {
  /** What the model predicts: the noise ε, the velocity v (Salimans & Ho 2022) or x_0. */
  predictionType?: PredictionType;
  /** Clamp x̂_0 to [−clipSampleRange, clipSampleRange] before each step. */
  clipSample?: boolean;
  clipSampleRange?: number;
  /** How `setTimesteps` spaces the inference steps (diffusers' `timestep_spacing`). */
  timestepSpacing?: TimestepSpacing;
  /** Added to `leading` timesteps (diffusers' `steps_offset`). */
  stepsOffset?: number;
}

export const DEFAULT_SCHEDULER_OPTIONS = Object.freeze({
  numTrainTimesteps: 1000,
  betaSchedule: 'linear' as const,
  betaStart: 0.0001,
  betaEnd: 0.02,
  predictionType: 'epsilon' as PredictionType,
  clipSample: true,
  clipSampleRange: 1,
  timestepSpacing: 'leading' as TimestepSpacing,
  stepsOffset: 0,
});

export type ResolvedSchedulerOptions = Required<SchedulerOptions>;

/** Result of one scheduler step; the caller owns (and disposes) both tensors. */
export type SchedulerStepOutput = {
  /** x_{t_prev}: `[B, H, W, C]`. */
  prevSample: tf.Tensor4D;
  /** x̂_0: `[B, H, W, C]`. */
  predOriginalSample: tf.Tensor4D;
};

export interface StepOptions {
  /** Seed of the step's noise z (DDPM at t > 0, DDIM with η > 0). */
  seed?: number;
  /** Explicit noise z `[B, H, W, C]` instead of a seeded draw. */
  noise?: tf.Tensor4D;
}

function resolveSchedulerOptions(
  where: string,
  options: SchedulerOptions,
): ResolvedSchedulerOptions {
  const merged = { ...DEFAULT_SCHEDULER_OPTIONS, ...options };
  resolveScheduleOptions(merged);
  if (!PREDICTION_TYPES.includes(merged.predictionType)) {
    throw invalidArgument(
      `${where}(options.predictionType)`,
      `one of ${PREDICTION_TYPES.map((p) => `'${p}'`).join(', ')}`,
      JSON.stringify(merged.predictionType),
      "Use diffusers' names, e.g. 'epsilon' or 'v_prediction'.",
    );
  }
  if (!TIMESTEP_SPACINGS.includes(merged.timestepSpacing)) {
    throw invalidArgument(
      `${where}(options.timestepSpacing)`,
      `one of ${TIMESTEP_SPACINGS.map((p) => `'${p}'`).join(', ')}`,
      JSON.stringify(merged.timestepSpacing),
      'Pick a spacing from that list.',
    );
  }
  return merged;
}

/** Shared parts of the DDPM and DDIM schedulers. */
abstract class Scheduler {
  readonly config: ResolvedSchedulerOptions;
  readonly schedule: NoiseSchedule;
  /** Inference timesteps, descending; set by `setTimesteps`. */
  timesteps: number[];
  numInferenceSteps: number;

  protected constructor(where: string, options: SchedulerOptions) {
    this.config = resolveSchedulerOptions(where, options);
    this.schedule = makeNoiseSchedule(this.config);
    this.numInferenceSteps = this.config.numTrainTimesteps;
    this.timesteps = inferenceTimesteps(this.numInferenceSteps, this.numInferenceSteps, 'leading');
  }

  /** Choose `numInferenceSteps` timesteps with `config.timestepSpacing`. */
  setTimesteps(numInferenceSteps: number): void {
    const { numTrainTimesteps, timestepSpacing, stepsOffset } = this.config;
    this.timesteps = inferenceTimesteps(
      numTrainTimesteps,
      numInferenceSteps,
      timestepSpacing,
      stepsOffset,
    );
    this.numInferenceSteps = numInferenceSteps;
  }

  /** The timestep after `t` in sampling order: `t − ⌊T / n⌋` (may be negative at the end). */
  previousTimestep(t: number): number {
    return t - Math.floor(this.config.numTrainTimesteps / this.numInferenceSteps);
  }

  /** ᾱ at `t`; 1 for t < 0 (DDIM's `set_alpha_to_one`, DDPM's `one`). */
  protected alphaProd(t: number): number {
    return t >= 0 ? (this.schedule.alphasCumprod[t] as number) : 1;
  }

  protected checkTimestep(where: string, t: number): void {
    if (!Number.isInteger(t) || t < 0 || t >= this.config.numTrainTimesteps) {
      throw invalidArgument(
        where,
        `an integer timestep in [0, ${this.config.numTrainTimesteps - 1}]`,
        t,
        'Pass one of scheduler.timesteps.',
      );
    }
  }

  /**
   * x̂_0 and ε̂ from the model output at `t`, with x̂_0 clipped when `clipSample`.
   * `sample`, `modelOutput`: `[B, H, W, C]`.
   */
  protected predictOriginal(modelOutput: tf.Tensor4D, t: number, sample: tf.Tensor4D) {
    const alphaProdT = this.alphaProd(t);
    const sqrtAlpha = Math.sqrt(alphaProdT);
    const sqrtBeta = Math.sqrt(1 - alphaProdT);
    let x0: tf.Tensor4D;
    if (this.config.predictionType === 'epsilon') {
      x0 = tf.div(tf.sub(sample, tf.mul(sqrtBeta, modelOutput)), sqrtAlpha); // DDIM eq. 9
    } else if (this.config.predictionType === 'sample') {
      x0 = modelOutput;
    } else {
      // x_0 = √ᾱ x_t − √(1−ᾱ) v
      x0 = tf.sub(tf.mul(sqrtAlpha, sample), tf.mul(sqrtBeta, modelOutput));
    }
    if (this.config.clipSample) {
      x0 = tf.clipByValue(x0, -this.config.clipSampleRange, this.config.clipSampleRange);
    }
    return x0;
  }

  /** Noise `[B, H, W, C]` for a step, from `options.noise` or `options.seed`. */
  protected stepNoise(shape: number[], options: StepOptions): tf.Tensor {
    if (options.noise !== undefined) return options.noise;
    return tf.randomNormal(shape, 0, 1, 'float32', options.seed);
  }

  /**
   * Forward process q(x_t | x_0) (DDPM eq. 4): `√ᾱ_t x_0 + √(1 − ᾱ_t) ε`, one timestep per image.
   * `original`, `noise`: `[B, H, W, C]`; `timesteps`: B integers. Returns `[B, H, W, C]`.
   */
  addNoise(original: tf.Tensor4D, noise: tf.Tensor4D, timesteps: readonly number[]): tf.Tensor4D {
    return tf.tidy(() => {
      const a = this.perImage(timesteps, this.schedule.sqrtAlphasCumprod); // [B, 1, 1, 1]
      const b = this.perImage(timesteps, this.schedule.sqrtOneMinusAlphasCumprod);
      return tf.add(tf.mul(a, original), tf.mul(b, noise)) as tf.Tensor4D; // eq. 4
    });
  }

  /** Velocity target v = √ᾱ_t ε − √(1 − ᾱ_t) x_0 (Salimans & Ho 2022), one timestep per image. */
  getVelocity(
    original: tf.Tensor4D,
    noise: tf.Tensor4D,
    timesteps: readonly number[],
  ): tf.Tensor4D {
    return tf.tidy(() => {
      const a = this.perImage(timesteps, this.schedule.sqrtAlphasCumprod);
      const b = this.perImage(timesteps, this.schedule.sqrtOneMinusAlphasCumprod);
      return tf.sub(tf.mul(a, noise), tf.mul(b, original)) as tf.Tensor4D;
    });
  }

  /** `values[t_i]` for each image i, as `[B, 1, 1, 1]` float32. */
  protected perImage(timesteps: readonly number[], values: Float64Array): tf.Tensor4D {
    timesteps.forEach((t) => this.checkTimestep('scheduler(timesteps)', t));
    return tf.tensor4d(
      timesteps.map((t) => values[t] as number),
      [timesteps.length, 1, 1, 1],
    );
  }
}

/**
 * Ancestral DDPM sampling (DDPM Algorithm 2) with the `fixed_small` variance β̃_t, on any subset
 * of timesteps (then β_t is recomputed from the ᾱ of the two timesteps, as diffusers does).
 */
export class DDPMScheduler extends Scheduler {
  constructor(options: SchedulerOptions = {}) {
    super('DDPMScheduler', options);
  }

  /** β̃ between `t` and its previous timestep, clamped to >= 1e-20 as in diffusers. */
  getVariance(t: number): number {
    const alphaProdT = this.alphaProd(t);
    const alphaProdTPrev = this.alphaProd(this.previousTimestep(t));
    const currentBetaT = 1 - alphaProdT / alphaProdTPrev;
    const variance = ((1 - alphaProdTPrev) / (1 - alphaProdT)) * currentBetaT; // eq. 7
    return Math.max(variance, 1e-20);
  }

  /**
   * x_t -> x_{t_prev}: posterior mean μ̃(x_t, x̂_0) (eq. 7) plus σ_t z for t > 0.
   * `modelOutput`, `sample`: `[B, H, W, C]`. The caller owns the outputs.
   */
  step(
    modelOutput: tf.Tensor4D,
    t: number,
    sample: tf.Tensor4D,
    options: StepOptions = {},
  ): SchedulerStepOutput {
    this.checkTimestep('DDPMScheduler.step(timestep)', t);
    const alphaProdT = this.alphaProd(t);
    const alphaProdTPrev = this.alphaProd(this.previousTimestep(t));
    const betaProdT = 1 - alphaProdT;
    const currentAlphaT = alphaProdT / alphaProdTPrev;
    const currentBetaT = 1 - currentAlphaT;

    // 1. coefficients of x̂_0 and x_t in the posterior mean μ̃_t
    const originalCoef = (Math.sqrt(alphaProdTPrev) * currentBetaT) / betaProdT; // eq. 7
    const sampleCoef = (Math.sqrt(currentAlphaT) * (1 - alphaProdTPrev)) / betaProdT; // eq. 7
    return tf.tidy(() => {
      // 2. predicted x̂_0 (DDPM eq. 15), optionally clipped
      const predOriginalSample = this.predictOriginal(modelOutput, t, sample);

      // 3. posterior mean μ̃_t(x_t, x̂_0) (eq. 7)
      let prevSample = tf.add(tf.mul(originalCoef, predOriginalSample), tf.mul(sampleCoef, sample));

      // 4. add σ_t z, z ~ N(0, I), except at the last step (Algorithm 2, line 3)
      if (t > 0) {
        const noise = this.stepNoise(sample.shape, options);
        prevSample = tf.add(prevSample, tf.mul(Math.sqrt(this.getVariance(t)), noise));
      }
      return { prevSample: prevSample as tf.Tensor4D, predOriginalSample };
    });
  }
}

/** Options of `DDIMScheduler.step`. */
export interface DDIMStepOptions extends StepOptions {
  /** η of DDIM eq. 16: 0 is deterministic DDIM, 1 matches DDPM's variance. */
  eta?: number;
}

/** DDIM sampling (Song et al. 2021, eq. 12 with σ_t(η) of eq. 16). */
export class DDIMScheduler extends Scheduler {
  constructor(options: SchedulerOptions = {}) {
    super('DDIMScheduler', options);
  }

  /** σ_t² / η² = (1 − ᾱ_prev)/(1 − ᾱ_t) · (1 − ᾱ_t/ᾱ_prev) (eq. 16 squared). */
  getVariance(t: number, prevT: number): number {
    const alphaProdT = this.alphaProd(t);
    const alphaProdTPrev = this.alphaProd(prevT);
    return ((1 - alphaProdTPrev) / (1 - alphaProdT)) * (1 - alphaProdT / alphaProdTPrev); // eq. 16
  }

  /**
   * x_t -> x_{t_prev}: `√ᾱ_prev x̂_0 + √(1 − ᾱ_prev − σ_t²) ε̂ + σ_t z` (eq. 12).
   * `modelOutput`, `sample`: `[B, H, W, C]`. The caller owns the outputs.
   */
  step(
    modelOutput: tf.Tensor4D,
    t: number,
    sample: tf.Tensor4D,
    options: DDIMStepOptions = {},
  ): SchedulerStepOutput {
    this.checkTimestep('DDIMScheduler.step(timestep)', t);
    const eta = options.eta ?? 0;
    if (!(eta >= 0)) {
      throw invalidArgument(
        'DDIMScheduler.step(options.eta)',
        'a number >= 0',
        eta,
        'Pass 0 for DDIM or 1 for DDPM-like noise.',
      );
    }
    const prevT = this.previousTimestep(t);
    const alphaProdTPrev = this.alphaProd(prevT);
    const stdDevT = eta * Math.sqrt(this.getVariance(t, prevT)); // eq. 16
    return tf.tidy(() => {
      // 1. predicted x_0 ("predicted x_0" term of eq. 12), optionally clipped
      const predOriginalSample = this.predictOriginal(modelOutput, t, sample);

      // 2. ε̂ from the unclipped model output (diffusers' use_clipped_model_output = False)
      const predEpsilon = this.predictEpsilon(modelOutput, t, sample);

      // 3. direction pointing to x_t, then x_{t_prev} (eq. 12)
      const direction = tf.mul(
        Math.sqrt(Math.max(1 - alphaProdTPrev - stdDevT ** 2, 0)),
        predEpsilon,
      );
      let prevSample = tf.add(tf.mul(Math.sqrt(alphaProdTPrev), predOriginalSample), direction);
      if (eta > 0) {
        prevSample = tf.add(prevSample, tf.mul(stdDevT, this.stepNoise(sample.shape, options)));
      }
      return { prevSample: prevSample as tf.Tensor4D, predOriginalSample };
    });
  }

  private predictEpsilon(modelOutput: tf.Tensor4D, t: number, sample: tf.Tensor4D): tf.Tensor {
    const alphaProdT = this.alphaProd(t);
    const type = this.config.predictionType;
    if (type === 'epsilon') return modelOutput;
    if (type === 'v_prediction') {
      // ε = √ᾱ v + √(1 − ᾱ) x_t
      return tf.add(
        tf.mul(Math.sqrt(alphaProdT), modelOutput),
        tf.mul(Math.sqrt(1 - alphaProdT), sample),
      );
    }
    // ε = (x_t − √ᾱ x̂_0) / √(1 − ᾱ) with the unclipped x̂_0
    return tf.div(
      tf.sub(sample, tf.mul(Math.sqrt(alphaProdT), modelOutput)),
      Math.sqrt(1 - alphaProdT),
    );
  }
}
