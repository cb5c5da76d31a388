/**
 * VAE loss terms as standalone tensor functions.
 *
 * Kingma & Welling 2014, "Auto-Encoding Variational Bayes", arXiv:1312.6114.
 *
 * Notation (code name -> symbol):
 *   mu       μ         mean of the approximate posterior q(z|x) = N(μ, σ²)
 *   logvar   log σ²    log-variance of q(z|x)
 *   x        x         data, in the range the likelihood expects ([0, 1] for Bernoulli)
 *   logits   l         decoder logits of a Bernoulli likelihood, p = sigmoid(l)
 *   mean     μ_x       decoder mean of a Gaussian likelihood
 *
 * Every function works element-wise on tensors of equal shape (`[B, ...]`) unless its name says it
 * reduces. None of them disposes its inputs; each returns a new tensor the caller owns.
 */
import * as tf from '@tensorflow/tfjs-core';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * KL(N(μ, σ²) ‖ N(0, 1)) per latent dimension: `0.5 (μ² + σ² − 1 − log σ²)`.
 * `mu`, `logvar`: `[B, Z]` float32. Returns `[B, Z]`, each element >= 0.
 */
export function klStandardNormal(mu: tf.Tensor, logvar: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    // Appendix B: −KL = 0.5 Σ (1 + log σ² − μ² − σ²)
    tf.mul(0.5, tf.sub(tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), 1), logvar)),
  );
}

/** KL per sample: `klStandardNormal` summed over the latent axis. `[B, Z]` -> `[B]`. */
export function klPerSample(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(klStandardNormal(mu, logvar), 1) as tf.Tensor1D);
}

/** Batch mean of the per-sample KL sums. `[B, Z]` -> scalar. */
export function klBatchMean(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(klPerSample(mu, logvar)) as tf.Scalar);
}

/**
 * KL(N(mean1, e^logvar1) ‖ N(mean2, e^logvar2)) per element, for diagonal Gaussians:
 * `0.5 (−1 + logvar2 − logvar1 + e^(logvar1 − logvar2) + (mean1 − mean2)² e^(−logvar2))`.
 */
export function normalKl(
  mean1: tf.Tensor,
  logvar1: tf.Tensor,
  mean2: tf.Tensor,
  logvar2: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    const logRatio = tf.sub(logvar2, logvar1);
    const varRatio = tf.exp(tf.sub(logvar1, logvar2));
    const meanTerm = tf.mul(tf.square(tf.sub(mean1, mean2)), tf.exp(tf.neg(logvar2)));
    return tf.mul(0.5, tf.add(tf.add(tf.sub(logRatio, 1), varRatio), meanTerm));
  });
}

/**
 * Bernoulli log-likelihood from probabilities: `x log p + (1 − x) log(1 − p)` per element.
 * `x` may hold grey levels in [0, 1]; `probs` must lie strictly inside (0, 1) (no clipping, so
 * p = 0 or 1 gives −Infinity where the data disagrees). Prefer the logits form for training.
 */
export function bernoulliLogLikelihood(x: tf.Tensor, probs: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.add(tf.mul(x, tf.log(probs)), tf.mul(tf.sub(1, x), tf.log(tf.sub(1, probs)))),
  );
}

/**
 * Bernoulli log-likelihood from logits, in the stable form `x l − softplus(l)` per element
 * (equal to `x log σ(l) + (1 − x) log(1 − σ(l))` without overflow for large |l|).
 */
export function bernoulliLogLikelihoodWithLogits(x: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.mul(x, logits), tf.softplus(logits)));
}

/** Binary cross-entropy with logits per element: `−bernoulliLogLikelihoodWithLogits`. */
export function bceWithLogits(x: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.softplus(logits), tf.mul(x, logits)));
}

/**
 * Gaussian log-likelihood per element: `−0.5 (log 2π + logvar + (x − mean)² e^(−logvar))`.
 * Leave `logvar` out for unit variance.
 */
export function gaussianLogLikelihood(
  x: tf.Tensor,
  mean: tf.Tensor,
  logvar?: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    const squaredError = tf.square(tf.sub(x, mean));
    if (logvar === undefined) return tf.mul(-0.5, tf.add(squaredError, LOG_2PI));
    const scaled = tf.mul(squaredError, tf.exp(tf.neg(logvar)));
    return tf.mul(-0.5, tf.add(tf.add(logvar, LOG_2PI), scaled));
  });
}

/** Per-sample terms of the evidence lower bound. All `[B]`. */
export type ElboTerms = {
  /** `Σ log p(x|z)` over the data dimensions. */
  reconstructionLogLikelihood: tf.Tensor1D;
  /** `KL(q(z|x) ‖ p(z))` summed over the latent dimensions. */
  kl: tf.Tensor1D;
  /** `reconstructionLogLikelihood − beta · kl`; the training loss is `−elbo`. */
  elbo: tf.Tensor1D;
};

/**
 * ELBO with a Bernoulli decoder, one sample of z: `Σ_d [x l − softplus(l)] − β KL`.
 * `x`: `[B, D]` in [0, 1]; `decoderLogits`: `[B, D]`; `mu`, `logvar`: `[B, Z]`. Returns `[B]`
 * tensors the caller owns.
 */
export function bernoulliElbo(
  x: tf.Tensor2D,
  decoderLogits: tf.Tensor2D,
  mu: tf.Tensor2D,
  logvar: tf.Tensor2D,
  beta = 1,
): ElboTerms {
  return tf.tidy(() => {
    const reconstructionLogLikelihood = tf.sum(
      bernoulliLogLikelihoodWithLogits(x, decoderLogits),
      1,
    ) as tf.Tensor1D;
    const kl = klPerSample(mu, logvar);
    const elbo = tf.sub(reconstructionLogLikelihood, tf.mul(beta, kl)) as tf.Tensor1D;
    return { reconstructionLogLikelihood, kl, elbo };
  });
}
