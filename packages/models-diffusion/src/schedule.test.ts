import * as fs from 'node:fs';
import * as path from 'node:path';
import { isGensynthError } from '@gensynth/core';
import { inferenceTimesteps, makeBetas, makeNoiseSchedule, type NoiseSchedule } from './schedule';

const VECTORS = path.join(__dirname, '../../../vectors');
const read = (name: string) => JSON.parse(fs.readFileSync(path.join(VECTORS, name), 'utf8'));
const float64 = read('diffusion_schedule_vectors.json');
const float32 = read('diffusers_schedules_float32.json');

/** Vector key -> our schedule's array. */
const FIELDS: Record<string, keyof NoiseSchedule> = {
  beta: 'betas',
  alpha: 'alphas',
  alphas_cumprod: 'alphasCumprod',
  sqrt_alphas_cumprod: 'sqrtAlphasCumprod',
  sqrt_one_minus_alphas_cumprod: 'sqrtOneMinusAlphasCumprod',
  posterior_variance: 'posteriorVariance',
  posterior_log_variance_clipped: 'posteriorLogVarianceClipped',
  posterior_mean_coef1: 'posteriorMeanCoef1',
  posterior_mean_coef2: 'posteriorMeanCoef2',
  snr: 'snr',
};

const SCHEDULES = {
  linear: makeNoiseSchedule({ betaSchedule: 'linear' }),
  cosine: makeNoiseSchedule({ betaSchedule: 'squaredcos_cap_v2' }),
};

function relErr(actual: number, expected: number): number {
  return expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
}

describe.each(['linear', 'cosine'] as const)('the %s schedule in float64', (name) => {
  const ref = float64.schedules[name];
  const ours = SCHEDULES[name];

  it('reproduces the full betas and alphas_cumprod arrays', () => {
    expect(ours.betas).toHaveLength(ref.T);
    const betaErr = Math.max(
      ...ref.full_betas.map((b: number, t: number) => relErr(ours.betas[t]!, b)),
    );
    const acErr = Math.max(
      ...ref.full_alphas_cumprod.map((a: number, t: number) => relErr(ours.alphasCumprod[t]!, a)),
    );
    // Cosine betas are 1 - (ratio of cosines): a last-ulp difference between V8's Math.cos and
    // C's cos grows by 1/beta (up to ~2.5e4), so they get a looser bound than linear ones.
    expect(betaErr).toBeLessThan(name === 'linear' ? 1e-15 : 1e-11);
    expect(acErr).toBeLessThan(1e-12);
  });

  it('matches every named array at the sampled timesteps', () => {
    for (const [t, values] of Object.entries(ref.values_at_t) as [
      string,
      Record<string, number>,
    ][]) {
      for (const [key, expected] of Object.entries(values)) {
        const field = FIELDS[key];
        if (!field) throw new Error(`no mapping for vector key ${key}`);
        const array = ours[field] as Float64Array;
        expect(relErr(array[Number(t)]!, expected)).toBeLessThan(1e-12);
      }
    }
    for (const [t, expected] of Object.entries(ref.posterior_variance_at_t) as [string, number][]) {
      expect(relErr(ours.posteriorVariance[Number(t)]!, expected)).toBeLessThan(1e-12);
    }
  });

  it('agrees with the checks block (sum of betas, clipping at max beta)', () => {
    const sum = ours.betas.reduce((a, b) => a + b, 0);
    expect(relErr(sum, ref.checks.sum_betas)).toBeLessThan(1e-13);
    const clipped = ours.betas.filter((b) => b === ref.checks.max_beta).length;
    expect(clipped).toBe(name === 'cosine' ? ref.checks.num_betas_clipped_at_max_beta : clipped);
    expect(Math.max(...ours.betas)).toBe(ref.checks.max_beta);
  });

  it("stays within float32 rounding of diffusers' stored tensors", () => {
    const f32 = float32.schedules_float32[name];
    // diffusers computes in float32: expect its error bound (from the file) plus float32 rounding.
    const betaTol = f32.max_rel_diff_betas_vs_float64 + 6e-8;
    const acTol = f32.max_rel_diff_alphas_cumprod_vs_float64 + 6e-8;
    f32.full_betas_float32.forEach((b: number, t: number) => {
      expect(relErr(ours.betas[t]!, b)).toBeLessThanOrEqual(betaTol);
    });
    f32.full_alphas_cumprod_float32.forEach((a: number, t: number) => {
      expect(relErr(ours.alphasCumprod[t]!, a)).toBeLessThanOrEqual(acTol);
    });
    for (const [t, v] of Object.entries(f32.ddpm_get_variance_fixed_small_at_t) as [
      string,
      number,
    ][]) {
      if (t === '0') continue; // diffusers clamps 0 to 1e-20; see the scheduler tests
      expect(relErr(ours.posteriorVariance[Number(t)]!, v)).toBeLessThan(
        f32['max_rel_diff_posterior_variance_t>=1_vs_float64'] + 1e-6,
      );
    }
  });
});

describe('scaled_linear betas', () => {
  it('are linear in sqrt(beta) between betaStart and betaEnd (hand values)', () => {
    const betas = makeBetas({
      betaSchedule: 'scaled_linear',
      numTrainTimesteps: 3,
      betaStart: 0.01,
      betaEnd: 0.09,
    });
    // sqrt: 0.1, 0.2, 0.3 -> 0.01, 0.04, 0.09
    expect(betas[0]).toBeCloseTo(0.01, 15);
    expect(betas[1]).toBeCloseTo(0.04, 15);
    expect(betas[2]).toBeCloseTo(0.09, 15);
  });
});

describe('inferenceTimesteps', () => {
  const ref = float64.ddim_timesteps_T1000;
  it.each(['50', '10'])('matches leading, trailing and linspace spacing for %s steps', (n) => {
    const steps = Number(n);
    expect(inferenceTimesteps(1000, steps, 'leading', 0)).toEqual(ref[n].leading_steps_offset_0);
    expect(inferenceTimesteps(1000, steps, 'leading', 1)).toEqual(ref[n].leading_steps_offset_1);
    expect(inferenceTimesteps(1000, steps, 'trailing')).toEqual(ref[n].trailing);
    expect(inferenceTimesteps(1000, steps, 'linspace')).toEqual(ref[n].linspace);
  });

  it('matches what diffusers itself returned for 50 steps', () => {
    const d = float32.ddim_timesteps_50;
    expect(inferenceTimesteps(1000, 50, 'leading')).toEqual(d.leading_steps_offset_0.diffusers);
    expect(inferenceTimesteps(1000, 50, 'trailing')).toEqual(d.trailing.diffusers);
    expect(inferenceTimesteps(1000, 50, 'linspace')).toEqual(d.linspace.diffusers);
  });

  it('rejects more inference steps than training steps', () => {
    expect(() => inferenceTimesteps(10, 11)).toThrow(
      'inferenceTimesteps(numInferenceSteps): expected an integer in [1, numTrainTimesteps = 10]; received 11',
    );
  });
});

describe('schedule options', () => {
  it('names the field and the allowed values of a bad betaSchedule', () => {
    let error: unknown;
    try {
      makeBetas({ betaSchedule: 'cosine' as never });
    } catch (e) {
      error = e;
    }
    expect(isGensynthError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain(
      "options.betaSchedule): expected one of 'linear', 'scaled_linear', 'squaredcos_cap_v2'; received \"cosine\"",
    );
  });
});
