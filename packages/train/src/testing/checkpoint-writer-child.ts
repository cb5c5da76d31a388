/**
 * Test support: a child process that saves checkpoints of a ~6 MB model in a loop and prints
 * `saved <step>` after each, until the parent kills it (SIGKILL) at an arbitrary moment.
 * Usage: node child.cjs <runDir>
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { GenerativeModel, WeightedNetwork } from '@gensynth/core';
import { saveCheckpoint } from '../checkpoint/store';

async function main(runDir: string): Promise<void> {
  await tf.setBackend('cpu');
  tf.env().set('IS_TEST', true);
  const weights = tf.variable(tf.randomUniform([1_500_000], -1, 1, 'float32', 3));
  const optimizer = tf.train.adam(0.01);
  // One update creates Adam's slots (no gradient kernels needed: the gradient is given).
  tf.tidy(() => optimizer.applyGradients({ [weights.name]: tf.mul(weights, 2) }));
  const network: WeightedNetwork = {
    name: 'big',
    getWeights: () => [weights],
    setWeights: (values) => weights.assign(values[0] as tf.Tensor1D),
  };
  const model = {
    config: { family: 'crash-test' },
    imageShape: { height: 1, width: 1, channels: 1 },
    networks: () => ({ big: network }),
    optimizers: () => ({ adam: optimizer as tf.Optimizer }),
  } as unknown as GenerativeModel;
  for (let step = 1; ; step++) {
    const state = {
      step,
      rootSeed: 0,
      cursor: null,
      modelConfig: model.config,
      best: null,
      elapsedMs: 0,
    };
    await saveCheckpoint(runDir, model, state, { keep: 2 });
    process.stdout.write(`saved ${step}\n`);
  }
}

void main(process.argv[2] as string);
