import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, silentLogger } from '@gensynth/core';
import {
  bernoulliElbo,
  bernoulliLogLikelihood,
  bernoulliLogLikelihoodWithLogits,
  bceWithLogits,
  gaussianLogLikelihood,
  klBatchMean,
  klPerSample,
  klStandardNormal,
  normalKl,
} from './losses';

type Case = Record<string, unknown> & { id: string };
const vectors = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../../vectors/vae_vectors.json'), 'utf8'),
) as { cases: Case[] };

function byId(id: string): Case {
  const found = vectors.cases.find((c) => c.id === id);
  if (!found) throw new Error(`vae_vectors.json has no case ${id}`);
  return found;
}

const t2 = (v: unknown) => tf.tensor2d(v as number[][]);
const t1 = (v: unknown) => tf.tensor1d(v as number[]);

/** float32 results against float64 references: relative 1e-5 with an absolute floor. */
function expectClose(actual: tf.Tensor, expected: number | number[] | number[][], rtol = 1e-5) {
  const a = Array.from(actual.dataSync());
  const e = [expected].flat(2) as number[];
  expect(a).toHaveLength(e.length);
  a.forEach((value, i) => {
    const want = e[i] as number;
    expect(Math.abs(value - want)).toBeLessThanOrEqual(rtol * Math.abs(want) + 1e-6);
  });
}

beforeAll(async () => {
  await initBackend({ force: 'cpu', logger: silentLogger });
});

describe('KL(N(mu, sigma^2) || N(0, 1))', () => {
  it.each(['kl_analytic_1x4', 'kl_random_3x4'])('matches the vectors of %s', (id) => {
    const c = byId(id);
    tf.tidy(() => {
      const mu = t2(c.mu);
      const logvar = t2(c.logvar);
      expectClose(klStandardNormal(mu, logvar), c.kl_per_element as number[][]);
      expectClose(klPerSample(mu, logvar), c.kl_per_sample_sum as number[]);
      expectClose(klBatchMean(mu, logvar), c.kl_batch_mean_of_sums as number);
    });
  });

  it('stays finite and accurate for extreme log-variances', () => {
    const c = byId('kl_extreme_logvar');
    tf.tidy(() => {
      const kl = klStandardNormal(t2(c.mu), t2(c.logvar));
      expectClose(kl, c.kl_per_element as number[][]);
    });
  });

  it('is zero for the prior itself (hand value)', () => {
    tf.tidy(() => expectClose(klBatchMean(tf.zeros([2, 3]), tf.zeros([2, 3])), 0));
  });
});

describe('normalKl', () => {
  it('matches the general diagonal-Gaussian vectors', () => {
    const c = byId('normal_kl_general_3');
    tf.tidy(() => {
      const kl = normalKl(t1(c.mean1), t1(c.logvar1), t1(c.mean2), t1(c.logvar2));
      expectClose(kl, c.kl_per_element as number[]);
    });
  });
});

describe('Bernoulli log-likelihoods', () => {
  it('matches the probabilities case, grey levels included', () => {
    const c = byId('bernoulli_probs_1x6');
    tf.tidy(() => {
      const ll = bernoulliLogLikelihood(t2(c.x), t2(c.p));
      expectClose(ll, c.log_likelihood_per_element as number[][]);
      expectClose(tf.sum(ll), c.log_likelihood_sum as number);
    });
  });

  it('matches the logits case and BCE-with-logits sums and means', () => {
    const c = byId('bernoulli_logits_2x5');
    tf.tidy(() => {
      const x = t2(c.x);
      const logits = t2(c.logits);
      const ll = bernoulliLogLikelihoodWithLogits(x, logits);
      expectClose(ll, c.log_likelihood_per_element as number[][]);
      expectClose(tf.sum(ll, 1), c.log_likelihood_per_sample_sum as number[]);
      expectClose(tf.sum(bceWithLogits(x, logits)), c.bce_with_logits_sum as number);
      expectClose(tf.mean(bceWithLogits(x, logits)), c.bce_with_logits_mean as number);
    });
  });

  it('stays finite for logits of +-50 where log(sigmoid) would overflow', () => {
    const c = byId('bernoulli_logits_extreme');
    tf.tidy(() => {
      const ll = bernoulliLogLikelihoodWithLogits(t2(c.x), t2(c.logits));
      expect(Array.from(ll.dataSync()).every(Number.isFinite)).toBe(true);
      expectClose(ll, c.log_likelihood_per_element as number[][]);
      expectClose(tf.sum(bceWithLogits(t2(c.x), t2(c.logits))), c.bce_with_logits_sum as number);
    });
  });
});

describe('gaussianLogLikelihood', () => {
  it('matches the vectors with a learned log-variance', () => {
    const c = byId('gaussian_2x4');
    tf.tidy(() => {
      const ll = gaussianLogLikelihood(t2(c.x), t2(c.mu), t2(c.logvar));
      expectClose(ll, c.log_likelihood_per_element as number[][]);
      expectClose(tf.sum(ll, 1), c.log_likelihood_per_sample_sum as number[]);
    });
  });

  it('matches the unit-variance vectors when logvar is left out', () => {
    const c = byId('gaussian_2x4');
    const unit = c.unit_variance as Record<string, number[] | number[][]>;
    tf.tidy(() => {
      const ll = gaussianLogLikelihood(t2(c.x), t2(c.mu));
      expectClose(ll, unit.log_likelihood_per_element as number[][]);
      expectClose(tf.sum(ll, 1), unit.log_likelihood_per_sample_sum as number[]);
    });
  });
});

describe('bernoulliElbo', () => {
  it('matches the worked ELBO example', () => {
    const c = byId('elbo_bernoulli_example');
    tf.tidy(() => {
      const terms = bernoulliElbo(t2(c.x), t2(c.decoder_logits), t2(c.mu), t2(c.logvar));
      expectClose(terms.reconstructionLogLikelihood, c.reconstruction_log_likelihood as number[]);
      expectClose(terms.kl, c.kl as number[]);
      expectClose(terms.elbo, c.elbo as number[]);
    });
  });

  it('leaves no tensors behind except its three results', () => {
    const c = byId('elbo_bernoulli_example');
    const inputs = [t2(c.x), t2(c.decoder_logits), t2(c.mu), t2(c.logvar)] as const;
    const before = tf.memory().numTensors;
    const terms = bernoulliElbo(...inputs);
    expect(tf.memory().numTensors - before).toBe(3);
    tf.dispose([terms, ...inputs]);
  });
});
