/**
 * DCGAN generator and discriminator (Radford, Metz & Chintala 2016, arXiv:1511.06434).
 *
 * G: z [B, Z] -> dense -> [B, s, s, F·2^(depth-1)] -> (depth - 1) × (transposed conv stride 2,
 * norm, activation, halving filters) -> transposed conv stride 2 to C channels -> tanh.
 * D mirrors it: depth × (conv stride 2, norm except on the first stage, activation, doubling
 * filters from F) -> flatten -> dense to one logit. s = height / 2^depth.
 *
 * Weights are drawn from N(0, 0.02) (batch-norm scales from N(1, 0.02)), each layer seeded with
 * deriveSeed(config.seed, network, layerIndex), so the same config gives the same weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { batchNormalization, conv2d, deriveSeed } from '@gensynth/core';
import type { ActivationName, DCGANConfig, NormalizationName } from './options';

const GENERATOR = 0;
const DISCRIMINATOR = 1;
const INIT_STDDEV = 0.02;

/**
 * leakyRelu written as slope·x + (1 - slope)·relu(x). The same function as tfjs's LeakyRelu
 * kernel, but its gradient is itself differentiable: tfjs 4.22 has no gradient for the `Greater`
 * op that LeakyRelu's gradient uses, so WGAN-GP and R1 (which differentiate D's input gradient)
 * fail with the stock layer.
 */
export function twiceDifferentiableLeakyRelu<T extends tf.Tensor>(x: T, slope: number): T {
  return tf.tidy(() => tf.add(tf.mul(x, slope), tf.mul(tf.relu(x), 1 - slope)));
}

/** Keras layer around `twiceDifferentiableLeakyRelu`. Input and output: any shape. */
export class PenaltySafeLeakyReLU extends tfl.layers.Layer {
  static readonly className = 'GensynthPenaltySafeLeakyReLU';
  readonly slope: number;

  constructor(args: { slope: number; name?: string }) {
    super({ name: args.name });
    this.slope = args.slope;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return twiceDifferentiableLeakyRelu(x, this.slope);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), slope: this.slope };
  }
}
tf.serialization.registerClass(PenaltySafeLeakyReLU);

class LayerSeeds {
  private index = 0;
  constructor(
    private readonly seed: number,
    private readonly network: number,
  ) {}

  next(): number {
    return deriveSeed(this.seed, this.network, this.index++);
  }

  kernel(): ReturnType<typeof tfl.initializers.randomNormal> {
    return tfl.initializers.randomNormal({ mean: 0, stddev: INIT_STDDEV, seed: this.next() });
  }
}

function normalization(
  kind: NormalizationName,
  config: DCGANConfig,
  seeds: LayerSeeds,
): tfl.layers.Layer | undefined {
  if (kind === 'batch') {
    // core's batchNormalization: tfjs-layers' layer, trained on gensynth's batch-norm kernels.
    return batchNormalization({
      momentum: config.batchNormMomentum,
      epsilon: 1e-5,
      gammaInitializer: tfl.initializers.randomNormal({
        mean: 1,
        stddev: INIT_STDDEV,
        seed: seeds.next(),
      }),
    });
  }
  if (kind === 'layer') {
    // Normalises each sample over height, width and channels.
    return tfl.layers.layerNormalization({ axis: [1, 2, 3], epsilon: 1e-5 });
  }
  return undefined;
}

function activation(kind: ActivationName, slope: number, penaltySafe: boolean): tfl.layers.Layer {
  if (kind === 'leakyRelu') {
    return penaltySafe
      ? new PenaltySafeLeakyReLU({ slope })
      : tfl.layers.leakyReLU({ alpha: slope });
  }
  return tfl.layers.activation({ activation: kind });
}

function apply(layer: tfl.layers.Layer, x: tfl.SymbolicTensor): tfl.SymbolicTensor {
  return layer.apply(x) as tfl.SymbolicTensor;
}

/** The generator: latents `[B, Z]` -> images `[B, H, W, C]` in [-1, 1]. */
export function buildGenerator(config: DCGANConfig): tfl.LayersModel {
  const { imageShape, depth, kernelSize, generatorFilters, generatorNormalization } = config;
  const seeds = new LayerSeeds(config.seed, GENERATOR);
  const start = imageShape.height / 2 ** depth;
  const topFilters = generatorFilters * 2 ** (depth - 1);
  const useBias = generatorNormalization === 'none';
  const normAndActivate = (x: tfl.SymbolicTensor) => {
    const norm = normalization(generatorNormalization, config, seeds);
    const y = norm ? apply(norm, x) : x;
    return apply(activation(config.generatorActivation, config.leakyReluSlope, false), y);
  };

  const latents = tfl.input({ shape: [config.latentDim], name: 'latents' }); // [B, Z]
  let x = apply(
    tfl.layers.dense({
      units: start * start * topFilters,
      useBias,
      kernelInitializer: seeds.kernel(),
    }),
    latents,
  );
  x = apply(tfl.layers.reshape({ targetShape: [start, start, topFilters] }), x); // [B, s, s, F']
  x = normAndActivate(x);
  for (let stage = 1; stage < depth; stage++) {
    const convT = tfl.layers.conv2dTranspose({
      filters: topFilters / 2 ** stage,
      kernelSize,
      strides: 2,
      padding: 'same',
      useBias,
      kernelInitializer: seeds.kernel(),
    });
    x = normAndActivate(apply(convT, x)); // [B, s·2^stage, s·2^stage, F'/2^stage]
  }
  const toImage = tfl.layers.conv2dTranspose({
    filters: imageShape.channels,
    kernelSize,
    strides: 2,
    padding: 'same',
    activation: 'tanh',
    kernelInitializer: seeds.kernel(),
  });
  const images = apply(toImage, x); // [B, H, W, C]
  return tfl.model({ inputs: latents, outputs: images, name: 'generator' });
}

/** The discriminator: images `[B, H, W, C]` in [-1, 1] -> logits `[B, 1]` (no sigmoid). */
export function buildDiscriminator(config: DCGANConfig, penaltySafe: boolean): tfl.LayersModel {
  const { imageShape, depth, kernelSize, discriminatorFilters, discriminatorNormalization } =
    config;
  const seeds = new LayerSeeds(config.seed, DISCRIMINATOR);
  const images = tfl.input({
    shape: [imageShape.height, imageShape.width, imageShape.channels],
    name: 'images',
  });

  let x = images;
  for (let stage = 0; stage < depth; stage++) {
    // DCGAN leaves the first stage unnormalised.
    const norm = stage > 0 ? normalization(discriminatorNormalization, config, seeds) : undefined;
    // core's conv2d: tfjs-layers' Conv2D whose gradients are computed only where needed (the
    // generator step needs none of these filters' gradients).
    const conv = conv2d({
      filters: discriminatorFilters * 2 ** stage,
      kernelSize,
      strides: 2,
      padding: 'same',
      useBias: norm === undefined,
      kernelInitializer: seeds.kernel(),
    });
    x = apply(conv, x); // [B, H/2^(stage+1), W/2^(stage+1), F·2^stage]
    if (norm) x = apply(norm, x);
    x = apply(activation(config.discriminatorActivation, config.leakyReluSlope, penaltySafe), x);
  }
  x = apply(tfl.layers.flatten(), x); // [B, s·s·F·2^(depth-1)]
  const logits = apply(tfl.layers.dense({ units: 1, kernelInitializer: seeds.kernel() }), x); // [B, 1]
  return tfl.model({ inputs: images, outputs: logits, name: 'discriminator' });
}
