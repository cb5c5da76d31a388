/**
 * GAN objectives and gradient regularisers, computed from raw discriminator outputs (logits).
 *
 * Notation: `realLogits` = D(x), `fakeLogits` = D(G(z)), both `[B]` or `[B, 1]` float32,
 * unbounded. σ is the logistic sigmoid; softplus(t) = log(1 + e^t), evaluated stably by tfjs.
 * Identities used: -log σ(t) = softplus(-t) and -log(1 - σ(t)) = softplus(t), so no loss here
 * ever takes log(sigmoid(...)), which overflows to -Infinity for logits beyond about ±17 in float32.
 *
 * Sources:
 * - non-saturating and minimax: Goodfellow et al. 2014, arXiv:1406.2661, eq. 1 and section 3.
 * - hinge: Lim & Ye 2017, arXiv:1705.02894; Miyato et al. 2018, arXiv:1802.05957.
 * - WGAN: Arjovsky et al. 2017, arXiv:1701.07875; WGAN-GP: Gulrajani et al. 2017,
 *   arXiv:1704.00028, Algorithm 1.
 * - LSGAN: Mao et al. 2017, arXiv:1611.04076, eq. 2 (targets a, b, c).
 * - R1: Mescheder, Geiger & Nowozin 2018, arXiv:1801.04406, eq. 9.
 *
 * Every discriminator loss is the sum of a term on real logits and a term on fake logits; both
 * are returned so a trainer can log them. All reductions are means over the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
// Loading tfjs-layers registers tfjs-core's gradient functions, which tf.grad needs.
import '@tensorflow/tfjs-layers';

/** The two parts of a discriminator loss; the loss is `real + fake`. */
export interface DiscriminatorLossTerms {
  real: tf.Scalar;
  fake: tf.Scalar;
}

/** One GAN objective: how D and G turn logits into losses to minimise. */
export interface GanObjective {
  readonly name: string;
  /** D's loss terms from `realLogits` `[B]` and `fakeLogits` `[B]` (any shape, same batch). */
  discriminator(realLogits: tf.Tensor, fakeLogits: tf.Tensor): DiscriminatorLossTerms;
  /** G's loss from D's logits on generated images `[B]`. */
  generator(fakeLogits: tf.Tensor): tf.Scalar;
}

/** Mean over every element, as a scalar. */
function mean(x: tf.Tensor): tf.Scalar {
  return tf.mean(x) as tf.Scalar;
}

function sumTerms(terms: DiscriminatorLossTerms): tf.Scalar {
  return tf.tidy(() => tf.add(terms.real, terms.fake));
}

// Non-saturating / minimax (Goodfellow et al. 2014).

/** Terms of D's binary cross-entropy: mean softplus(-D(x)) and mean softplus(D(G(z))). */
export function nonSaturatingDTerms(
  realLogits: tf.Tensor,
  fakeLogits: tf.Tensor,
): DiscriminatorLossTerms {
  return {
    real: tf.tidy(() => mean(tf.softplus(tf.neg(realLogits)))), // -E log σ(D(x))
    fake: tf.tidy(() => mean(tf.softplus(fakeLogits))), // -E log(1 - σ(D(G(z))))
  };
}

/** D loss of the standard GAN (the same for the non-saturating and the minimax G loss). */
export function nonSaturatingDLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => sumTerms(nonSaturatingDTerms(realLogits, fakeLogits)));
}

/** Non-saturating G loss: mean softplus(-D(G(z))) = -E log σ(D(G(z))). */
export function nonSaturatingGLoss(fakeLogits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => mean(tf.softplus(tf.neg(fakeLogits))));
}

/** Minimax (saturating) G loss: E log(1 - σ(D(G(z)))) = -mean softplus(D(G(z))). eq. 1 */
export function minimaxGLoss(fakeLogits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.neg(mean(tf.softplus(fakeLogits))));
}

// Hinge.

/** Terms of the hinge D loss: mean relu(1 - D(x)) and mean relu(1 + D(G(z))). */
export function hingeDTerms(realLogits: tf.Tensor, fakeLogits: tf.Tensor): DiscriminatorLossTerms {
  return {
    real: tf.tidy(() => mean(tf.relu(tf.sub(1, realLogits)))),
    fake: tf.tidy(() => mean(tf.relu(tf.add(1, fakeLogits)))),
  };
}

export function hingeDLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => sumTerms(hingeDTerms(realLogits, fakeLogits)));
}

/** G loss of the hinge and Wasserstein objectives: -mean D(G(z)). */
export function hingeGLoss(fakeLogits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.neg(mean(fakeLogits)));
}

// Wasserstein.

/** Terms of the critic loss: -mean D(x) and mean D(G(z)). */
export function wganDTerms(realLogits: tf.Tensor, fakeLogits: tf.Tensor): DiscriminatorLossTerms {
  return {
    real: tf.tidy(() => tf.neg(mean(realLogits))),
    fake: tf.tidy(() => mean(fakeLogits)),
  };
}

/** Critic loss: mean D(G(z)) - mean D(x). */
export function wganDLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => sumTerms(wganDTerms(realLogits, fakeLogits)));
}

export const wganGLoss = hingeGLoss;

// Least squares (Mao et al. 2017).

/**
 * LSGAN targets: D pushes fakes to `a` and reals to `b`; G pushes fakes to `c`. The paper's
 * choices are (a, b, c) = (0, 1, 1) and (-1, 1, 0).
 */
export interface LsganTargets {
  a: number;
  b: number;
  c: number;
}

export const LSGAN_DEFAULT_TARGETS: Readonly<LsganTargets> = Object.freeze({ a: 0, b: 1, c: 1 });

/** Terms of the LSGAN D loss: 1/2 mean (D(x) - b)^2 and 1/2 mean (D(G(z)) - a)^2. eq. 2 */
export function lsganDTerms(
  realLogits: tf.Tensor,
  fakeLogits: tf.Tensor,
  targets: LsganTargets = LSGAN_DEFAULT_TARGETS,
): DiscriminatorLossTerms {
  return {
    real: tf.tidy(() => tf.mul(0.5, mean(tf.square(tf.sub(realLogits, targets.b))))),
    fake: tf.tidy(() => tf.mul(0.5, mean(tf.square(tf.sub(fakeLogits, targets.a))))),
  };
}

export function lsganDLoss(
  realLogits: tf.Tensor,
  fakeLogits: tf.Tensor,
  targets: LsganTargets = LSGAN_DEFAULT_TARGETS,
): tf.Scalar {
  return tf.tidy(() => sumTerms(lsganDTerms(realLogits, fakeLogits, targets)));
}

/**
 * LSGAN G loss. `convention: 'paper'` (default) is eq. 2, 1/2 mean (D(G(z)) - c)^2;
 * `'mse'` drops the 1/2, as implementations built on a mean-squared-error loss do (their D loss
 * is 0.5 * (mse_real + mse_fake), which equals the paper's).
 */
export function lsganGLoss(
  fakeLogits: tf.Tensor,
  targets: LsganTargets = LSGAN_DEFAULT_TARGETS,
  convention: 'paper' | 'mse' = 'paper',
): tf.Scalar {
  const scale = convention === 'paper' ? 0.5 : 1;
  return tf.tidy(() => tf.mul(scale, mean(tf.square(tf.sub(fakeLogits, targets.c)))));
}

export type GanLossName = 'non-saturating' | 'minimax' | 'hinge' | 'wgan' | 'wgan-gp' | 'lsgan';

export const GAN_LOSS_NAMES: readonly GanLossName[] = Object.freeze([
  'non-saturating',
  'minimax',
  'hinge',
  'wgan',
  'wgan-gp',
  'lsgan',
]);

/** The objectives by name. `wgan-gp` shares WGAN's losses; its penalty is added separately. */
export const ganLosses: Readonly<Record<GanLossName, GanObjective>> = Object.freeze({
  'non-saturating': {
    name: 'non-saturating',
    discriminator: nonSaturatingDTerms,
    generator: nonSaturatingGLoss,
  },
  minimax: { name: 'minimax', discriminator: nonSaturatingDTerms, generator: minimaxGLoss },
  hinge: { name: 'hinge', discriminator: hingeDTerms, generator: hingeGLoss },
  wgan: { name: 'wgan', discriminator: wganDTerms, generator: wganGLoss },
  'wgan-gp': { name: 'wgan-gp', discriminator: wganDTerms, generator: wganGLoss },
  lsgan: {
    name: 'lsgan',
    discriminator: (r: tf.Tensor, f: tf.Tensor) => lsganDTerms(r, f),
    generator: (f: tf.Tensor) => lsganGLoss(f),
  },
});

// Gradient regularisers. Both differentiate the critic with respect to its input inside the
// caller's gradient tape, so minimising them needs second derivatives of every op in the critic.

/** A critic: `[B, ...]` inputs to `[B]` or `[B, 1]` outputs, each row depending on its own input. */
export type Critic = (inputs: tf.Tensor) => tf.Tensor;

function perSampleSquaredNorm(grads: tf.Tensor): tf.Tensor1D {
  const axes = grads.shape.map((_, i) => i).slice(1);
  return tf.sum(tf.square(grads), axes) as tf.Tensor1D; // [B]
}

function inputGradients(critic: Critic, inputs: tf.Tensor): tf.Tensor {
  // Rows are independent, so d(sum_i D(x_i))/dx_i = dD(x_i)/dx_i.
  return tf.grad((x: tf.Tensor) => tf.sum(critic(x)))(inputs);
}

/**
 * WGAN-GP penalty: mean_i (||∇x D(x̂_i)||_2 - 1)^2 with x̂ = x_real + α (x_fake - x_real).
 * `real`, `fake`: `[B, ...]`; `alpha`: broadcastable to them, e.g. `[B, 1, 1, 1]` in [0, 1].
 * Multiply by λ (10 in the paper) yourself. A 1e-12 under the square root keeps its
 * gradient finite when a gradient norm is exactly 0.
 */
export function gradientPenalty(
  critic: Critic,
  real: tf.Tensor,
  fake: tf.Tensor,
  alpha: tf.Tensor,
): tf.Scalar {
  return tf.tidy(() => {
    const interpolates = tf.add(real, tf.mul(alpha, tf.sub(fake, real))); // x̂, [B, ...]
    const grads = inputGradients(critic, interpolates);
    const norms = tf.sqrt(tf.add(perSampleSquaredNorm(grads), 1e-12)); // [B]
    return mean(tf.square(tf.sub(norms, 1)));
  });
}

/** R1: γ/2 · mean_i ||∇x D(x_i)||^2 over real inputs `[B, ...]`. eq. 9 */
export function r1Penalty(critic: Critic, real: tf.Tensor, gamma: number): tf.Scalar {
  return tf.tidy(() => {
    const grads = inputGradients(critic, real);
    return tf.mul(gamma / 2, mean(perSampleSquaredNorm(grads)));
  });
}
