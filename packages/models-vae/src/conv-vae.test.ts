import * as tf from '@tensorflow/tfjs-core';
import {
  expectNoLeaks,
  initBackend,
  isGensynthError,
  silentLogger,
  type Batch,
} from '@gensynth/core';
import { createConvVAE, createVaeFromConfig, type ConvVAE } from './conv-vae';
import { DEFAULT_VAE_OPTIONS, type ConvVaeOptions } from './options';

const TINY: ConvVaeOptions = {
  imageShape: { height: 8, width: 8, channels: 1 },
  latentDim: 4,
  filters: [4, 8],
  seed: 7,
};

/** A deterministic batch in [-1, 1]: smooth ramps, different per image. */
function tinyBatch(size = 4, shape = TINY.imageShape): Batch {
  const { height, width, channels } = shape;
  const values: number[] = [];
  for (let b = 0; b < size; b++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < channels; c++) values.push(Math.sin(0.7 * x + 0.4 * y + b + c));
      }
    }
  }
  return { images: tf.tensor4d(values, [size, height, width, channels]) };
}

async function scalars(losses: Record<string, tf.Scalar>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(losses)) out[name] = (await value.data())[0] as number;
  tf.dispose(Object.values(losses));
  return out;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

beforeAll(async () => {
  await initBackend({ force: 'cpu', logger: silentLogger });
});

describe('ConvVAE shapes', () => {
  let model: ConvVAE;
  beforeAll(() => {
    model = createConvVAE(TINY);
  });
  afterAll(() => model.dispose());

  it('encodes to [B, Z] and decodes back to [B, H, W, C] in [-1, 1]', () => {
    const batch = tinyBatch(3);
    const { mu, logvar } = model.encode(batch.images);
    expect(mu.shape).toEqual([3, 4]);
    expect(logvar.shape).toEqual([3, 4]);
    const images = model.decode(mu);
    expect(images.shape).toEqual([3, 8, 8, 1]);
    const recon = model.reconstruct(batch.images);
    expect(recon.shape).toEqual([3, 8, 8, 1]);
    tf.dispose([mu, logvar, images, recon, batch.images]);
  });

  it('samples n images in [-1, 1], the same for the same seed', () => {
    const a = model.sample(5, { seed: 11 });
    const b = model.sample(5, { seed: 11 });
    const c = model.sample(5, { seed: 12 });
    expect(a.shape).toEqual([5, 8, 8, 1]);
    expect(tf.min(a).dataSync()[0]).toBeGreaterThanOrEqual(-1);
    expect(tf.max(a).dataSync()[0]).toBeLessThanOrEqual(1);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    tf.dispose([a, b, c]);
  });

  it('samples the same images for seed 0 on every call', () => {
    const a = model.sample(2, { seed: 0 });
    const b = model.sample(2, { seed: 0 });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([a, b]);
  });

  it('decodes given latents and names its networks and optimizer', () => {
    const latents = tf.zeros([2, 4]) as tf.Tensor2D;
    const images = model.sample(2, { latents });
    expect(images.shape).toEqual([2, 8, 8, 1]);
    expect(() => model.sample(3, { latents })).toThrow(
      'ConvVAE.sample(options.latents): expected 3 rows (one latent per image); received shape [2, 4]',
    );
    tf.dispose([latents, images]);
    expect(Object.keys(model.networks())).toEqual(['encoder', 'decoder']);
    expect(Object.keys(model.optimizers())).toEqual(['vae']);
    expect(model.config.family).toBe('vae');
  });

  it.each(['layer', 'none'] as const)(
    'builds and steps with normalization %s',
    async (normalization) => {
      const m = createConvVAE({ ...TINY, normalization, activation: 'swish' });
      const batch = tinyBatch();
      const losses = await scalars(m.trainStep(batch, { step: 0, seed: 1 }));
      expect(Number.isFinite(losses['loss/total'])).toBe(true);
      m.dispose();
      batch.images.dispose();
    },
  );
});

describe('ConvVAE.trainStep', () => {
  it('leaks no tensors across a step (after the optimizer has made its slots)', async () => {
    const model = createConvVAE(TINY);
    const batch = tinyBatch();
    await scalars(model.trainStep(batch, { step: 0, seed: 1 }));
    await expectNoLeaks(
      () => tf.dispose(Object.values(model.trainStep(batch, { step: 1, seed: 2 }))),
      { where: 'ConvVAE.trainStep' },
    );
    model.dispose();
    batch.images.dispose();
  });

  it('runs two steps on tiny seeded data with finite, consistent losses', async () => {
    for (const reconstruction of ['gaussian', 'bernoulli'] as const) {
      const model = createConvVAE({ ...TINY, reconstruction, beta: 0.5 });
      const batch = tinyBatch();
      for (let step = 0; step < 2; step++) {
        const l = await scalars(model.trainStep(batch, { step, seed: 100 + step }));
        expect(Object.keys(l).sort()).toEqual(['loss/kl', 'loss/reconstruction', 'loss/total']);
        expect(l['loss/kl']).toBeGreaterThanOrEqual(0);
        expect(l['loss/total']).toBeCloseTo(l['loss/reconstruction']! + 0.5 * l['loss/kl']!, 4);
      }
      model.dispose();
      batch.images.dispose();
    }
  });

  it('gives identical losses for the same seeds and different ones for another step seed', async () => {
    const run = async (stepSeeds: number[]) => {
      const model = createConvVAE({ ...TINY, seed: 3 });
      const batch = tinyBatch();
      const out = [];
      for (const [step, seed] of stepSeeds.entries()) {
        out.push(await scalars(model.trainStep(batch, { step, seed })));
      }
      model.dispose();
      batch.images.dispose();
      return out;
    };
    const a = await run([5, 6]);
    const b = await run([5, 6]);
    const c = await run([5, 9]);
    expect(b).toEqual(a);
    expect(c[0]).toEqual(a[0]);
    expect(c[1]!['loss/total']).not.toEqual(a[1]!['loss/total']);
  });

  it('ramps the KL weight linearly over klWarmupSteps', () => {
    const model = createConvVAE({ ...TINY, beta: 2, klWarmupSteps: 4 });
    expect([0, 1, 2, 4, 10].map((s) => model.klWeight(s))).toEqual([0, 0.5, 1, 2, 2]);
    model.dispose();
  });
});

describe('VAE config', () => {
  it('round-trips through JSON and rebuilds an identical model', async () => {
    const model = createConvVAE({ ...TINY, reconstruction: 'bernoulli' });
    const json = JSON.parse(JSON.stringify(model.config));
    expect(json).toEqual({
      ...DEFAULT_VAE_OPTIONS,
      ...TINY,
      reconstruction: 'bernoulli',
      family: 'vae',
    });
    const copy = createVaeFromConfig(json);
    expect(copy.config).toEqual(model.config);
    const batch = tinyBatch();
    const a = await scalars(model.trainStep(batch, { step: 0, seed: 4 }));
    const b = await scalars(copy.trainStep(batch, { step: 0, seed: 4 }));
    expect(b).toEqual(a);
    tf.dispose(batch.images);
    model.dispose();
    copy.dispose();
  });

  it('rejects a config of another family', () => {
    const error = thrown(() => createVaeFromConfig({ family: 'gan' }));
    expect(error.message).toContain("createVaeFromConfig(config.family): expected 'vae'");
  });
});

describe('createConvVAE errors', () => {
  it.each([
    [
      { reconstruction: 'poisson' },
      "options.reconstruction): expected one of 'gaussian', 'bernoulli'; received \"poisson\"",
    ],
    [
      { normalization: 'group' },
      "options.normalization): expected one of 'batch', 'layer', 'none'",
    ],
    [
      { activation: 'gelu' },
      "options.activation): expected one of 'leakyRelu', 'relu', 'elu', 'swish'",
    ],
    [{ latentDim: 0 }, 'options.latentDim): expected a positive integer; received 0'],
    [{ filters: [] }, 'options.filters): expected a non-empty array'],
    [{ beta: -1 }, 'options.beta): expected a finite number >= 0; received -1'],
    [{ imageShape: { height: 10, width: 8, channels: 1 } }, 'multiples of 2 ** filters.length = 4'],
    [{ latentDims: 3 }, 'options.latentDims): expected one of the options'],
  ])('names the field and the allowed values for %j', (bad, message) => {
    const error = thrown(() => createConvVAE({ ...TINY, ...(bad as object) } as ConvVaeOptions));
    expect(isGensynthError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(error.message).toContain(message);
  });

  it('rejects images of the wrong shape in encode', () => {
    const model = createConvVAE(TINY);
    const wrong = tf.zeros([2, 16, 16, 1]) as tf.Tensor4D;
    const error = thrown(() => model.encode(wrong));
    expect(error.message).toContain(
      'ConvVAE.encode(images): expected a [B, 8, 8, 1] tensor; received shape [2, 16, 16, 1]',
    );
    wrong.dispose();
    model.dispose();
  });
});
