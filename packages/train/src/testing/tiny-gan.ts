/**
 * Test support: a small but real GAN that implements core's `GenerativeModel`. Generator and
 * discriminator are one dense layer each (tfjs-layers), trained with Adam on the non-saturating
 * GAN loss; all randomness comes from the step seed, so two runs with one seed agree exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  Rng,
  type Batch,
  type GenerativeModel,
  type ImageShape,
  type SampleOptions,
  type StepContext,
} from '@gensynth/core';

export interface TinyGanConfig {
  family: 'tiny-gan';
  latentDim: number;
  imageShape: ImageShape;
  learningRate: number;
  initSeed: number;
  [key: string]: unknown;
}

export const DEFAULT_TINY_GAN: Readonly<TinyGanConfig> = Object.freeze({
  family: 'tiny-gan' as const,
  latentDim: 4,
  imageShape: { height: 7, width: 7, channels: 1 as const },
  learningRate: 0.01,
  initSeed: 1,
});

export class TinyGan implements GenerativeModel<TinyGanConfig> {
  readonly config: TinyGanConfig;
  readonly imageShape: ImageShape;
  private readonly generator: tfl.Sequential;
  private readonly discriminator: tfl.Sequential;
  private readonly gOptimizer: tf.AdamOptimizer;
  private readonly dOptimizer: tf.AdamOptimizer;

  constructor(config: Partial<TinyGanConfig> = {}) {
    this.config = { ...DEFAULT_TINY_GAN, ...config };
    this.imageShape = this.config.imageShape;
    const { height, width, channels } = this.imageShape;
    const pixels = height * width * channels;
    const seed = this.config.initSeed;
    this.generator = tfl.sequential({
      name: 'generator',
      layers: [
        tfl.layers.dense({
          inputShape: [this.config.latentDim],
          units: pixels,
          activation: 'tanh',
          kernelInitializer: tfl.initializers.glorotUniform({ seed }),
        }),
      ],
    });
    this.discriminator = tfl.sequential({
      name: 'discriminator',
      layers: [
        tfl.layers.dense({
          inputShape: [pixels],
          units: 1,
          kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
        }),
      ],
    });
    this.gOptimizer = tf.train.adam(this.config.learningRate, 0.5, 0.999);
    this.dOptimizer = tf.train.adam(this.config.learningRate, 0.5, 0.999);
  }

  private variables(model: tfl.Sequential): tf.Variable[] {
    return model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  trainStep(batch: Batch, context: StepContext): Record<string, tf.Scalar> {
    const rng = Rng.fromSeed(context.seed);
    const [batchSize] = batch.images.shape;
    return tf.tidy(() => {
      const real = tf.reshape(batch.images, [batchSize, -1]); // [B, H*W*C]
      const z = tf.randomNormal(
        [batchSize, this.config.latentDim],
        0,
        1,
        'float32',
        rng.nextSeed(),
      );
      const d = (x: tf.Tensor) => this.discriminator.apply(x) as tf.Tensor2D;
      const g = () => this.generator.apply(z) as tf.Tensor2D;
      const dLoss = this.dOptimizer.minimize(
        () =>
          tf.add(tf.mean(tf.softplus(tf.neg(d(real)))), tf.mean(tf.softplus(d(g())))) as tf.Scalar,
        true,
        this.variables(this.discriminator),
      ) as tf.Scalar;
      const gLoss = this.gOptimizer.minimize(
        () => tf.mean(tf.softplus(tf.neg(d(g())))) as tf.Scalar,
        true,
        this.variables(this.generator),
      ) as tf.Scalar;
      return { 'loss/d': dLoss, 'loss/g': gLoss };
    });
  }

  sample(n: number, options: SampleOptions = {}): tf.Tensor4D {
    const { height, width, channels } = this.imageShape;
    return tf.tidy(() => {
      const z =
        options.latents ??
        tf.randomNormal([n, this.config.latentDim], 0, 1, 'float32', options.seed ?? 0);
      return tf.reshape(this.generator.apply(z) as tf.Tensor2D, [
        n,
        height,
        width,
        channels,
      ]) as tf.Tensor4D;
    });
  }

  networks() {
    return { generator: this.generator, discriminator: this.discriminator };
  }

  optimizers() {
    return { g: this.gOptimizer as tf.Optimizer, d: this.dOptimizer as tf.Optimizer };
  }

  dispose(): void {
    this.generator.dispose();
    this.discriminator.dispose();
    this.gOptimizer.dispose();
    this.dOptimizer.dispose();
  }
}
