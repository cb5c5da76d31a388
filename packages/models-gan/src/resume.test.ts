import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, initBackend, silentLogger, setLogger } from '@gensynth/core';
import { createDCGAN, createGanFromConfig, type DCGAN } from './dcgan';
import type { DCGANOptions } from './options';

const TINY: DCGANOptions = {
  imageShape: { height: 16, width: 16, channels: 1 },
  latentDim: 8,
  generatorFilters: 4,
  discriminatorFilters: 4,
  seed: 11,
};
const ROOT_SEED = 2024;

let batches: tf.Tensor4D[];

beforeAll(async () => {
  setLogger(silentLogger);
  await initBackend({ force: 'cpu', logger: silentLogger });
  batches = [0, 1, 2].map(
    (i) => tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 500 + i) as tf.Tensor4D,
  );
});
afterAll(() => tf.dispose(batches));

function step(model: DCGAN, index: number, rootSeed = ROOT_SEED): Record<string, number> {
  const out = model.trainStep(
    { images: batches[index]! },
    { step: index, seed: deriveSeed(rootSeed, index) },
  );
  const values = Object.fromEntries(
    Object.entries(out).map(([k, t]) => [k, t.dataSync()[0] as number]),
  );
  tf.dispose(Object.values(out));
  return values;
}

function weightsOf(model: DCGAN): number[][] {
  const { generator, discriminator } = model.networks();
  return [...generator.getWeights(), ...discriminator.getWeights()].map((w) =>
    Array.from(w.dataSync()),
  );
}

function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

describe('DCGAN seeded numeric regression', () => {
  it('gives identical weights and losses for the same seeds, different ones otherwise', () => {
    const a = createDCGAN(TINY);
    const b = createDCGAN(TINY);
    const c = createDCGAN({ ...TINY, seed: 12 });
    expect(weightsOf(a)).toEqual(weightsOf(b));
    expect(weightsOf(a)).not.toEqual(weightsOf(c));
    const lossesA = [0, 1].map((i) => step(a, i));
    const lossesB = [0, 1].map((i) => step(b, i));
    const lossesC = [0, 1].map((i) => step(c, i));
    expect(lossesA).toEqual(lossesB);
    expect(weightsOf(a)).toEqual(weightsOf(b));
    expect(lossesA[0]!['loss/d']).not.toBe(lossesC[0]!['loss/d']);
    const d = createDCGAN(TINY);
    expect(step(d, 0, ROOT_SEED + 1)['loss/g']).not.toBe(lossesA[0]!['loss/g']);
    [a, b, c, d].forEach((m) => m.dispose());
  });

  it('draws its initial weights from N(0, 0.02)', () => {
    const model = createDCGAN({ ...TINY, generatorFilters: 16, discriminatorFilters: 16 });
    const kernel = model.networks().discriminator.layers.find((l) => l.getClassName() === 'Dense')!;
    const w = Array.from(kernel.getWeights()[0]!.dataSync()); // [4·4·32·... , 1]
    const mean = w.reduce((s, x) => s + x, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, x) => s + (x - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.003);
    expect(Math.abs(std - 0.02)).toBeLessThan(0.003);
    model.dispose();
  });

  it('reports loss/d equal to the non-saturating definition on the networks before the update', () => {
    // Independent recomputation: the same latents (stream 0 of the step seed) through a twin
    // model, then softplus in float64 on the logits.
    const model = createDCGAN(TINY);
    const twin = createGanFromConfig(model.config);
    const seed = deriveSeed(ROOT_SEED, 0);
    const { generator, discriminator } = twin.networks();
    const [realLogits, fakeLogits] = tf.tidy(() => {
      const z = tf.randomNormal([4, 8], 0, 1, 'float32', deriveSeed(seed, 0));
      const fake = generator.apply(z, { training: true }) as tf.Tensor;
      return [
        Array.from((discriminator.apply(batches[0]!, { training: true }) as tf.Tensor).dataSync()),
        Array.from((discriminator.apply(fake, { training: true }) as tf.Tensor).dataSync()),
      ];
    });
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const expected = mean(realLogits!.map((x) => softplus(-x))) + mean(fakeLogits!.map(softplus));
    const losses = step(model, 0);
    expect(Math.abs(losses['loss/d']! - expected)).toBeLessThan(1e-5);
    expect(Math.abs(losses['d/real']! - mean(realLogits!))).toBeLessThan(1e-6);
    [model, twin].forEach((m) => m.dispose());
  });
});

describe('createGanFromConfig', () => {
  it('rebuilds the same architecture, and with copied weights the same samples', () => {
    const model = createDCGAN({ ...TINY, loss: 'hinge', generatorNormalization: 'layer' });
    step(model, 0);
    const rebuilt = createGanFromConfig(JSON.parse(JSON.stringify(model.config)));
    expect(rebuilt.config).toEqual(model.config);
    const shapes = (m: DCGAN) => weightsOfShape(m);
    expect(shapes(rebuilt)).toEqual(shapes(model));
    for (const name of ['generator', 'discriminator'] as const) {
      rebuilt.networks()[name].setWeights(model.networks()[name].getWeights());
    }
    const a = model.sample(3, { seed: 4 });
    const b = rebuilt.sample(3, { seed: 4 });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b]);
    [model, rebuilt].forEach((m) => m.dispose());
  });
});

function weightsOfShape(model: DCGAN): number[][] {
  const { generator, discriminator } = model.networks();
  return [...generator.getWeights(), ...discriminator.getWeights()].map((w) => w.shape);
}

/** What a checkpoint keeps: every network weight and every optimizer slot, copied. */
async function saveState(model: DCGAN) {
  const networks = Object.entries(model.networks()).map(
    ([name, net]) => [name, net.getWeights().map((w) => w.clone())] as const,
  );
  const optimizers = await Promise.all(
    Object.entries(model.optimizers()).map(async ([name, opt]) => {
      const weights = await opt.getWeights();
      return [name, weights.map((w) => ({ name: w.name, tensor: w.tensor.clone() }))] as const;
    }),
  );
  return { networks, optimizers };
}

async function restoreState(model: DCGAN, state: Awaited<ReturnType<typeof saveState>>) {
  const nets = model.networks() as Record<string, { setWeights(w: tf.Tensor[]): void }>;
  const opts = model.optimizers() as Record<string, tf.Optimizer>;
  for (const [name, weights] of state.networks) nets[name]!.setWeights(weights);
  for (const [name, weights] of state.optimizers) await opts[name]!.setWeights(weights);
}

describe('DCGAN checkpoint resume', () => {
  it.each([
    ['adam', {}],
    ['adam with a generator EMA', { emaDecay: 0.9 }],
    [
      'sgd with batch norm in D and R1',
      {
        optimizer: { type: 'sgd' as const, learningRate: 0.01 },
        discriminatorNormalization: 'batch' as const,
        r1Gamma: 0.5,
      },
    ],
  ])('replays step 3 exactly after restoring weights and %s slots', async (_, extra) => {
    const options = { ...TINY, ...extra };
    const uninterrupted = createDCGAN(options);
    const expected = [0, 1, 2].map((i) => step(uninterrupted, i));

    const first = createDCGAN(options);
    expect([0, 1].map((i) => step(first, i))).toEqual(expected.slice(0, 2));
    const saved = await saveState(first);
    const adamSlots = saved.optimizers.map(([, w]) => w.length);
    first.dispose();

    const resumed = createGanFromConfig(JSON.parse(JSON.stringify(uninterrupted.config)));
    await restoreState(resumed, saved);
    expect(step(resumed, 2)).toEqual(expected[2]);
    expect(weightsOf(resumed)).toEqual(weightsOf(uninterrupted));
    const [x, y] = [resumed, uninterrupted].map((m) => m.sample(2, { seed: 9 }));
    expect(Array.from(x!.dataSync())).toEqual(Array.from(y!.dataSync())); // uses the EMA when on
    tf.dispose([x!, y!]);
    if (!('optimizer' in extra)) {
      // Adam: iterations + first and second moments of every trainable weight.
      const { generator, discriminator } = uninterrupted.networks();
      const trainable = [generator, discriminator].map((n) => n.trainableWeights.length);
      expect(adamSlots).toEqual(trainable.map((t) => 1 + 2 * t));
    }
    tf.dispose(saved.networks.flatMap(([, w]) => w));
    tf.dispose(saved.optimizers.flatMap(([, w]) => w.map((x) => x.tensor)));
    [uninterrupted, resumed].forEach((m) => m.dispose());
  });
});
