/**
 * DCGAN as a gensynth `GenerativeModel`.
 *
 * One `trainStep` = one discriminator update, then one generator update, on the same latents:
 *   1. z ~ N(0, I) [B, Z], seeded by deriveSeed(context.seed, 0).
 *   2. x_fake = G(z) outside any gradient tape (no G gradients are built for D's update).
 *   3. D update: L_D = D terms(D(x_real), D(x_fake)) [+ λ·GP] [+ R1]. Real and fake images go
 *      through D in two separate calls, so a batch-norm D normalises each with its own
 *      statistics (as the PyTorch DCGAN example does).
 *   4. G update: x_fake = G(z) again, now on the tape; L_G = G loss(D(x_fake)) with the updated D.
 *   5. With `emaDecay` > 0: θ_ema = decay·θ_ema + (1 - decay)·θ_G (Karras et al. 2018,
 *      arXiv:1710.10196, appendix A.1); batch-norm moving statistics are copied from G.
 * Every random draw depends only on `context.seed`, so replaying a step after a resume gives the
 * same losses. G and D both run in training mode inside a step; `sample` runs G in inference
 * mode (batch-norm moving statistics), so a sample does not depend on the other samples.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  GensynthError,
  deriveSeed,
  describeValue,
  invalidArgument,
  tfRandomSeed,
  warnOnce,
  type Batch,
  type GenerativeModel,
  type ImageShape,
  type ModelConfig,
  type SampleOptions,
  type StepContext,
} from '@gensynth/core';
import { ganLosses, gradientPenalty, r1Penalty } from './losses';
import { buildDiscriminator, buildGenerator } from './networks';
import { createOptimizer } from './optimizers';
import {
  resolveDCGANConfig,
  usesInputGradients,
  type DCGANConfig,
  type DCGANOptions,
} from './options';

/** Streams of `deriveSeed(context.seed, stream)` inside a step. */
const STREAM_LATENTS = 0;
const STREAM_INTERPOLATION = 1;

/** A DCGAN: the `GenerativeModel` contract with typed networks and optimizers. */
export interface DCGAN extends GenerativeModel<DCGANConfig> {
  /** `ema` is present when `config.emaDecay > 0`. */
  networks(): { generator: tfl.LayersModel; discriminator: tfl.LayersModel; ema?: tfl.LayersModel };
  optimizers(): { generator: tf.Optimizer; discriminator: tf.Optimizer };
}

function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * Apply `grads` in the fixed order of `variables`. tfjs optimizers match their slots to
 * gradients by position, so every step must present the same variables in the same order; a
 * variable without a gradient gets zeros instead of being left out.
 */
function applyInOrder(
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  grads: tf.NamedTensorMap,
): void {
  const ordered: tf.NamedTensorMap = {};
  for (const v of variables) ordered[v.name] = grads[v.name] ?? tf.zerosLike(v);
  optimizer.applyGradients(ordered);
}

class DCGANModel implements DCGAN {
  readonly config: DCGANConfig;
  readonly imageShape: ImageShape;
  private readonly generator: tfl.LayersModel;
  private readonly discriminator: tfl.LayersModel;
  private readonly ema: tfl.LayersModel | undefined;
  private readonly generatorOptimizer: tf.Optimizer;
  private readonly discriminatorOptimizer: tf.Optimizer;
  private disposed = false;

  constructor(config: DCGANConfig) {
    this.config = deepFreeze(config);
    this.imageShape = this.config.imageShape;
    this.generator = buildGenerator(config);
    // Same seeds, so the average starts equal to G.
    this.ema = config.emaDecay > 0 ? buildGenerator(config) : undefined;
    this.discriminator = buildDiscriminator(config, usesInputGradients(config));
    this.generatorOptimizer = createOptimizer(config.generatorOptimizer);
    this.discriminatorOptimizer = createOptimizer(config.discriminatorOptimizer);
  }

  trainStep(batch: Batch, context: StepContext): Record<string, tf.Scalar> {
    this.assertLive('trainStep');
    this.checkBatch(batch);
    const { config, generator: G, discriminator: D } = this;
    const objective = ganLosses[config.loss];
    const realImages = batch.images; // [B, H, W, C]
    const batchSize = realImages.shape[0];
    const seedOf = (stream: number) => deriveSeed(context.seed, stream);
    const critic = (x: tf.Tensor) => D.apply(x, { training: true }) as tf.Tensor;
    const gradientPenaltyOn = config.loss === 'wgan-gp' && config.gradientPenaltyWeight > 0;

    return tf.tidy(() => {
      const out: Record<string, tf.Scalar> = {};
      const latents = tf.randomNormal(
        [batchSize, config.latentDim],
        0,
        1,
        'float32',
        seedOf(STREAM_LATENTS),
      ); // [B, Z]

      // 1. Discriminator update, G frozen.
      const fakeImages = G.apply(latents, { training: true }) as tf.Tensor4D; // [B, H, W, C]
      const dVariables = trainableVariables(D);
      const dStep = tf.variableGrads(() => {
        const realLogits = critic(realImages); // [B, 1]
        const fakeLogits = critic(fakeImages); // [B, 1]
        const terms = objective.discriminator(realLogits, fakeLogits);
        out['d/real'] = tf.keep(tf.mean(realLogits));
        out['d/fake'] = tf.keep(tf.mean(fakeLogits));
        let loss: tf.Scalar = tf.add(terms.real, terms.fake);
        if (gradientPenaltyOn) {
          const alpha = tf.randomUniform(
            [batchSize, 1, 1, 1],
            0,
            1,
            'float32',
            seedOf(STREAM_INTERPOLATION),
          );
          const penalty = gradientPenalty(critic, realImages, fakeImages, alpha);
          out['loss/gp'] = tf.keep(penalty);
          loss = tf.add(loss, tf.mul(config.gradientPenaltyWeight, penalty));
        }
        if (config.r1Gamma > 0) {
          const penalty = r1Penalty(critic, realImages, config.r1Gamma);
          out['loss/r1'] = tf.keep(penalty);
          loss = tf.add(loss, penalty);
        }
        return loss;
      }, dVariables);
      applyInOrder(this.discriminatorOptimizer, dVariables, dStep.grads);
      if (config.loss === 'wgan') {
        // Weight clipping keeps the critic (roughly) Lipschitz (Arjovsky et al. 2017, Alg. 1).
        const c = config.wganClipValue;
        for (const v of dVariables) v.assign(tf.clipByValue(v, -c, c));
      }
      out['loss/d'] = dStep.value;

      // 2. Generator update against the updated D.
      const gVariables = trainableVariables(G);
      const gStep = tf.variableGrads(() => {
        const images = G.apply(latents, { training: true }) as tf.Tensor4D; // [B, H, W, C]
        return objective.generator(critic(images));
      }, gVariables);
      applyInOrder(this.generatorOptimizer, gVariables, gStep.grads);
      out['loss/g'] = gStep.value;

      // 3. Moving average of G: trainable weights decay toward G's, batch-norm statistics copy.
      if (this.ema) {
        const decay = config.emaDecay;
        const live = G.weights;
        this.ema.weights.forEach((average, i) => {
          const current = live[i]!.read();
          average.write(
            average.trainable
              ? tf.add(tf.mul(average.read(), decay), tf.mul(current, 1 - decay))
              : current,
          );
        });
      }
      return out;
    });
  }

  sample(n: number, options: SampleOptions = {}): tf.Tensor4D {
    this.assertLive('sample');
    if (!Number.isInteger(n) || n < 1) {
      throw invalidArgument(
        'DCGAN.sample(n)',
        'a positive integer',
        n,
        'Pass how many images you want, e.g. 16.',
      );
    }
    const { latents, seed } = options;
    if (latents !== undefined) {
      const expected = [n, this.config.latentDim];
      if (
        latents.rank !== 2 ||
        latents.shape[0] !== n ||
        latents.shape[1] !== this.config.latentDim
      ) {
        throw new GensynthError('SHAPE_MISMATCH', {
          where: 'DCGAN.sample(options.latents)',
          expected: `shape ${describeValue(expected)} (n, latentDim)`,
          received: `shape ${describeValue(latents.shape)}`,
          fix: `Pass n latents of length ${this.config.latentDim}, or pass a seed instead.`,
        });
      }
    }
    if (options.labels !== undefined) {
      warnOnce(
        'models-gan:dcgan-labels',
        'DCGAN.sample: the DCGAN is unconditional; labels are ignored.',
      );
    }
    return tf.tidy(() => {
      const z =
        latents ?? tf.randomNormal([n, this.config.latentDim], 0, 1, 'float32', tfRandomSeed(seed)); // [n, Z]
      const generator = this.ema ?? this.generator;
      return generator.apply(z, { training: false }) as tf.Tensor4D; // [n, H, W, C]
    });
  }

  networks() {
    this.assertLive('networks');
    const { generator, discriminator, ema } = this;
    return ema ? { generator, discriminator, ema } : { generator, discriminator };
  }

  optimizers() {
    this.assertLive('optimizers');
    return { generator: this.generatorOptimizer, discriminator: this.discriminatorOptimizer };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.generator.dispose();
    this.discriminator.dispose();
    this.ema?.dispose();
    this.generatorOptimizer.dispose();
    this.discriminatorOptimizer.dispose();
  }

  private assertLive(method: string): void {
    if (this.disposed) {
      throw new GensynthError('INVALID_ARGUMENT', {
        where: `DCGAN.${method}`,
        expected: 'a model that has not been disposed',
        received: 'a disposed model',
        fix: 'Create a new model (createGanFromConfig(model.config)) and load its weights.',
      });
    }
  }

  private checkBatch(batch: Batch): void {
    const images = batch?.images;
    const { height, width, channels } = this.imageShape;
    const ok =
      images instanceof tf.Tensor &&
      images.rank === 4 &&
      images.shape[0] >= 1 &&
      images.shape[1] === height &&
      images.shape[2] === width &&
      images.shape[3] === channels;
    if (!ok) {
      throw new GensynthError('SHAPE_MISMATCH', {
        where: 'DCGAN.trainStep(batch.images)',
        expected: `a float32 tensor of shape [B, ${height}, ${width}, ${channels}] in [-1, 1]`,
        received:
          images instanceof tf.Tensor
            ? `shape ${describeValue(images.shape)}`
            : describeValue(images),
        fix: `Resize the dataset to ${height}x${width} with ${channels} channel(s), or create the model with imageShape matching the data.`,
      });
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Create a DCGAN. `options.imageShape` is required (square, power-of-two side >= 8); every
 * other option defaults to `DCGAN_DEFAULTS`. Throws INVALID_ARGUMENT naming the bad field.
 */
export function createDCGAN(options: DCGANOptions): DCGAN {
  return new DCGANModel(resolveDCGANConfig(options, 'createDCGAN'));
}

/**
 * Rebuild a GAN from a stored `model.config` (e.g. from a checkpoint). The result has the same
 * architecture and the same initial weights; load saved weights into its networks after.
 */
export function createGanFromConfig(config: ModelConfig): DCGAN {
  if (config?.family !== 'gan' || config.architecture !== 'dcgan') {
    throw new GensynthError('INVALID_CONFIG', {
      where: 'createGanFromConfig(config)',
      expected: "a config with family 'gan' and architecture 'dcgan'",
      received: `family ${describeValue(config?.family)}, architecture ${describeValue(config?.architecture)}`,
      fix: 'Pass the `config` of a model made by createDCGAN, or use the factory of the other family.',
    });
  }
  return new DCGANModel(
    resolveDCGANConfig(config as unknown as DCGANOptions, 'createGanFromConfig'),
  );
}
