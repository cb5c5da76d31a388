/**
 * Adam with a fused update and resume-exact bias correction; every gensynth trainer uses it.
 *
 * - Fused: on backends where gensynth registered `GensynthAdamUpdate` ('wasm' and 'cpu', see
 *   `kernels/adam.ts`), each variable takes one kernel call per step instead of tfjs's eleven,
 *   with the same float32 results. Elsewhere (tfjs-node, WebGL) it runs tfjs's own update.
 * - Resume-exact: tfjs's Adam keeps β1^t and β2^t as running products, but `setWeights`
 *   recomputes them as pow(β, t + 1). The two differ in the last float32 bit, so a resumed run
 *   would drift from the uninterrupted one. Here both come from the iteration count before every
 *   update, as `setWeights` computes them.
 *
 * State, `getWeights`, `setWeights` and serialisation are tfjs's (`className` 'Adam'), so
 * checkpoints written by either optimizer load into the other.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ADAM_UPDATE_KERNEL } from './kernels/adam';
import type { AdamUpdateAttrs } from './kernels/adam';

interface AdamInternals {
  accBeta1?: unknown;
  accBeta2?: unknown;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  epsilon: number;
}

type VariableGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** Adam (Kingma & Ba 2015, arXiv:1412.6980), fused where gensynth has the kernel. */
export class ReplayableAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: VariableGradients): void {
    if (tf.getKernel(ADAM_UPDATE_KERNEL, tf.getBackend()) === undefined) {
      this.syncPowers();
      super.applyGradients(variableGradients);
      return;
    }
    const internals = this as unknown as AdamInternals;
    const list = Array.isArray(variableGradients)
      ? variableGradients.map((v) => ({ name: v.name, gradient: v.tensor }))
      : Object.keys(variableGradients).map((name) => ({
          name,
          gradient: variableGradients[name],
        }));
    const t = this.iterations + 1;
    const attrs: AdamUpdateAttrs = {
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: internals.epsilon,
      learningRate: this.learningRate,
      // As tfjs computes pow(β, t) on float32 operands.
      accBeta1: Math.fround(Math.pow(Math.fround(this.beta1), t)),
      accBeta2: Math.fround(Math.pow(Math.fround(this.beta2), t)),
    };
    tf.tidy(() => {
      list.forEach(({ name, gradient }, i) => {
        const value = tf.engine().registeredVariables[name]!;
        internals.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        internals.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        if (gradient == null) return;
        const m = internals.accumulatedFirstMoment[i].variable;
        const v = internals.accumulatedSecondMoment[i].variable;
        const [w2, m2, v2] = tf
          .engine()
          .runKernel(
            ADAM_UPDATE_KERNEL,
            { value, m, v, gradient },
            attrs as unknown as tf.NamedAttrMap,
          ) as tf.Tensor[];
        m.assign(m2!);
        v.assign(v2!);
        value.assign(w2!);
      });
    });
    this.incrementIterations();
  }

  /** Set β^t from the iteration count, as `setWeights` does, before tfjs's own update. */
  private syncPowers(): void {
    const { accBeta1, accBeta2 } = this as unknown as AdamInternals;
    if (accBeta1 instanceof tf.Variable && accBeta2 instanceof tf.Variable) {
      tf.tidy(() => {
        accBeta1.assign(tf.pow(this.beta1, this.iterations + 1));
        accBeta2.assign(tf.pow(this.beta2, this.iterations + 1));
      });
    }
  }
}
