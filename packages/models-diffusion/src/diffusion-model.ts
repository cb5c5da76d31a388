/**
 * A denoising diffusion model: DDPM training (Ho et al. 2020, arXiv:2006.11239, Algorithm 1) of a
 * small UNet, sampling with DDPM (Algorithm 2) or DDIM (Song et al. 2021, arXiv:2010.02502).
 *
 * Notation: images x_0; timesteps t ~ U{0, ..., T − 1}; noise ε ~ N(0, I);
 * noisyImages x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (eq. 4); the UNet predicts ε, v or x_0
 * (`predictionType`) and the loss is the mean squared error to that target (eq. 14, "simple").
 */
import * as tf from '@tensorflow/tfjs-core';
// Registers the gradient functions of tfjs-core's ops, in its ESM and CommonJS builds alike
// (tfjs-core's CommonJS bundle registers none itself).
import '@tensorflow/tfjs-layers';
import {
  checkImageBatch,
  checkLive,
  deriveSeed,
  describeValue,
  invalidArgument,
  Rng,
  type Batch,
  type GenerativeModel,
  type ImageShape,
  type SampleOptions,
  type StepContext,
  type WeightedNetwork,
  ReplayableAdamOptimizer,
} from '@gensynth/core';
import {
  resolveDiffusionOptions,
  type DiffusionConfig,
  type DiffusionOptions,
  type SamplerName,
} from './options';
import { DDIMScheduler, DDPMScheduler } from './schedulers';
import { UNet } from './unet';

/** Seed streams derived from `context.seed` (training) or the sampling seed. */
const STREAM_NOISE = 0;
const STREAM_TIMESTEPS = 1;
const STREAM_SAMPLE_INIT = 0;
const STREAM_SAMPLE_STEP = 1;

/** Options of `DiffusionModel.sample`, beyond core's `SampleOptions`. */
export interface DiffusionSampleOptions extends SampleOptions {
  /** Override the configured sampler. */
  sampler?: SamplerName;
  /** Override the configured number of denoising steps. */
  numInferenceSteps?: number;
  /** Override the configured DDIM η. */
  eta?: number;
  /** Sample with the EMA weights when the model keeps them (default true). */
  useEma?: boolean;
}

/** The scalars a diffusion training step reports. */
export type DiffusionLosses = {
  /** Mean squared error between the UNet output and its target. */
  'loss/diffusion': tf.Scalar;
};

/** A UNet denoiser trained with the DDPM objective. Create it with `createDiffusionModel`. */
export class DiffusionModel implements GenerativeModel<DiffusionConfig> {
  readonly config: DiffusionConfig;
  readonly imageShape: ImageShape;
  readonly unet: UNet;
  /** Moving average of `unet`'s weights when `emaDecay > 0`; `sample()` uses it. */
  readonly ema: UNet | null;
  readonly optimizer: tf.AdamOptimizer;
  /** The training-side noise schedule (forward process, `addNoise`, velocity targets). */
  readonly noiseScheduler: DDPMScheduler;
  private disposed = false;

  constructor(options: DiffusionOptions) {
    const resolved = resolveDiffusionOptions(options);
    this.config = { family: 'diffusion', ...resolved };
    this.imageShape = resolved.imageShape;
    this.noiseScheduler = new DDPMScheduler(this.schedulerOptions());
    const unetOptions = {
      channels: resolved.imageShape.channels,
      blockOutChannels: resolved.blockOutChannels,
      layersPerBlock: resolved.layersPerBlock,
      normNumGroups: resolved.normNumGroups,
      attention: resolved.attention,
      seed: resolved.seed,
    };
    this.unet = new UNet(unetOptions, 'unet');
    this.ema = resolved.emaDecay > 0 ? new UNet(unetOptions, 'ema') : null;
    this.optimizer = new ReplayableAdamOptimizer(
      resolved.learningRate,
      resolved.adamBeta1,
      resolved.adamBeta2,
    );
  }

  /**
   * The training loss of one batch, without updating weights. Timesteps and noise come from
   * `context.seed` only. `batch.images`: `[B, H, W, C]` in [-1, 1]. Returns a scalar.
   */
  computeLoss(batch: Batch, context: StepContext): tf.Scalar {
    const images = batch.images;
    checkImageBatch('DiffusionModel.computeLoss(batch.images)', images, this.imageShape);
    const batchSize = images.shape[0];
    const rng = Rng.fromSeed(deriveSeed(context.seed, STREAM_TIMESTEPS));
    const timesteps = Array.from({ length: batchSize }, () =>
      rng.nextInt(this.config.numTrainTimesteps),
    );
    return tf.tidy(() => {
      // Algorithm 1: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε
      const noise = tf.randomNormal(
        images.shape,
        0,
        1,
        'float32',
        deriveSeed(context.seed, STREAM_NOISE),
      ) as tf.Tensor4D;
      const noisyImages = this.noiseScheduler.addNoise(images, noise, timesteps); // eq. 4
      const timestepTensor = tf.tensor1d(timesteps, 'float32'); // [B]
      const prediction = this.unet.apply(noisyImages, timestepTensor); // [B, H, W, C]
      let target: tf.Tensor4D = noise;
      if (this.config.predictionType === 'v_prediction') {
        target = this.noiseScheduler.getVelocity(images, noise, timesteps);
      } else if (this.config.predictionType === 'sample') {
        target = images;
      }
      return tf.mean(tf.square(tf.sub(prediction, target))) as tf.Scalar; // eq. 14
    });
  }

  trainStep(batch: Batch, context: StepContext): DiffusionLosses {
    checkLive('DiffusionModel.trainStep', this.disposed);
    const loss = this.optimizer.minimize(
      () => this.computeLoss(batch, context),
      true,
      this.unet.trainableVariables(),
    ) as tf.Scalar;
    if (this.ema) this.updateEma(context.step);
    return { 'loss/diffusion': loss };
  }

  /** `ema ← d · ema + (1 − d) · unet` with `d = min(emaDecay, (1 + step) / (10 + step))`. */
  private updateEma(step: number): void {
    const ema = (this.ema as UNet).trainableVariables();
    const decay = Math.min(this.config.emaDecay, (1 + step) / (10 + step));
    tf.tidy(() => {
      this.unet.trainableVariables().forEach((weight, i) => {
        const average = ema[i] as tf.Variable;
        average.assign(tf.add(tf.mul(decay, average), tf.mul(1 - decay, weight)));
      });
    });
  }

  /**
   * Draw `n` images `[n, H, W, C]` in [-1, 1] by running the sampler from pure noise (seeded by
   * `options.seed`, default `config.seed`), or from `options.latents` (`[n, H·W·C]` noise).
   */
  sample(n: number, options: DiffusionSampleOptions = {}): tf.Tensor4D {
    checkLive('DiffusionModel.sample', this.disposed);
    if (!Number.isInteger(n) || n < 1) {
      throw invalidArgument(
        'DiffusionModel.sample(n)',
        'a positive integer',
        n,
        'Pass the number of images to draw.',
      );
    }
    const { height, width, channels } = this.imageShape;
    const size = height * width * channels;
    if (options.latents && (options.latents.shape[0] !== n || options.latents.shape[1] !== size)) {
      throw invalidArgument(
        'DiffusionModel.sample(options.latents)',
        `shape [${n}, ${size}] (initial noise, H·W·C per image)`,
        `shape [${options.latents.shape.join(', ')}]`,
        'Pass one row of N(0, 1) noise per image, or pass a seed instead.',
      );
    }
    const seed = options.seed ?? this.config.seed;
    const samplerName = options.sampler ?? this.config.sampler;
    const steps = options.numInferenceSteps ?? this.config.numInferenceSteps;
    const eta = options.eta ?? this.config.eta;
    const network = options.useEma === false ? this.unet : (this.ema ?? this.unet);
    const scheduler =
      samplerName === 'ddim'
        ? new DDIMScheduler(this.schedulerOptions())
        : new DDPMScheduler(this.schedulerOptions());
    scheduler.setTimesteps(steps);

    let images = options.latents
      ? tf.reshape(options.latents, [n, height, width, channels])
      : tf.randomNormal(
          [n, height, width, channels],
          0,
          1,
          'float32',
          deriveSeed(seed, STREAM_SAMPLE_INIT),
        );
    scheduler.timesteps.forEach((t, i) => {
      const previous = images as tf.Tensor4D;
      images = tf.tidy(() => {
        const modelOutput = network.apply(previous, tf.fill([n], t, 'float32') as tf.Tensor1D);
        const stepSeed = deriveSeed(seed, STREAM_SAMPLE_STEP, i);
        return scheduler.step(modelOutput, t, previous, { seed: stepSeed, eta }).prevSample;
      });
      previous.dispose();
    });
    const result = tf.clipByValue(images, -1, 1) as tf.Tensor4D;
    images.dispose();
    return result;
  }

  networks(): Record<string, WeightedNetwork> {
    return this.ema ? { unet: this.unet, ema: this.ema } : { unet: this.unet };
  }

  optimizers(): Record<string, tf.Optimizer> {
    return { unet: this.optimizer };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.unet.dispose();
    this.ema?.dispose();
    this.optimizer.dispose();
  }

  private schedulerOptions() {
    const c = this.config;
    return {
      numTrainTimesteps: c.numTrainTimesteps,
      betaSchedule: c.betaSchedule,
      betaStart: c.betaStart,
      betaEnd: c.betaEnd,
      predictionType: c.predictionType,
      timestepSpacing: c.timestepSpacing,
      clipSample: c.clipSample,
    };
  }
}

/** Build a diffusion model; see `DiffusionOptions` for the options and their defaults. */
export function createDiffusionModel(options: DiffusionOptions): DiffusionModel {
  return new DiffusionModel(options);
}

/** Rebuild a diffusion model from its JSON config (as stored in a checkpoint). */
export function createDiffusionFromConfig(
  config: DiffusionConfig | Record<string, unknown>,
): DiffusionModel {
  if (config?.family !== 'diffusion') {
    throw invalidArgument(
      'createDiffusionFromConfig(config.family)',
      "'diffusion'",
      describeValue(config?.family),
      'Pass a config saved by a diffusion model.',
    );
  }
  const { family: _family, ...options } = config as DiffusionConfig;
  return new DiffusionModel(options);
}
