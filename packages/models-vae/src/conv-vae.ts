/**
 * Convolutional VAE (Kingma & Welling 2014, arXiv:1312.6114), β-weighted KL (Higgins et al. 2017).
 *
 *   encoder  x [B, H, W, C] -> stride-2 convs -> flatten -> dense μ [B, Z], dense log σ² [B, Z]
 *   sample   z = μ + σ ⊙ ε,  ε ~ N(0, I)                       (reparameterisation, §2.4)
 *   decoder  z -> dense -> [B, H/2^d, W/2^d, F] -> stride-2 conv-transposes -> [B, H, W, C]
 *   loss     reconstruction + β · KL(N(μ, σ²) ‖ N(0, I))      (negative ELBO when β = 1)
 *
 * All randomness of a training step comes from `context.seed`, so a resumed run replays exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  batchNormalization,
  checkImageBatch,
  checkLive,
  deriveSeed,
  describeValue,
  invalidArgument,
  tfRandomSeed,
  type Batch,
  type GenerativeModel,
  type ImageShape,
  type SampleOptions,
  type StepContext,
  type WeightedNetwork,
  ReplayableAdamOptimizer,
} from '@gensynth/core';
import { bceWithLogits, klPerSample } from './losses';
import {
  resolveVaeOptions,
  type ConvVaeOptions,
  type ResolvedConvVaeOptions,
  type VaeConfig,
} from './options';

/** Seed streams derived from `context.seed` / `options.seed`. */
const STREAM_EPSILON = 0;
const STREAM_SAMPLE = 1;

/** The scalars a VAE training step reports. */
export type VaeLosses = {
  /** Reconstruction + β_eff · KL, averaged over the batch. */
  'loss/total': tf.Scalar;
  /** Per-sample reconstruction loss (summed over pixels), averaged over the batch. */
  'loss/reconstruction': tf.Scalar;
  /** Per-sample KL (summed over latent dimensions), averaged over the batch. */
  'loss/kl': tf.Scalar;
};

function hiddenActivation(options: ResolvedConvVaeOptions, name: string): tfl.layers.Layer {
  if (options.activation === 'leakyRelu') return tfl.layers.leakyReLU({ alpha: 0.2, name });
  return tfl.layers.activation({ activation: options.activation, name });
}

function normalization(options: ResolvedConvVaeOptions, name: string): tfl.layers.Layer | null {
  if (options.normalization === 'batch')
    // core's batchNormalization: tfjs-layers' layer, trained on gensynth's batch-norm kernels.
    return batchNormalization({ momentum: 0.9, name });
  if (options.normalization === 'layer') return tfl.layers.layerNormalization({ name });
  return null;
}

/** Applies normalization (if any) and the activation to `x`. */
function normAndAct(
  x: tfl.SymbolicTensor,
  options: ResolvedConvVaeOptions,
  prefix: string,
): tfl.SymbolicTensor {
  const norm = normalization(options, `${prefix}_norm`);
  const normed = norm ? (norm.apply(x) as tfl.SymbolicTensor) : x;
  return hiddenActivation(options, `${prefix}_act`).apply(normed) as tfl.SymbolicTensor;
}

/*
 * Layers followed by batch normalization have no bias: batch normalization subtracts the batch
 * mean of every channel, which cancels any bias (its gradient is exactly zero).
 */

/** Seeded Glorot-uniform kernels, so the same `options.seed` gives the same weights. */
function kernelInit(seed: number, index: number) {
  return tfl.initializers.glorotUniform({ seed: deriveSeed(seed, 100, index) });
}

/** Encoder: `[B, H, W, C]` in [-1, 1] -> `[μ [B, Z], log σ² [B, Z]]`. */
function buildEncoder(options: ResolvedConvVaeOptions): tfl.LayersModel {
  const batchNormFollows = options.normalization === 'batch';
  const { height, width, channels } = options.imageShape;
  const input = tfl.input({ shape: [height, width, channels], name: 'encoder_input' });
  let x: tfl.SymbolicTensor = input;
  options.filters.forEach((filters, i) => {
    x = tfl.layers
      .conv2d({
        filters,
        kernelSize: options.kernelSize,
        strides: 2,
        padding: 'same',
        kernelInitializer: kernelInit(options.seed, i),
        useBias: !batchNormFollows,
        name: `encoder_conv${i}`,
      })
      .apply(x) as tfl.SymbolicTensor; // [B, H/2^(i+1), W/2^(i+1), filters]
    x = normAndAct(x, options, `encoder_conv${i}`);
  });
  const flat = tfl.layers.flatten({ name: 'encoder_flatten' }).apply(x) as tfl.SymbolicTensor;
  const dense = (name: string, index: number) =>
    tfl.layers
      .dense({ units: options.latentDim, kernelInitializer: kernelInit(options.seed, index), name })
      .apply(flat) as tfl.SymbolicTensor; // [B, Z]
  const mu = dense('encoder_mu', 50);
  const logvar = dense('encoder_logvar', 51);
  return tfl.model({ inputs: input, outputs: [mu, logvar], name: 'encoder' });
}

/**
 * Decoder: `[B, Z]` -> `[B, H, W, C]`; the tanh mean in [-1, 1] for `gaussian`, logits for
 * `bernoulli`.
 */
function buildDecoder(options: ResolvedConvVaeOptions): tfl.LayersModel {
  const batchNormFollows = options.normalization === 'batch';
  const { height, width, channels } = options.imageShape;
  const depth = options.filters.length;
  const lowHeight = height / 2 ** depth;
  const lowWidth = width / 2 ** depth;
  const lowFilters = options.filters[depth - 1] as number;
  const input = tfl.input({ shape: [options.latentDim], name: 'decoder_input' });
  let x = tfl.layers
    .dense({
      units: lowHeight * lowWidth * lowFilters,
      kernelInitializer: kernelInit(options.seed, 200),
      useBias: !batchNormFollows,
      name: 'decoder_dense',
    })
    .apply(input) as tfl.SymbolicTensor;
  x = tfl.layers
    .reshape({ targetShape: [lowHeight, lowWidth, lowFilters], name: 'decoder_reshape' })
    .apply(x) as tfl.SymbolicTensor; // [B, H/2^d, W/2^d, F_{d-1}]
  x = normAndAct(x, options, 'decoder_dense');
  for (let i = depth - 1; i >= 0; i--) {
    const last = i === 0;
    x = tfl.layers
      .conv2dTranspose({
        filters: last ? channels : (options.filters[i - 1] as number),
        kernelSize: options.kernelSize,
        strides: 2,
        padding: 'same',
        kernelInitializer: kernelInit(options.seed, 300 + i),
        useBias: last || !batchNormFollows,
        name: `decoder_deconv${i}`,
      })
      .apply(x) as tfl.SymbolicTensor; // [B, H/2^i, W/2^i, F_{i-1} or C]
    if (!last) x = normAndAct(x, options, `decoder_deconv${i}`);
  }
  if (options.reconstruction === 'gaussian') {
    x = tfl.layers
      .activation({ activation: 'tanh', name: 'decoder_tanh' })
      .apply(x) as tfl.SymbolicTensor;
  }
  return tfl.model({ inputs: input, outputs: x, name: 'decoder' });
}

/** A convolutional VAE that implements core's `GenerativeModel`. Create it with `createConvVAE`. */
export class ConvVAE implements GenerativeModel<VaeConfig> {
  readonly config: VaeConfig;
  readonly imageShape: ImageShape;
  readonly encoder: tfl.LayersModel;
  readonly decoder: tfl.LayersModel;
  readonly optimizer: tf.AdamOptimizer;
  private disposed = false;

  constructor(options: ConvVaeOptions) {
    const resolved = resolveVaeOptions(options);
    this.config = { family: 'vae', ...resolved };
    this.imageShape = resolved.imageShape;
    this.encoder = buildEncoder(resolved);
    this.decoder = buildDecoder(resolved);
    this.optimizer = new ReplayableAdamOptimizer(
      resolved.learningRate,
      resolved.adamBeta1,
      resolved.adamBeta2,
    );
  }

  /** KL weight at `step`: `beta`, ramped linearly from 0 over `klWarmupSteps` when set. */
  klWeight(step: number): number {
    const { beta, klWarmupSteps } = this.config;
    return klWarmupSteps > 0 ? beta * Math.min(1, step / klWarmupSteps) : beta;
  }

  /** `images` `[B, H, W, C]` in [-1, 1] -> `{ mu, logvar }`, each `[B, Z]`; caller owns both. */
  encode(images: tf.Tensor4D, training = false): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
    checkImageBatch('ConvVAE.encode(images)', images, this.imageShape);
    const [mu, logvar] = this.encoder.apply(images, { training }) as tf.Tensor2D[];
    return { mu: mu as tf.Tensor2D, logvar: logvar as tf.Tensor2D };
  }

  /** Latents `[B, Z]` -> images `[B, H, W, C]` in [-1, 1] (the decoder mean); caller owns it. */
  decode(latents: tf.Tensor2D): tf.Tensor4D {
    if (latents.rank !== 2 || latents.shape[1] !== this.config.latentDim) {
      throw invalidArgument(
        'ConvVAE.decode(latents)',
        `shape [B, ${this.config.latentDim}]`,
        `shape [${latents.shape.join(', ')}]`,
        'Pass latents with latentDim columns.',
      );
    }
    return tf.tidy(() => {
      const out = this.decoder.apply(latents, { training: false }) as tf.Tensor4D;
      if (this.config.reconstruction === 'gaussian') return out;
      return tf.sub(tf.mul(tf.sigmoid(out), 2), 1) as tf.Tensor4D; // Bernoulli mean, to [-1, 1]
    });
  }

  /** Encode then decode the posterior mean μ: `[B, H, W, C]` -> `[B, H, W, C]` in [-1, 1]. */
  reconstruct(images: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.decode(this.encode(images).mu));
  }

  /**
   * Losses of one batch without updating weights (the training step minimises `loss/total`).
   * Randomness (ε of the reparameterisation) comes from `context.seed` only.
   */
  computeLosses(batch: Batch, context: StepContext, training = true): VaeLosses {
    checkImageBatch('ConvVAE.computeLosses(batch.images)', batch.images, this.imageShape);
    return tf.tidy(() => {
      const images = batch.images;
      const { mu, logvar } = this.encode(images, training); // [B, Z] each
      const epsilon = tf.randomNormal(
        mu.shape,
        0,
        1,
        'float32',
        deriveSeed(context.seed, STREAM_EPSILON),
      );
      const latents = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), epsilon)) as tf.Tensor2D;
      const decoded = this.decoder.apply(latents, { training }) as tf.Tensor4D; // [B, H, W, C]
      let perPixel: tf.Tensor4D;
      if (this.config.reconstruction === 'bernoulli') {
        const targets = tf.div(tf.add(images, 1), 2); // [0, 1]
        perPixel = bceWithLogits(targets, decoded) as tf.Tensor4D;
      } else {
        perPixel = tf.mul(0.5, tf.square(tf.sub(images, decoded))); // −log N(x; x̂, I) + const
      }
      const reconstruction = tf.mean(tf.sum(perPixel, [1, 2, 3])) as tf.Scalar;
      const kl = tf.mean(klPerSample(mu, logvar)) as tf.Scalar;
      const total = tf.add(reconstruction, tf.mul(this.klWeight(context.step), kl)) as tf.Scalar;
      return { 'loss/total': total, 'loss/reconstruction': reconstruction, 'loss/kl': kl };
    });
  }

  /** Trainable variables of encoder and decoder, in a fixed order. */
  trainableVariables(): tf.Variable[] {
    return [...this.encoder.trainableWeights, ...this.decoder.trainableWeights].map(
      (w) => w.read() as tf.Variable,
    );
  }

  trainStep(batch: Batch, context: StepContext): VaeLosses {
    checkLive('ConvVAE.trainStep', this.disposed);
    let parts: VaeLosses | undefined;
    const total = this.optimizer.minimize(
      () => {
        parts = this.computeLosses(batch, context, true);
        tf.keep(parts['loss/reconstruction']);
        tf.keep(parts['loss/kl']);
        return parts['loss/total'];
      },
      true,
      this.trainableVariables(),
    ) as tf.Scalar;
    const { 'loss/reconstruction': reconstruction, 'loss/kl': kl } = parts as VaeLosses;
    return { 'loss/total': total, 'loss/reconstruction': reconstruction, 'loss/kl': kl };
  }

  /** Decode `n` latents drawn from N(0, I) with `options.seed` (or decode `options.latents`). */
  sample(n: number, options: SampleOptions = {}): tf.Tensor4D {
    checkLive('ConvVAE.sample', this.disposed);
    if (options.latents !== undefined) {
      if (options.latents.shape[0] !== n) {
        throw invalidArgument(
          'ConvVAE.sample(options.latents)',
          `${n} rows (one latent per image)`,
          `shape [${options.latents.shape.join(', ')}]`,
          'Pass n equal to the number of latent rows.',
        );
      }
      return this.decode(options.latents);
    }
    if (!Number.isInteger(n) || n < 1) {
      throw invalidArgument(
        'ConvVAE.sample(n)',
        'a positive integer',
        n,
        'Pass the number of images to draw.',
      );
    }
    const seed = deriveSeed(options.seed ?? this.config.seed, STREAM_SAMPLE);
    return tf.tidy(() =>
      this.decode(tf.randomNormal([n, this.config.latentDim], 0, 1, 'float32', tfRandomSeed(seed))),
    );
  }

  networks(): Record<string, WeightedNetwork> {
    return { encoder: this.encoder, decoder: this.decoder };
  }

  optimizers(): Record<string, tf.Optimizer> {
    return { vae: this.optimizer };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.encoder.dispose();
    this.decoder.dispose();
    this.optimizer.dispose();
  }
}

/** Build a convolutional VAE; see `ConvVaeOptions` for the options and their defaults. */
export function createConvVAE(options: ConvVaeOptions): ConvVAE {
  return new ConvVAE(options);
}

/** Rebuild a VAE from its JSON config (as stored in a checkpoint). */
export function createVaeFromConfig(config: VaeConfig | Record<string, unknown>): ConvVAE {
  if (config?.family !== 'vae') {
    throw invalidArgument(
      'createVaeFromConfig(config.family)',
      "'vae'",
      describeValue(config?.family),
      'Pass a config saved by a VAE.',
    );
  }
  const { family: _family, ...options } = config as VaeConfig;
  return new ConvVAE(options);
}
