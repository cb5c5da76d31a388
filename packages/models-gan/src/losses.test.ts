import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, silentLogger } from '@gensynth/core';
import {
  ganLosses,
  gradientPenalty,
  hingeDLoss,
  hingeDTerms,
  hingeGLoss,
  lsganDLoss,
  lsganDTerms,
  lsganGLoss,
  minimaxGLoss,
  nonSaturatingDLoss,
  nonSaturatingDTerms,
  nonSaturatingGLoss,
  r1Penalty,
  wganDLoss,
  wganGLoss,
  type Critic,
} from './losses';
import { twiceDifferentiableLeakyRelu } from './networks';

// Reference values: vectors/gan_loss_vectors.json (float64, made with NumPy; see its meta).
const vectors = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../../vectors/gan_loss_vectors.json'), 'utf8'),
);
const { losses, penalties } = vectors;

beforeAll(async () => {
  await initBackend({ force: 'cpu', logger: silentLogger });
});

function value(t: tf.Tensor): number {
  const v = t.dataSync()[0] as number;
  t.dispose();
  return v;
}

/** float32 arithmetic against float64 references. */
function expectClose(actual: number, expected: number, rel = 1e-5): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));
}

describe('GAN losses against the reference vectors', () => {
  let real: tf.Tensor1D;
  let fake: tf.Tensor1D;
  beforeAll(() => {
    real = tf.tensor1d(vectors.real_logits);
    fake = tf.tensor1d(vectors.fake_logits);
  });
  afterAll(() => {
    real.dispose();
    fake.dispose();
  });

  it('computes the non-saturating D terms and G loss, stable at logits of ±30 and -45', () => {
    const ref = losses.non_saturating;
    const terms = nonSaturatingDTerms(real, fake);
    expectClose(value(terms.real), ref.d_loss_real);
    expectClose(value(terms.fake), ref.d_loss_fake);
    expectClose(value(nonSaturatingDLoss(real, fake)), ref.d_loss);
    expectClose(value(nonSaturatingGLoss(fake)), ref.g_loss);
  });

  it('computes the minimax G loss as -mean softplus(fake logits)', () => {
    expectClose(value(minimaxGLoss(fake)), losses.minimax_saturating.g_loss);
  });

  it('computes the hinge losses', () => {
    const ref = losses.hinge;
    const terms = hingeDTerms(real, fake);
    expectClose(value(terms.real), ref.d_loss_real);
    expectClose(value(terms.fake), ref.d_loss_fake);
    expectClose(value(hingeDLoss(real, fake)), ref.d_loss);
    expectClose(value(hingeGLoss(fake)), ref.g_loss);
  });

  it('computes the Wasserstein critic and generator losses', () => {
    expectClose(value(wganDLoss(real, fake)), losses.wgan.d_loss);
    expectClose(value(wganGLoss(fake)), losses.wgan.g_loss);
  });

  it('computes LSGAN with the paper targets (0, 1, 1) and (-1, 1, 0)', () => {
    expectClose(value(lsganDLoss(real, fake)), losses.lsgan_paper_0_1_1.d_loss);
    expectClose(value(lsganGLoss(fake)), losses.lsgan_paper_0_1_1.g_loss);
    const alt = { a: -1, b: 1, c: 0 };
    expectClose(value(lsganDLoss(real, fake, alt)), losses.lsgan_paper_minus1_1_0.d_loss);
    expectClose(value(lsganGLoss(fake, alt)), losses.lsgan_paper_minus1_1_0.g_loss);
  });

  it('computes LSGAN in the mean-squared-error convention', () => {
    const ref = losses.lsgan_mse_convention;
    const terms = lsganDTerms(real, fake);
    // The paper's terms carry a 1/2; the MSE convention's terms do not.
    expectClose(2 * value(terms.real), ref.d_loss_real_mse);
    expectClose(2 * value(terms.fake), ref.d_loss_fake_mse);
    expectClose(value(lsganDLoss(real, fake)), ref.d_loss_cyclegan_style);
    expectClose(value(lsganGLoss(fake, { a: 0, b: 1, c: 1 }, 'mse')), ref.g_loss_mse);
  });

  it('exposes every objective by name with matching functions', () => {
    const terms = ganLosses.hinge.discriminator(real, fake);
    expectClose(value(terms.real) + value(terms.fake), losses.hinge.d_loss);
    expectClose(value(ganLosses.minimax.generator(fake)), losses.minimax_saturating.g_loss);
    expectClose(value(ganLosses.lsgan.generator(fake)), losses.lsgan_paper_0_1_1.g_loss);
    expect(Object.keys(ganLosses).sort()).toEqual(
      ['hinge', 'lsgan', 'minimax', 'non-saturating', 'wgan', 'wgan-gp'].sort(),
    );
  });

  it('keeps gradients finite at extreme logits', () => {
    const extreme = tf.tensor1d([200, -200, 80, -80]);
    const grad = tf.grad((x: tf.Tensor) => nonSaturatingDLoss(x, x))(extreme);
    expect(Array.from(grad.dataSync()).every(Number.isFinite)).toBe(true);
    extreme.dispose();
    grad.dispose();
  });
});

describe('gradient penalties with the analytic critic D(x) = v . tanh(Wx + b) + c', () => {
  const { critic: spec } = penalties;
  let W: tf.Tensor2D;
  let b: tf.Tensor1D;
  let v: tf.Tensor2D;
  let xReal: tf.Tensor2D;
  let xFake: tf.Tensor2D;
  let alpha: tf.Tensor2D;
  const critic: Critic = (x) =>
    tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x as tf.Tensor2D, W, false, true), b)), v), spec.c);

  beforeAll(() => {
    W = tf.tensor2d(spec.W); // [5, 6]
    b = tf.tensor1d(spec.b);
    v = tf.tensor2d(spec.v, [5, 1]);
    xReal = tf.tensor2d(penalties.x_real); // [4, 6]
    xFake = tf.tensor2d(penalties.x_fake);
    alpha = tf.tensor2d(penalties.alpha, [4, 1]);
  });
  afterAll(() => tf.dispose([W, b, v, xReal, xFake, alpha]));

  it('reproduces the critic outputs the vectors were made with', () => {
    const out = critic(xReal);
    Array.from(out.dataSync()).forEach((d, i) => expectClose(d, penalties.D_real[i]));
    out.dispose();
  });

  it('computes the WGAN-GP penalty and the full critic loss', () => {
    const ref = penalties.wgan_gp;
    const gp = value(gradientPenalty(critic, xReal, xFake, alpha));
    expectClose(gp, ref.gradient_penalty);
    const total = tf.tidy(() => tf.add(wganDLoss(critic(xReal), critic(xFake)), gp * ref.lambda));
    expectClose(value(total), ref.d_loss_total);
  });

  it('computes R1 with gamma 10 as the batch mean of gamma/2 * squared gradient norms', () => {
    expectClose(value(r1Penalty(critic, xReal, 10)), penalties.r1.loss_Dr1_mean);
  });

  it('matches the linear-critic closed forms', () => {
    const lin = penalties.linear_critic_check;
    const w = tf.tensor2d(lin.w, [6, 1]);
    const linear: Critic = (x) => tf.add(tf.matMul(x as tf.Tensor2D, w), 0.3);
    expectClose(value(gradientPenalty(linear, xReal, xFake, alpha)), lin.gradient_penalty);
    expectClose(value(r1Penalty(linear, xReal, 10)), lin.r1_gamma10_mean);
    w.dispose();
  });

  it.each([
    ['leakyRelu', (h: tf.Tensor) => twiceDifferentiableLeakyRelu(h, 0.2)],
    ['softplus', (h: tf.Tensor) => tf.softplus(h)],
  ])('differentiates both penalties with respect to the weights of a %s critic', (_, act) => {
    // Second derivatives checked against central differences in float32. tanh is not used here:
    // tfjs 4.22 returns wrong second derivatives through ops whose gradient reuses their output.
    const Wv = tf.variable(W.clone());
    const crit: Critic = (x) =>
      tf.matMul(act(tf.add(tf.matMul(x as tf.Tensor2D, Wv, false, true), b)), v);
    const penalty = () =>
      tf.add(gradientPenalty(crit, xReal, xFake, alpha), r1Penalty(crit, xReal, 10)) as tf.Scalar;
    const { value: loss, grads } = tf.variableGrads(penalty, [Wv]);
    const analytic = grads[Wv.name]!.dataSync();
    const base = W.dataSync();
    const eps = 1e-3;
    for (const idx of [0, 7, 19, 29]) {
      const at = (delta: number) => {
        const p = Float32Array.from(base);
        p[idx] = (p[idx] as number) + delta;
        tf.tidy(() => Wv.assign(tf.tensor2d(p, [5, 6])));
        return value(penalty());
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      expect(Math.abs((analytic[idx] as number) - numeric)).toBeLessThan(
        1e-2 * Math.max(1, Math.abs(numeric)),
      );
    }
    tf.dispose([loss, Wv, ...Object.values(grads)]);
  });
});
