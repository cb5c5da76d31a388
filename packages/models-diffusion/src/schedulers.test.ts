import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, silentLogger } from '@gensynth/core';
import { DDIMScheduler, DDPMScheduler, type PredictionType } from './schedulers';

const VECTORS = path.join(__dirname, '../../../vectors');
const read = (name: string) => JSON.parse(fs.readFileSync(path.join(VECTORS, name), 'utf8'));
const float64 = read('diffusion_schedule_vectors.json');
const float32 = read('diffusers_schedules_float32.json');

/** T = 4, betas 0.1, 0.2, 0.3, 0.4 -> alphasCumprod 0.9, 0.72, 0.504, 0.3024 (by hand). */
const TINY = { numTrainTimesteps: 4, betaStart: 0.1, betaEnd: 0.4, clipSample: false };

const full = (value: number) => tf.fill([1, 1, 1, 1], value) as tf.Tensor4D;
const value = (t: tf.Tensor) => t.dataSync()[0] as number;

beforeAll(async () => {
  await initBackend({ force: 'cpu', logger: silentLogger });
});

describe('DDPMScheduler', () => {
  it('has the hand-computed alphasCumprod of a 4-step schedule', () => {
    const s = new DDPMScheduler(TINY);
    [0.9, 0.72, 0.504, 0.3024].forEach((a, t) =>
      expect(s.schedule.alphasCumprod[t]).toBeCloseTo(a, 14),
    );
    expect(s.timesteps).toEqual([3, 2, 1, 0]);
  });

  it('steps t=1 -> 0 with the posterior mean and variance (hand values)', () => {
    const s = new DDPMScheduler({ ...TINY, predictionType: 'sample' });
    const out = s.step(full(0.5), 1, full(2), { noise: full(1) });
    // beta_1 = 0.2; coef1 = sqrt(0.9) 0.2 / 0.28; coef2 = sqrt(0.8) 0.1 / 0.28;
    // variance = 0.1 / 0.28 * 0.2
    const mean = (Math.sqrt(0.9) * 0.2 * 0.5) / 0.28 + (Math.sqrt(0.8) * 0.1 * 2) / 0.28;
    expect(value(out.prevSample)).toBeCloseTo(mean + Math.sqrt((0.1 / 0.28) * 0.2), 6);
    expect(value(out.predOriginalSample)).toBeCloseTo(0.5, 7);
    tf.dispose(out);
  });

  it('returns the predicted x_0 without noise at the last step', () => {
    const s = new DDPMScheduler(TINY);
    const out = s.step(full(0.3), 0, full(1), { seed: 1 });
    const x0 = (1 - Math.sqrt(0.1) * 0.3) / Math.sqrt(0.9); // epsilon parameterisation
    expect(value(out.prevSample)).toBeCloseTo(x0, 6);
    tf.dispose(out);
  });

  it('clips x_0 to [-1, 1] by default', () => {
    const s = new DDPMScheduler({ numTrainTimesteps: 4, betaStart: 0.1, betaEnd: 0.4 });
    const out = s.step(full(10), 0, full(1), { seed: 1 }); // x_0 = (1 - sqrt(0.1) 10) / sqrt(0.9)
    expect(value(out.predOriginalSample)).toBe(-1);
    tf.dispose(out);
  });

  it("matches diffusers' _get_variance values and its 1e-20 clamp", () => {
    const s = new DDPMScheduler();
    for (const c of float64.diffusers_unit_test_values.filter(
      (v: { scheduler: string }) => v.scheduler === 'DDPMScheduler',
    )) {
      const t = Number(/\((\d+)\)/.exec(c.call)![1]);
      const expected = t === 0 ? 1e-20 : c.float64_value;
      expect(Math.abs(s.getVariance(t) - expected)).toBeLessThanOrEqual(1e-12 * expected);
    }
    for (const [t, v] of Object.entries(float32.ddpm_get_variance) as [string, number][]) {
      // diffusers computes in float32: within the file's float32-vs-float64 bound (2.3e-4)
      expect(Math.abs(s.getVariance(Number(t)) - v) / v).toBeLessThan(3e-4);
    }
  });
});

describe('DDIMScheduler', () => {
  it('sets leading timesteps and steps back by T / n', () => {
    const s = new DDIMScheduler(TINY);
    s.setTimesteps(2);
    expect(s.timesteps).toEqual([2, 0]);
    expect(s.previousTimestep(2)).toBe(0);
  });

  it('takes a deterministic eta=0 step (hand values)', () => {
    const s = new DDIMScheduler(TINY);
    s.setTimesteps(2);
    const out = s.step(full(0.5), 2, full(1));
    const x0 = (1 - Math.sqrt(1 - 0.504) * 0.5) / Math.sqrt(0.504); // eq. 9
    const prev = Math.sqrt(0.9) * x0 + Math.sqrt(1 - 0.9) * 0.5; // eq. 12, sigma = 0
    expect(value(out.predOriginalSample)).toBeCloseTo(x0, 6);
    expect(value(out.prevSample)).toBeCloseTo(prev, 6);
    tf.dispose(out);
  });

  it('adds sigma_t z with eta = 1 (hand values)', () => {
    const s = new DDIMScheduler(TINY);
    s.setTimesteps(2);
    const out = s.step(full(0.5), 2, full(1), { eta: 1, noise: full(-1) });
    const variance = ((1 - 0.9) / (1 - 0.504)) * (1 - 0.504 / 0.9); // eq. 16
    const x0 = (1 - Math.sqrt(1 - 0.504) * 0.5) / Math.sqrt(0.504);
    const prev = Math.sqrt(0.9) * x0 + Math.sqrt(1 - 0.9 - variance) * 0.5 - Math.sqrt(variance);
    expect(value(out.prevSample)).toBeCloseTo(prev, 6);
    tf.dispose(out);
  });

  it.each(['epsilon', 'v_prediction', 'sample'] as PredictionType[])(
    'moves an exactly predicted x_t to x_prev on the same noise (%s)',
    (predictionType) => {
      const s = new DDIMScheduler({ predictionType, clipSample: false });
      s.setTimesteps(10);
      const [t, tPrev] = [500, 400];
      const [a, aPrev] = [s.schedule.alphasCumprod[t]!, s.schedule.alphasCumprod[tPrev]!];
      const x0 = tf.tensor4d([0.3, -0.7, 0.1, 0.9], [1, 2, 2, 1]);
      const eps = tf.tensor4d([1.2, 0.4, -0.5, -1.1], [1, 2, 2, 1]);
      const xt = s.addNoise(x0, eps, [t]);
      const target = { epsilon: eps, sample: x0, v_prediction: s.getVelocity(x0, eps, [t]) }[
        predictionType
      ];
      const out = s.step(target, t, xt);
      const expected = tf.add(tf.mul(Math.sqrt(aPrev), x0), tf.mul(Math.sqrt(1 - aPrev), eps));
      expect(Math.sqrt(a)).toBeGreaterThan(0);
      const diff = tf.max(tf.abs(tf.sub(out.prevSample, expected)));
      expect(value(diff)).toBeLessThan(1e-5);
      tf.dispose([x0, eps, xt, target, out, expected, diff]);
    },
  );

  it('matches the DDIM sigma^2 vectors of both schedules (50 leading steps, eta = 1)', () => {
    const linear = new DDIMScheduler();
    const cosine = new DDIMScheduler({ betaSchedule: 'squaredcos_cap_v2' });
    for (const c of float64.ddim_sigma2_eta1_50steps_leading) {
      for (const [s, expected] of [
        [linear, c.linear],
        [cosine, c.cosine],
      ] as [DDIMScheduler, number][]) {
        const got = s.getVariance(c.t, c.t_prev);
        expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-11 * Math.abs(expected) + 1e-18);
      }
    }
  });

  it("matches diffusers' DDIM _get_variance (float32) to float32 precision", () => {
    const s = new DDIMScheduler();
    for (const [key, v] of Object.entries(float32.ddim_get_variance) as [string, number][]) {
      const [t, prevT] = key.split(',').map(Number) as [number, number];
      expect(Math.abs(s.getVariance(t, prevT) - v)).toBeLessThanOrEqual(3e-4 * v);
    }
  });

  it('rejects a timestep outside the schedule', () => {
    const s = new DDIMScheduler(TINY);
    const x = full(0);
    expect(() => s.step(x, 4, x)).toThrow(
      'DDIMScheduler.step(timestep): expected an integer timestep in [0, 3]; received 4',
    );
    x.dispose();
  });
});
