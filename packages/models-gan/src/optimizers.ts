/**
 * Optimizers whose state round-trips exactly through `getWeights` / `setWeights`.
 *
 * tfjs's Adam keeps the bias-correction powers β1^t and β2^t as running products, but
 * `setWeights` recomputes them as pow(β, t + 1). The two differ in the last float32 bit, so a
 * resumed run drifts from the uninterrupted one. `ReplayableAdamOptimizer` recomputes the powers
 * from the iteration count before every update, exactly as `setWeights` does, so both paths use
 * the same numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
// Loading tfjs-layers registers tfjs-core's gradient functions, which minimize() needs.
import '@tensorflow/tfjs-layers';
import type { OptimizerConfig } from './options';

interface AdamInternals {
  accBeta1?: unknown;
  accBeta2?: unknown;
}

/** Adam (Kingma & Ba 2015, arXiv:1412.6980) with resume-exact bias correction. */
export class ReplayableAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(
    variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0],
  ): void {
    const internals = this as unknown as AdamInternals;
    const { accBeta1, accBeta2 } = internals;
    if (accBeta1 instanceof tf.Variable && accBeta2 instanceof tf.Variable) {
      tf.tidy(() => {
        accBeta1.assign(tf.pow(this.beta1, this.iterations + 1));
        accBeta2.assign(tf.pow(this.beta2, this.iterations + 1));
      });
    }
    super.applyGradients(variableGradients);
  }
}

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
