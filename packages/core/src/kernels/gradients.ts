/**
 * Gradients that gensynth registers in place of tfjs-core's, for speed. Each gives exactly the
 * same values as the one it replaces. The gradient registry is global, so these apply on every
 * backend; `registerWasmTrainingKernels` installs them because WASM is where they pay.
 *
 * LeakyRelu: tfjs-core computes dx = where(x > 0, dy, alpha * dy), i.e. Greater, Multiply and
 * Select, which are among the slowest element-wise kernels on WASM (~13 ms together on a
 * [64, 16, 16, 32] activation). dx = dy * step(x, alpha) is the same product in two kernels
 * (~3 ms): step gives 1 where x > 0 and alpha elsewhere, x = 0 included. Only a NaN input differs:
 * its gradient becomes NaN instead of alpha * dy (its forward value is NaN either way). Where
 * gensynth's `GensynthLeakyReluGrad` kernel is registered (wasm, cpu) and the gradient is not
 * itself differentiated, that one kernel runs instead (`leaky_relu_grad.ts`), with tfjs-core's
 * values, NaN included.
 *
 * Sum and Mean: tfjs-core spreads dy over the reduced axes as dy * ones(x.shape), building the
 * ones in JavaScript and uploading them each time (a [64, 16, 16, 32] Mean gradient: 524,288
 * values, about 4 ms of every DCGAN step). broadcastTo (a Tile) gives the same values without
 * them; Mean's result is then divided by the reduced size, as tfjs-core divides it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import { GensynthError } from '../errors';
import { LEAKY_RELU_GRAD_KERNEL } from './leaky_relu_grad';

/**
 * How many gradient tapes are recording now (tfjs's engine state): 0 outside any gradient, 1
 * inside one, 2 inside a gradient of a gradient. A gradient function that runs at depth > 0 is
 * itself being differentiated.
 */
export function gradientDepth(): number {
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: number } }).state;
  return state?.gradientDepth ?? 0;
}

export const leakyReluGradConfig: GradConfig = {
  kernelName: 'LeakyRelu',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: NamedAttrMap) => {
    const [x] = saved;
    const { alpha } = attrs as unknown as { alpha: number };
    // One kernel where gensynth registered it (wasm, cpu) and nothing differentiates this
    // gradient again (the kernel has no gradient of its own; a gradient penalty needs one).
    const fused =
      (dy as tf.Tensor).dtype === 'float32' &&
      x!.dtype === 'float32' &&
      tf.getKernel(LEAKY_RELU_GRAD_KERNEL, tf.getBackend()) !== undefined &&
      gradientDepth() === 0;
    return {
      x: () =>
        fused
          ? (tf.engine().runKernel(
              LEAKY_RELU_GRAD_KERNEL,
              { dy: dy as tf.Tensor, x: x! },
              {
                alpha,
              },
            ) as tf.Tensor)
          : tf.mul(dy as tf.Tensor, tf.step(x!, alpha)),
    };
  },
};

/** dy [reduced shape] of a reduction over `axis` of x, spread back over x's shape. */
function spread(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const kept = x.shape.map((n, i) => (axes.includes(i) ? 1 : n));
  return tf.broadcastTo(tf.reshape(dy, kept), x.shape);
}

export const sumGradConfig: GradConfig = {
  kernelName: 'Sum',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: NamedAttrMap) => {
    const [x] = saved;
    const { axis } = attrs as unknown as { axis: number | number[] };
    return { x: () => spread(dy as tf.Tensor, x!, axis) };
  },
};

export const meanGradConfig: GradConfig = {
  kernelName: 'Mean',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: NamedAttrMap) => {
    const [x] = saved;
    const { axis } = attrs as unknown as { axis: number | number[] };
    const axes = tf.util.parseAxisParam(axis, x!.shape);
    const reduceSize = axes.reduce((p, a) => p * x!.shape[a]!, 1);
    return { x: () => tf.div(spread(dy as tf.Tensor, x!, axis), reduceSize) };
  },
};

/**
 * FusedConv2D run directly through the kernel registry (gensynth's `conv2d` layer; tfjs's own
 * `tf.fused.conv2d` has its gradient in a customGrad instead and never reaches this). The same
 * gradients as that customGrad, for linear and ReLU activations: dy through the activation
 * (dy * step(y) for ReLU), then the input gradient, the filter gradient and the bias gradient
 * (dy summed to the bias's shape), each computed only if its input needs it.
 */
export const fusedConv2dGradConfig: GradConfig = {
  kernelName: 'FusedConv2D',
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: NamedAttrMap) => {
    const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as {
      strides: [number, number] | number;
      pad: 'same' | 'valid';
      dataFormat: 'NHWC' | 'NCHW';
      dilations: [number, number] | number;
      activation: string;
    };
    if (a.activation !== 'linear' && a.activation !== 'relu') {
      throw new GensynthError('KERNEL_UNSUPPORTED', {
        where: 'FusedConv2D gradient',
        expected: "activation 'linear' or 'relu'",
        received: `'${a.activation}'`,
        fix: 'Run the kernel linear and apply the activation after it, or use tf.fused.conv2d.',
      });
    }
    const dilations = [a.dilations].flat();
    if (a.dataFormat === 'NCHW' || dilations.some((d) => d !== 1)) {
      throw new GensynthError('KERNEL_UNSUPPORTED', {
        where: 'FusedConv2D gradient',
        expected: "dataFormat 'NHWC' and dilations of 1",
        received: `dataFormat '${a.dataFormat}', dilations ${JSON.stringify(a.dilations)}`,
        fix: 'Use tf.fused.conv2d for channels-first or dilated convolutions.',
      });
    }
    const g = dy as tf.Tensor4D;
    const dyAct: tf.Tensor4D = a.activation === 'relu' ? tf.mul(g, tf.step(y)) : g;
    return {
      x: () => tf.conv2dTranspose(dyAct, filter, x.shape, a.strides, a.pad),
      filter: () =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x, dy: dyAct },
            { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', filterShape: filter.shape },
          ) as tf.Tensor,
      bias: () => tf.sum(dyAct, [0, 1, 2]),
    };
  },
};

/** Every gradient gensynth registers, replacing tfjs-core's of the same kernel. */
export const GRADIENT_REPLACEMENTS: readonly GradConfig[] = Object.freeze([
  leakyReluGradConfig,
  sumGradConfig,
  meanGradConfig,
]);

/** Register `config` unless it is already the gradient of its kernel. */
export function registerGradientOnce(config: GradConfig): void {
  if (tf.getGradient(config.kernelName) !== config) tf.registerGradient(config);
}

/** Register gensynth's gradients (idempotent; tfjs-core's must be registered first). */
export function registerGradientReplacements(): void {
  GRADIENT_REPLACEMENTS.forEach(registerGradientOnce);
}
