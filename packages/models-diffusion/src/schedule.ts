/**
 * Noise schedules of denoising diffusion, computed in float64.
 *
 * Papers: DDPM, Ho, Jain & Abbeel 2020, arXiv:2006.11239; Improved DDPM, Nichol & Dhariwal 2021,
 * arXiv:2102.09672 (cosine schedule); DDIM, Song, Meng & Ermon 2021, arXiv:2010.02502.
 * Names and semantics of `betaSchedule` and `timestepSpacing` follow diffusers.
 *
 * Notation (code name -> paper symbol; t is 0-based, t = 0 is the first noising step):
 *   betas[t]                       β_t
 *   alphas[t]                      α_t = 1 − β_t
 *   alphasCumprod[t]               ᾱ_t = Π_{s<=t} α_s         (DDPM; DDIM writes it α_t)
 *   alphasCumprodPrev[t]           ᾱ_{t−1}, with ᾱ_{−1} = 1
 *   sqrtAlphasCumprod[t]           √ᾱ_t
 *   sqrtOneMinusAlphasCumprod[t]   √(1 − ᾱ_t)
 *   posteriorVariance[t]           β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t
 *   posteriorMeanCoef1/2[t]        the two coefficients of μ̃_t(x_t, x_0)
 */
import { invalidArgument } from '@gensynth/core';

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export const BETA_SCHEDULES: readonly BetaSchedule[] = Object.freeze([
  'linear',
  'scaled_linear',
  'squaredcos_cap_v2',
]);

export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';
export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = Object.freeze([
  'leading',
  'trailing',
  'linspace',
]);

export interface ScheduleOptions {
  /** Number of diffusion steps T used in training. */
  numTrainTimesteps?: number;
  betaSchedule?: BetaSchedule;
  /** β_0 of the `linear` and `scaled_linear` schedules. */
  betaStart?: number;
  /** β_{T−1} of the `linear` and `scaled_linear` schedules. */
  betaEnd?: number;
}

export const DEFAULT_SCHEDULE_OPTIONS = Object.freeze({
  numTrainTimesteps: 1000,
  betaSchedule: 'linear' as BetaSchedule,
  betaStart: 0.0001,
  betaEnd: 0.02,
});

/** Largest β of the cosine schedule (Improved DDPM clips at 0.999 to avoid a singularity). */
const COSINE_MAX_BETA = 0.999;
/** Offset s of the cosine schedule (Improved DDPM eq. 17). */
const COSINE_OFFSET = 0.008; // 1 + s = 1.008 below

/** `n` evenly spaced float64 numbers from `start` to `end`, both included (numpy.linspace). */
export function linspace(start: number, end: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const step = (end - start) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  out[n - 1] = end;
  return out;
}

/** β_t for t = 0..T−1 in float64. */
export function makeBetas(options: ScheduleOptions = {}): Float64Array {
  const {
    numTrainTimesteps: T,
    betaSchedule,
    betaStart,
    betaEnd,
  } = resolveScheduleOptions(options);
  if (betaSchedule === 'linear') return linspace(betaStart, betaEnd, T); // DDPM §4
  if (betaSchedule === 'scaled_linear') {
    // linear in √β (latent diffusion's schedule)
    return linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), T).map((b) => b * b);
  }
  // Same operation order as improved-diffusion, so the float64 values agree to the last bit.
  const alphaBar = (u: number) => Math.cos((((u + COSINE_OFFSET) / 1.008) * Math.PI) / 2) ** 2;
  const betas = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    // Improved DDPM eq. 17: β_t = 1 − ᾱ(t+1)/ᾱ(t), clipped at 0.999
    betas[i] = Math.min(1 - alphaBar((i + 1) / T) / alphaBar(i / T), COSINE_MAX_BETA);
  }
  return betas;
}

/** Every float64 array of a schedule, named after its formula (see the notation block). */
export interface NoiseSchedule {
  readonly numTrainTimesteps: number;
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  readonly alphasCumprod: Float64Array;
  readonly alphasCumprodPrev: Float64Array;
  readonly sqrtAlphasCumprod: Float64Array;
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  /** β̃_t; exactly 0 at t = 0. */
  readonly posteriorVariance: Float64Array;
  /** log β̃_t with t = 0 replaced by t = 1 (improved-diffusion), finite everywhere. */
  readonly posteriorLogVarianceClipped: Float64Array;
  /** Coefficient of x_0 in μ̃_t: √ᾱ_{t−1} β_t / (1 − ᾱ_t). */
  readonly posteriorMeanCoef1: Float64Array;
  /** Coefficient of x_t in μ̃_t: √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t). */
  readonly posteriorMeanCoef2: Float64Array;
  /** Signal-to-noise ratio ᾱ_t / (1 − ᾱ_t). */
  readonly snr: Float64Array;
}

/** Build the schedule arrays from options (or from explicit betas). */
export function makeNoiseSchedule(
  options: ScheduleOptions = {},
  betas = makeBetas(options),
): NoiseSchedule {
  const T = betas.length;
  const map = (f: (t: number) => number) => Float64Array.from({ length: T }, (_, t) => f(t));
  const alphas = map((t) => 1 - (betas[t] as number));
  const alphasCumprod = new Float64Array(T);
  let product = 1;
  for (let t = 0; t < T; t++) {
    product *= alphas[t] as number;
    alphasCumprod[t] = product; // ᾱ_t = Π α_s, DDPM eq. 4 notation
  }
  const ac = (t: number) => alphasCumprod[t] as number;
  const alphasCumprodPrev = map((t) => (t === 0 ? 1 : ac(t - 1)));
  const acPrev = (t: number) => alphasCumprodPrev[t] as number;
  const beta = (t: number) => betas[t] as number;
  const posteriorVariance = map((t) => (beta(t) * (1 - acPrev(t))) / (1 - ac(t))); // eq. 7
  const posteriorLogVarianceClipped = map((t) =>
    Math.log((T > 1 && t === 0 ? posteriorVariance[1] : posteriorVariance[t]) as number),
  );
  return {
    numTrainTimesteps: T,
    betas,
    alphas,
    alphasCumprod,
    alphasCumprodPrev,
    sqrtAlphasCumprod: map((t) => Math.sqrt(ac(t))),
    sqrtOneMinusAlphasCumprod: map((t) => Math.sqrt(1 - ac(t))),
    posteriorVariance,
    posteriorLogVarianceClipped,
    posteriorMeanCoef1: map((t) => (beta(t) * Math.sqrt(acPrev(t))) / (1 - ac(t))), // eq. 7
    posteriorMeanCoef2: map(
      (t) => ((1 - acPrev(t)) * Math.sqrt(alphas[t] as number)) / (1 - ac(t)),
    ), // eq. 7
    snr: map((t) => ac(t) / (1 - ac(t))),
  };
}

/** numpy's round: halves go to the nearest even integer. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Inference timesteps in descending order, as diffusers' `set_timesteps` spaces them.
 * `leading`: `k · ⌊T/n⌋ + stepsOffset`; `trailing`: `round(T − k · T/n) − 1`;
 * `linspace`: `round(linspace(0, T − 1, n))`.
 */
export function inferenceTimesteps(
  numTrainTimesteps: number,
  numInferenceSteps: number,
  spacing: TimestepSpacing = 'leading',
  stepsOffset = 0,
): number[] {
  const T = numTrainTimesteps;
  const n = numInferenceSteps;
  if (!Number.isInteger(n) || n < 1 || n > T) {
    throw invalidArgument(
      'inferenceTimesteps(numInferenceSteps)',
      `an integer in [1, numTrainTimesteps = ${T}]`,
      n,
      'Pass fewer inference steps, or train with more timesteps.',
    );
  }
  if (spacing === 'leading') {
    const ratio = Math.floor(T / n);
    return Array.from({ length: n }, (_, k) => (n - 1 - k) * ratio + stepsOffset);
  }
  if (spacing === 'trailing') {
    const ratio = T / n;
    return Array.from({ length: n }, (_, k) => roundHalfEven(T - k * ratio) - 1);
  }
  if (spacing === 'linspace') {
    return Array.from(linspace(0, T - 1, n), roundHalfEven).reverse();
  }
  throw invalidArgument(
    'inferenceTimesteps(spacing)',
    `one of ${TIMESTEP_SPACINGS.map((s) => `'${s}'`).join(', ')}`,
    spacing,
    'Pick a spacing from that list.',
  );
}

/** Validate schedule options and fill in defaults; errors name the field and allowed values. */
export function resolveScheduleOptions(options: ScheduleOptions): Required<ScheduleOptions> {
  const merged = { ...DEFAULT_SCHEDULE_OPTIONS, ...options };
  if (!BETA_SCHEDULES.includes(merged.betaSchedule)) {
    throw invalidArgument(
      'noise schedule (options.betaSchedule)',
      `one of ${BETA_SCHEDULES.map((s) => `'${s}'`).join(', ')}`,
      JSON.stringify(merged.betaSchedule),
      "Use diffusers' schedule names, e.g. 'linear' or 'squaredcos_cap_v2' (cosine).",
    );
  }
  if (!Number.isInteger(merged.numTrainTimesteps) || merged.numTrainTimesteps < 2) {
    throw invalidArgument(
      'noise schedule (options.numTrainTimesteps)',
      'an integer >= 2',
      merged.numTrainTimesteps,
      'Pass e.g. 1000.',
    );
  }
  const { betaStart, betaEnd } = merged;
  if (!(betaStart > 0 && betaEnd < 1 && betaStart <= betaEnd)) {
    throw invalidArgument(
      'noise schedule (options.betaStart, options.betaEnd)',
      '0 < betaStart <= betaEnd < 1',
      `betaStart=${betaStart}, betaEnd=${betaEnd}`,
      'Pass e.g. betaStart 0.0001 and betaEnd 0.02.',
    );
  }
  return merged;
}
