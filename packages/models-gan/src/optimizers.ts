/**
 * The optimizers of a resolved config. Adam is `@gensynth/core`'s `ReplayableAdamOptimizer`
 * (fused update on gensynth's backends, resume-exact bias correction), re-exported here for code
 * that imported it from this package.
 */
import * as tf from '@tensorflow/tfjs-core';
// Loading tfjs-layers registers tfjs-core's gradient functions, which minimize() needs.
import '@tensorflow/tfjs-layers';
import { ReplayableAdamOptimizer } from '@gensynth/core';
import type { OptimizerConfig } from './options';

export { ReplayableAdamOptimizer };

/** The optimizer a resolved config asks for. */
export function createOptimizer(config: OptimizerConfig): tf.Optimizer {
  if (config.type === 'sgd') return tf.train.sgd(config.learningRate);
  return new ReplayableAdamOptimizer(
    config.learningRate,
    config.beta1,
    config.beta2,
    config.epsilon,
  );
}
