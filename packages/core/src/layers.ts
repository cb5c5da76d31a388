/**
 * Layers that train faster than the tfjs-layers ones they stand for. Each is the tfjs-layers
 * layer itself (same class, config, weights and saved form, so saved models load anywhere),
 * with only its `call` replaced.
 *
 * `conv2d`: a tfjs-layers Conv2D runs `tf.fused.conv2d`, whose gradient is a tfjs-core
 * `customGrad` that computes the input, filter and bias gradients together whenever any of them
 * is needed. Training a GAN therefore computes, in every generator step, each discriminator
 * filter and bias gradient and throws them away, and in every discriminator step the input
 * gradient of its first layer, for the real and the fake batch: about a twelfth of a DCGAN-32
 * training step's work. This layer runs the same FusedConv2D kernel through tfjs's gradient
 * registry (`fusedConv2dGradConfig`), where each input's gradient is computed only when that
 * input needs one. Calls the registry form does not cover (dilated or channels-first
 * convolutions, inputs of rank 3, inputs tfjs would refuse) run the tfjs-layers code unchanged.
 *
 * `batchNormalization`: tfjs-layers normalises a batch in training with tfjs ops (moments,
 * FusedBatchNorm, the moving-average updates) and differentiates through each of them, about
 * 40 kernel calls per layer and step. This layer runs gensynth's batch-norm training kernels
 * (`kernels/batch_norm_train.ts`: two passes forward, three backward) and updates the moving
 * mean and variance with tfjs-layers' own operations. Inference, normalising over an axis other
 * than the last, a layer without centre or scale, an empty batch, and a forward pass inside a
 * nested gradient (a gradient penalty differentiates the gradient, and gensynth's gradient
 * kernels have no gradients of their own) run the tfjs-layers code.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BN_TRAIN_KERNEL, batchNormTrainGradConfig } from './kernels/batch_norm_train';
import { fusedConv2dGradConfig, gradientDepth, registerGradientOnce } from './kernels/gradients';

type ConvLayerArgs = Parameters<typeof tfl.layers.conv2d>[0];

/** The parts of tfjs-layers' Conv2D that `call` reads (public in its JavaScript). */
interface Conv2dInternals {
  kernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number[];
  activation: { getClassName(): string; apply(x: tf.Tensor): tf.Tensor };
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: object): tf.Tensor | tf.Tensor[];
}

/**
 * `tfl.layers.conv2d(args)` whose gradients are computed only for the inputs that need them
 * (see the header). The forward values are those of the tfjs-layers layer.
 */
export function conv2d(args: ConvLayerArgs): ReturnType<typeof tfl.layers.conv2d> {
  registerGradientOnce(fusedConv2dGradConfig);
  const layer = tfl.layers.conv2d(args);
  const self = layer as unknown as Conv2dInternals;
  const stock = self.call.bind(layer);
  self.call = (inputs, kwargs) => {
    const x = Array.isArray(inputs) && inputs.length === 1 ? inputs[0]! : inputs;
    // Anything tf.fused.conv2d would check or refuse (dtype, channels) goes to it unchanged.
    const plain =
      !Array.isArray(x) &&
      x.rank === 4 &&
      x.dtype === 'float32' &&
      x.shape[3] === self.kernel.read().shape[2] &&
      self.dataFormat === 'channelsLast' &&
      self.dilationRate.every((d) => d === 1);
    if (!plain) return stock(inputs, kwargs);
    return tf.tidy(() => {
      const activation = self.activation.getClassName().toLowerCase(); // 'relu', 'linear', ...
      const fused = activation === 'relu' ? 'relu' : 'linear';
      const filter = self.kernel.read();
      const bias = self.bias?.read();
      const y = tf
        .engine()
        .runKernel('FusedConv2D', bias === undefined ? { x, filter } : { x, filter, bias }, {
          strides: self.strides as [number, number],
          pad: self.padding === 'same' ? 'same' : 'valid',
          dataFormat: 'NHWC',
          dilations: [1, 1],
          activation: fused,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
      return activation === 'relu' || activation === 'linear' ? y : self.activation.apply(y);
    });
  };
  return layer;
}

type BatchNormArgs = Parameters<typeof tfl.layers.batchNormalization>[0];

/** The parts of tfjs-layers' BatchNormalization that `call` reads. */
interface BatchNormInternals {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma: { read(): tf.Tensor } | null;
  beta: { read(): tf.Tensor } | null;
  movingMean: { read(): tf.Tensor; write(value: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(value: tf.Tensor): void };
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor | tf.Tensor[];
}

/**
 * `tfl.layers.batchNormalization(args)` that trains on gensynth's batch-norm kernels (see the
 * header). Forward values, gradients and moving statistics agree with the tfjs-layers layer's
 * to float32 rounding.
 */
export function batchNormalization(
  args: BatchNormArgs = {},
): ReturnType<typeof tfl.layers.batchNormalization> {
  registerGradientOnce(batchNormTrainGradConfig);
  const layer = tfl.layers.batchNormalization(args);
  const self = layer as unknown as BatchNormInternals;
  const stock = self.call.bind(layer);
  self.call = (inputs, kwargs) => {
    const x = Array.isArray(inputs) && inputs.length === 1 ? inputs[0]! : inputs;
    const own =
      kwargs?.training === true &&
      !Array.isArray(x) &&
      x.rank >= 2 &&
      x.size > 0 &&
      x.dtype === 'float32' &&
      (self.axis === -1 || self.axis === x.rank - 1) &&
      self.gamma !== null &&
      self.beta !== null &&
      tf.getKernel(BN_TRAIN_KERNEL, tf.getBackend()) !== undefined &&
      gradientDepth() <= 1; // deeper: inside a gradient of a gradient
    if (!own) return stock(inputs, kwargs);
    return tf.tidy(() => {
      const [y, mean, variance] = tf
        .engine()
        .runKernel(
          BN_TRAIN_KERNEL,
          { x, scale: self.gamma!.read(), offset: self.beta!.read() },
          { epsilon: self.epsilon },
        ) as tf.Tensor[];
      // tfjs-layers' moving-average update, operation for operation.
      for (const [variable, value] of [
        [self.movingMean, mean!],
        [self.movingVariance, variance!],
      ] as const) {
        tf.tidy(() => {
          const current = variable.read();
          variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - self.momentum)));
        });
      }
      return y!;
    });
  };
  return layer;
}
