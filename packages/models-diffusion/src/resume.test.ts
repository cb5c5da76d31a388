import * as tf from '@tensorflow/tfjs-core';
import { initBackend, silentLogger, type GenerativeModel } from '@gensynth/core';
import { createDiffusionFromConfig, createDiffusionModel } from './diffusion-model';

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

describe('DiffusionModel resume', () => {
  it('continues from restored weights, EMA and Adam state with the same losses', async () => {
    const options = {
      imageShape: { height: 8, width: 8, channels: 1 as const },
      blockOutChannels: [4, 8],
      normNumGroups: 2,
      attention: false,
      numTrainTimesteps: 50,
      emaDecay: 0.99,
      seed: 8,
    };
    const images = tf.tensor4d(
      Array.from({ length: 2 * 64 }, (_, i) => Math.cos(0.3 * i)),
      [2, 8, 8, 1],
    );
    const loss = async (model: GenerativeModel, step: number) => {
      const losses = model.trainStep({ images }, { step, seed: 500 + step });
      const value = (await losses['loss/diffusion']!.data())[0];
      tf.dispose(Object.values(losses));
      return value;
    };

    const uninterrupted = createDiffusionModel(options);
    const expected = [];
    for (let step = 0; step < 4; step++) expected.push(await loss(uninterrupted, step));

    const first = createDiffusionModel(options);
    await loss(first, 0);
    await loss(first, 1);
    const state = await snapshot(first);
    first.dispose();
    const resumed = createDiffusionFromConfig(JSON.parse(JSON.stringify(uninterrupted.config)));
    await restore(resumed, state);
    // The loss of step 3 depends on the Adam update of step 2, so on the restored optimizer.
    expect([await loss(resumed, 2), await loss(resumed, 3)]).toEqual(expected.slice(2));

    const a = uninterrupted.sample(1, { seed: 1, numInferenceSteps: 2 });
    const b = resumed.sample(1, { seed: 1, numInferenceSteps: 2 });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b, images]);
    uninterrupted.dispose();
    resumed.dispose();
  });
});
