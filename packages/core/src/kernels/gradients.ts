/**
 * Gradients that gensynth registers in place of tfjs-core's, for speed. Each gives exactly the
 * same values as the one it replaces. The gradient registry is global, so these apply on every
 * backend; `registerWasmTrainingKernels` installs them because WASM is where they pay.
 *
 * LeakyRelu: tfjs-core computes dx = where(x > 0, dy, alpha * dy), i.e. Greater, Multiply and
 * Select, which are among the slowest element-wise kernels on WASM (~13 ms together on a
 * [64, 16, 16, 32] activation). dx = dy * step(x, alpha) is the same product in two kernels
 * (~3 ms): step gives 1 where x > 0 and alpha elsewhere, x = 0 included. Only a NaN input differs:
 * its gradient becomes NaN instead of alpha * dy (its forward value is NaN either way).
 *
 * Sum and Mean: tfjs-core spreads dy over the reduced axes as dy * ones(x.shape), building the
 * ones in JavaScript and uploading them each time (a [64, 16, 16, 32] Mean gradient: 524,288
 * values, about 4 ms of every DCGAN step). broadcastTo (a Tile) gives the same values without
 * them; Mean's result is then divided by the reduced size, as tfjs-core divides it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';

export const leakyReluGradConfig: GradConfig = {
  kernelName: 'LeakyRelu',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: NamedAttrMap) => {
    const [x] = saved;
    const { alpha } = attrs as unknown as { alpha: number };
    return { x: () => tf.mul(dy as tf.Tensor, tf.step(x!, alpha)) };
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

/** Every gradient gensynth registers, replacing tfjs-core's of the same kernel. */
export const GRADIENT_REPLACEMENTS: readonly GradConfig[] = Object.freeze([
  leakyReluGradConfig,
  sumGradConfig,
  meanGradConfig,
]);

/** Register gensynth's gradients (idempotent; tfjs-core's must be registered first). */
export function registerGradientReplacements(): void {
  for (const config of GRADIENT_REPLACEMENTS) {
    if (tf.getGradient(config.kernelName) !== config) tf.registerGradient(config);
  }
}
