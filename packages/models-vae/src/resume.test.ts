import * as tf from '@tensorflow/tfjs-core';
import { initBackend, silentLogger, type GenerativeModel } from '@gensynth/core';
import { createConvVAE, createVaeFromConfig } from './conv-vae';

/** Everything a checkpoint holds for this model: network weights and optimizer state. */
async function snapshot(model: GenerativeModel) {
  const networks = Object.entries(model.networks()).map(([name, n]) => ({
    name,
    values: n.getWeights().map((w) => tf.clone(w)),
  }));
  const optimizers = [];
  for (const [name, optimizer] of Object.entries(model.optimizers())) {
    const named = (await optimizer.getWeights()).map((w) => ({
      name: w.name,
      tensor: tf.clone(w.tensor),
    }));
    // Adam's running beta powers live outside getWeights (the trainer saves them the same way).
    const hidden = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
    optimizers.push({
      name,
      named,
      powers: [tf.clone(hidden.accBeta1), tf.clone(hidden.accBeta2)],
    });
  }
  return { networks, optimizers };
}

async function restore(model: GenerativeModel, state: Awaited<ReturnType<typeof snapshot>>) {
  for (const { name, values } of state.networks) model.networks()[name]!.setWeights(values);
  for (const { name, named, powers } of state.optimizers) {
    const optimizer = model.optimizers()[name]!;
    await optimizer.setWeights(named);
    const hidden = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
    hidden.accBeta1.assign(powers[0]!);
    hidden.accBeta2.assign(powers[1]!);
  }
}

beforeAll(async () => {
  await initBackend({ force: 'cpu', logger: silentLogger });
});

describe('ConvVAE resume', () => {
  it('continues from restored weights, batch-norm statistics and Adam state with the same losses', async () => {
    const options = {
      imageShape: { height: 8, width: 8, channels: 1 as const },
      latentDim: 3,
      filters: [4, 8],
      klWarmupSteps: 4,
      seed: 8,
    };
    const images = tf.tensor4d(
      Array.from({ length: 4 * 64 }, (_, i) => Math.cos(0.3 * i)),
      [4, 8, 8, 1],
    );
    const losses = async (model: GenerativeModel, step: number) => {
      const out = model.trainStep({ images }, { step, seed: 500 + step });
      const values = await Promise.all(Object.values(out).map(async (t) => (await t.data())[0]));
      tf.dispose(Object.values(out));
      return values;
    };

    const uninterrupted = createConvVAE(options);
    for (let step = 0; step < 2; step++) await losses(uninterrupted, step);
    // The loss of step 3 depends on the Adam update of step 2, so on the restored optimizer.
    const expected = [await losses(uninterrupted, 2), await losses(uninterrupted, 3)];

    const first = createConvVAE(options);
    for (let step = 0; step < 2; step++) await losses(first, step);
    const state = await snapshot(first);
    first.dispose();
    const resumed = createVaeFromConfig(JSON.parse(JSON.stringify(uninterrupted.config)));
    await restore(resumed, state);
    expect([await losses(resumed, 2), await losses(resumed, 3)]).toEqual(expected);

    const a = uninterrupted.sample(2, { seed: 1 });
    const b = resumed.sample(2, { seed: 1 });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b, images]);
    uninterrupted.dispose();
    resumed.dispose();
  });
});
