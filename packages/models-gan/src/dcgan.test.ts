import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, expectNoLeaks, initBackend, silentLogger, setLogger } from '@gensynth/core';
import { createDCGAN, type DCGAN } from './dcgan';
import type { DCGANOptions } from './options';
import type { GanLossName } from './losses';

// Tiny networks keep the pure-JS CPU backend fast.
const TINY: DCGANOptions = {
  imageShape: { height: 16, width: 16, channels: 1 },
  latentDim: 8,
  generatorFilters: 4,
  discriminatorFilters: 4,
  seed: 7,
};

beforeAll(async () => {
  setLogger(silentLogger);
  await initBackend({ force: 'cpu', logger: silentLogger });
});

/** A seeded batch of images in [-1, 1]. */
function makeBatch(seed: number, n = 4, size = 16, channels = 1) {
  return {
    images: tf.tidy(() =>
      tf.randomUniform([n, size, size, channels], -1, 1, 'float32', seed),
    ) as tf.Tensor4D,
  };
}

/** Run a step and return its losses as plain numbers, disposing the scalars. */
function step(
  model: DCGAN,
  images: tf.Tensor4D,
  index: number,
  rootSeed = 99,
): Record<string, number> {
  const out = model.trainStep({ images }, { step: index, seed: deriveSeed(rootSeed, index) });
  const values = Object.fromEntries(
    Object.entries(out).map(([k, t]) => [k, t.dataSync()[0] as number]),
  );
  tf.dispose(Object.values(out));
  return values;
}

function weightsOf(model: DCGAN): Float32Array[] {
  const { generator, discriminator } = model.networks();
  return [...generator.getWeights(), ...discriminator.getWeights()].map(
    (w) => w.dataSync() as Float32Array,
  );
}

describe('createDCGAN shapes', () => {
  it('maps latents [B, Z] to images [B, H, W, C] in [-1, 1] and images to logits [B, 1]', () => {
    const model = createDCGAN({ ...TINY, imageShape: { height: 32, width: 32, channels: 3 } });
    const images = model.sample(3, { seed: 1 });
    expect(images.shape).toEqual([3, 32, 32, 3]);
    const data = images.dataSync();
    expect(Math.max(...data)).toBeLessThanOrEqual(1);
    expect(Math.min(...data)).toBeGreaterThanOrEqual(-1);
    const logits = model.networks().discriminator.predict(images) as tf.Tensor;
    expect(logits.shape).toEqual([3, 1]);
    tf.dispose([images, logits]);
    model.dispose();
  });

  it('derives depth from the image size so G starts at 4x4, with DCGAN filter widths', () => {
    const model = createDCGAN({ ...TINY, imageShape: { height: 32, width: 32, channels: 1 } });
    expect(model.config.depth).toBe(3);
    const { generator, discriminator } = model.networks();
    const reshape = generator.layers.find((l) => l.getClassName() === 'Reshape')!;
    expect(reshape.outputShape).toEqual([null, 4, 4, 16]); // generatorFilters 4 · 2^(3-1)
    const convs = discriminator.layers.filter((l) => l.getClassName() === 'Conv2D');
    expect(convs.map((l) => l.outputShape)).toEqual([
      [null, 16, 16, 4],
      [null, 8, 8, 8],
      [null, 4, 4, 16],
    ]);
    model.dispose();
  });

  it('uses the given latents and the given seed reproducibly', () => {
    const model = createDCGAN(TINY);
    const latents = tf.randomNormal([2, 8], 0, 1, 'float32', 3) as tf.Tensor2D;
    const a = model.sample(2, { latents });
    const b = model.sample(2, { latents });
    const c = model.sample(2, { seed: 5 });
    const d = model.sample(2, { seed: 5 });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(c.dataSync())).toEqual(Array.from(d.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    tf.dispose([latents, a, b, c, d]);
    model.dispose();
  });

  it('samples reproducibly with seed 0 too, which tf.randomNormal takes for no seed', () => {
    const model = createDCGAN(TINY);
    const a = model.sample(2, { seed: 0 });
    const b = model.sample(2, { seed: 0 });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([a, b]);
    model.dispose();
  });

  it('exposes a JSON config with family gan and the resolved defaults', () => {
    const model = createDCGAN(TINY);
    expect(model.config).toMatchObject({
      family: 'gan',
      architecture: 'dcgan',
      loss: 'non-saturating',
    });
    expect(model.config.generatorOptimizer).toEqual({
      type: 'adam',
      learningRate: 2e-4,
      beta1: 0.5,
      beta2: 0.999,
      epsilon: 1e-8,
    });
    expect(JSON.parse(JSON.stringify(model.config))).toEqual(model.config);
    expect(Object.isFrozen(model.config)).toBe(true);
    model.dispose();
  });
});

describe('DCGAN.trainStep memory', () => {
  it('creates only the Adam slots on the first step and leaks nothing after', async () => {
    const model = createDCGAN(TINY);
    const batch = makeBatch(1);
    const before = tf.memory().numTensors;
    const trainable = [model.networks().generator, model.networks().discriminator]
      .map((n) => n.trainableWeights.length)
      .reduce((a, b) => a + b);
    step(model, batch.images, 0);
    expect(tf.memory().numTensors - before).toBe(2 * trainable); // first and second moments
    const out = await expectNoLeaks(() => model.trainStep(batch, { step: 1, seed: 3 }), {
      where: 'trainStep',
      allowReturned: 4,
    });
    expect(Object.keys(out).sort()).toEqual(['d/fake', 'd/real', 'loss/d', 'loss/g']);
    tf.dispose(Object.values(out));
    await expectNoLeaks(() => tf.dispose(model.sample(2, { seed: 1 })), { where: 'sample' });
    batch.images.dispose();
    model.dispose();
  });

  it('leaks nothing with WGAN-GP, R1 and layer norm in D', async () => {
    const model = createDCGAN({
      ...TINY,
      loss: 'wgan-gp',
      r1Gamma: 1,
      discriminatorNormalization: 'layer',
    });
    const batch = makeBatch(2);
    step(model, batch.images, 0);
    const out = await expectNoLeaks(() => model.trainStep(batch, { step: 1, seed: 3 }), {
      allowReturned: 6,
    });
    expect(Object.keys(out).sort()).toEqual([
      'd/fake',
      'd/real',
      'loss/d',
      'loss/g',
      'loss/gp',
      'loss/r1',
    ]);
    tf.dispose(Object.values(out));
    batch.images.dispose();
    model.dispose();
  });

  it('frees every tensor it holds on dispose', () => {
    const before = tf.memory().numTensors;
    const model = createDCGAN(TINY);
    const batch = makeBatch(1);
    step(model, batch.images, 0);
    batch.images.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('DCGAN.trainStep smoke runs', () => {
  const losses: [GanLossName, Partial<DCGANOptions>][] = [
    ['non-saturating', {}],
    ['minimax', { generatorNormalization: 'layer', generatorActivation: 'leakyRelu' }],
    ['hinge', { discriminatorNormalization: 'batch' }],
    ['wgan', { optimizer: { type: 'sgd', learningRate: 5e-3 } }],
    ['lsgan', { generatorNormalization: 'none', generatorActivation: 'elu' }],
    ['wgan-gp', { discriminatorNormalization: 'layer', discriminatorActivation: 'relu' }],
  ];

  it.each(losses)('runs two finite steps with loss %s and changes both networks', (loss, extra) => {
    const model = createDCGAN({ ...TINY, loss, ...extra });
    const batch = makeBatch(4, 4, 16);
    const initial = weightsOf(model);
    for (let i = 0; i < 2; i++) {
      const values = step(model, batch.images, i);
      for (const v of Object.values(values)) expect(Number.isFinite(v)).toBe(true);
    }
    const after = weightsOf(model);
    const { generator } = model.networks();
    const gCount = generator.getWeights().length;
    const changed = (from: number, to: number) =>
      after.slice(from, to).some((w, i) => w.some((x, j) => x !== initial[from + i]![j]));
    expect(changed(0, gCount)).toBe(true);
    expect(changed(gCount, after.length)).toBe(true);
    batch.images.dispose();
    model.dispose();
  });

  it('keeps WGAN critic weights inside [-clip, clip]', () => {
    const model = createDCGAN({
      ...TINY,
      loss: 'wgan',
      wganClipValue: 0.01,
      optimizer: { learningRate: 0.05 },
    });
    const batch = makeBatch(5);
    step(model, batch.images, 0);
    const critic = model.networks().discriminator.trainableWeights.map((w) => w.read().dataSync());
    for (const w of critic)
      expect(Math.max(...Array.from(w).map(Math.abs))).toBeLessThanOrEqual(0.01 + 1e-7);
    batch.images.dispose();
    model.dispose();
  });
});

describe('DCGAN generator EMA', () => {
  it('averages trainable weights with emaDecay, copies batch-norm statistics and samples from it', async () => {
    const model = createDCGAN({ ...TINY, emaDecay: 0.75 });
    const { generator, ema } = model.networks();
    expect(ema).toBeDefined();
    const initial = generator.getWeights().map((w) => Array.from(w.dataSync()));
    const batch = makeBatch(6);
    step(model, batch.images, 0);
    const out = await expectNoLeaks(() => model.trainStep(batch, { step: 1, seed: 4 }), {
      allowReturned: 4,
    });
    tf.dispose(Object.values(out));
    // After two steps: ema = 0.75^2 w0 + 0.75·0.25 w1 + 0.25 w2; check the last update only.
    const before = ema!.getWeights().map((w) => Array.from(w.dataSync()));
    const gBefore = generator.getWeights().map((w) => Array.from(w.dataSync()));
    expect(before.flat()).not.toEqual(initial.flat());
    step(model, batch.images, 2);
    const gAfter = generator.getWeights().map((w) => Array.from(w.dataSync()));
    const after = ema!.getWeights().map((w) => Array.from(w.dataSync()));
    ema!.weights.forEach((w, i) => {
      const expected = w.trainable
        ? before[i]!.map((x, j) => 0.75 * x + 0.25 * gAfter[i]![j]!)
        : gAfter[i]!;
      after[i]!.forEach((x, j) => expect(x).toBeCloseTo(expected[j]!, 6));
    });
    expect(gBefore.flat()).not.toEqual(gAfter.flat());
    const latents = tf.randomNormal([2, 8], 0, 1, 'float32', 1) as tf.Tensor2D;
    const sampled = model.sample(2, { latents });
    const fromEma = ema!.predict(latents) as tf.Tensor;
    expect(Array.from(sampled.dataSync())).toEqual(Array.from(fromEma.dataSync()));
    tf.dispose([latents, sampled, fromEma, batch.images]);
    model.dispose();
  });

  it('has no ema network when emaDecay is 0 (the default)', () => {
    const model = createDCGAN(TINY);
    expect(Object.keys(model.networks()).sort()).toEqual(['discriminator', 'generator']);
    model.dispose();
  });
});
