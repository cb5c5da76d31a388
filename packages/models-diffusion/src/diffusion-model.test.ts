import * as tf from '@tensorflow/tfjs-core';
import {
  expectNoLeaks,
  initBackend,
  isGensynthError,
  silentLogger,
  type Batch,
} from '@gensynth/core';
import { createDiffusionFromConfig, createDiffusionModel } from './diffusion-model';
import { DEFAULT_DIFFUSION_OPTIONS, type DiffusionOptions } from './options';

const TINY: DiffusionOptions = {
  imageShape: { height: 8, width: 8, channels: 1 },
  // Tiny on purpose: tfjs' CPU Conv2DBackpropFilter is slow (see the README's Limitations).
  blockOutChannels: [4, 8],
  normNumGroups: 2,
  attention: false,
  numTrainTimesteps: 100,
  numInferenceSteps: 4,
  seed: 3,
};

/** A deterministic batch in [-1, 1]. */
function tinyBatch(size = 2): Batch {
  const { height, width, channels } = TINY.imageShape;
  const values = Array.from({ length: size * height * width * channels }, (_, i) =>
    Math.sin(0.37 * i),
  );
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

describe('DiffusionModel.sample', () => {
  it.each(['ddim', 'ddpm'] as const)(
    'draws [n, H, W, C] in [-1, 1], reproducibly per seed (%s)',
    (sampler) => {
      const model = createDiffusionModel({ ...TINY, sampler });
      const before = tf.memory().numTensors;
      const a = model.sample(2, { seed: 1 });
      expect(tf.memory().numTensors - before).toBe(1);
      const b = model.sample(2, { seed: 1 });
      const c = model.sample(2, { seed: 2, numInferenceSteps: 2 });
      expect(a.shape).toEqual([2, 8, 8, 1]);
      expect(c.shape).toEqual([2, 8, 8, 1]);
      const values = Array.from(a.dataSync());
      expect(Math.min(...values)).toBeGreaterThanOrEqual(-1);
      expect(Math.max(...values)).toBeLessThanOrEqual(1);
      expect(Array.from(b.dataSync())).toEqual(values);
      expect(Array.from(c.dataSync())).not.toEqual(values);
      tf.dispose([a, b, c]);
      model.dispose();
    },
  );

  it('starts from given latents [n, H*W*C] and checks their shape', () => {
    const model = createDiffusionModel(TINY);
    const latents = tf.randomNormal([1, 64], 0, 1, 'float32', 9) as tf.Tensor2D;
    const image = model.sample(1, { latents, numInferenceSteps: 1 });
    expect(image.shape).toEqual([1, 8, 8, 1]);
    expect(latents.isDisposed).toBe(false);
    const error = thrown(() => model.sample(2, { latents }));
    expect(error.message).toContain(
      'DiffusionModel.sample(options.latents): expected shape [2, 64]',
    );
    tf.dispose([latents, image]);
    model.dispose();
  });

  it('names its networks and optimizer', () => {
    const model = createDiffusionModel(TINY);
    expect(Object.keys(model.networks())).toEqual(['unet']);
    expect(Object.keys(model.optimizers())).toEqual(['unet']);
    expect(model.networks().unet!.getWeights().length).toBeGreaterThan(10);
    model.dispose();
  });
});

describe('DiffusionModel.trainStep', () => {
  it('leaks no tensors across a step (after the optimizer has made its slots)', async () => {
    const model = createDiffusionModel(TINY);
    const batch = tinyBatch();
    await scalars(model.trainStep(batch, { step: 0, seed: 1 }));
    await expectNoLeaks(
      () => tf.dispose(Object.values(model.trainStep(batch, { step: 1, seed: 2 }))),
      {
        where: 'DiffusionModel.trainStep',
      },
    );
    model.dispose();
    batch.images.dispose();
  });

  it.each(['epsilon', 'v_prediction', 'sample'] as const)(
    'runs two steps on tiny seeded data with a finite loss (%s)',
    async (predictionType) => {
      const model = createDiffusionModel({
        ...TINY,
        predictionType,
        attention: predictionType === 'epsilon',
      });
      const batch = tinyBatch();
      for (let step = 0; step < 2; step++) {
        const losses = await scalars(model.trainStep(batch, { step, seed: 10 + step }));
        expect(Object.keys(losses)).toEqual(['loss/diffusion']);
        expect(losses['loss/diffusion']).toBeGreaterThan(0);
        expect(Number.isFinite(losses['loss/diffusion'])).toBe(true);
      }
      model.dispose();
      batch.images.dispose();
    },
  );

  it('gives identical losses for the same seeds and different ones for another step seed', async () => {
    const run = async (seeds: number[]) => {
      const model = createDiffusionModel(TINY);
      const batch = tinyBatch();
      const out = [];
      for (const [step, seed] of seeds.entries())
        out.push(await scalars(model.trainStep(batch, { step, seed })));
      model.dispose();
      batch.images.dispose();
      return out;
    };
    const a = await run([5, 6]);
    const b = await run([5, 6]);
    const c = await run([5, 7]);
    expect(b).toEqual(a);
    expect(c[0]).toEqual(a[0]);
    expect(c[1]!['loss/diffusion']).not.toEqual(a[1]!['loss/diffusion']);
  });

  it('computes the loss without training when asked', () => {
    const model = createDiffusionModel(TINY);
    const batch = tinyBatch();
    const weightsBefore = Array.from(model.unet.getWeights()[0]!.dataSync());
    const loss = model.computeLoss(batch, { step: 0, seed: 1 });
    expect(loss.shape).toEqual([]);
    expect(Array.from(model.unet.getWeights()[0]!.dataSync())).toEqual(weightsBefore);
    tf.dispose([loss, batch.images]);
    model.dispose();
  });
});

describe('DiffusionModel EMA', () => {
  it('averages the weights with the warmed-up decay and samples with them', async () => {
    const model = createDiffusionModel({ ...TINY, emaDecay: 0.9 });
    expect(Object.keys(model.networks())).toEqual(['unet', 'ema']);
    const initial = Array.from(model.unet.getWeights()[0]!.dataSync());
    expect(Array.from(model.ema!.getWeights()[0]!.dataSync())).toEqual(initial);
    const batch = tinyBatch();
    await scalars(model.trainStep(batch, { step: 0, seed: 1 }));
    // step 0: decay = min(0.9, (1 + 0) / (10 + 0)) = 0.1
    const trained = model.unet.getWeights()[0]!.dataSync();
    const average = model.ema!.getWeights()[0]!.dataSync();
    initial.forEach((w0, i) => {
      expect(average[i]).toBeCloseTo(0.1 * w0 + 0.9 * trained[i]!, 6);
    });
    const withEma = model.sample(1, { seed: 3, numInferenceSteps: 1 });
    const withoutEma = model.sample(1, { seed: 3, numInferenceSteps: 1, useEma: false });
    expect(Array.from(withEma.dataSync())).not.toEqual(Array.from(withoutEma.dataSync()));
    tf.dispose([withEma, withoutEma, batch.images]);
    model.dispose();
  });
});

describe('diffusion config', () => {
  it('round-trips through JSON and rebuilds an identical model', async () => {
    const model = createDiffusionModel({ ...TINY, betaSchedule: 'squaredcos_cap_v2' });
    const json = JSON.parse(JSON.stringify(model.config));
    expect(json).toEqual({
      ...DEFAULT_DIFFUSION_OPTIONS,
      ...TINY,
      betaSchedule: 'squaredcos_cap_v2',
      family: 'diffusion',
    });
    const copy = createDiffusionFromConfig(json);
    expect(copy.config).toEqual(model.config);
    const batch = tinyBatch();
    const a = await scalars(model.trainStep(batch, { step: 0, seed: 4 }));
    const b = await scalars(copy.trainStep(batch, { step: 0, seed: 4 }));
    expect(b).toEqual(a);
    batch.images.dispose();
    model.dispose();
    copy.dispose();
  });

  it('rejects a config of another family', () => {
    expect(thrown(() => createDiffusionFromConfig({ family: 'vae' })).message).toContain(
      'createDiffusionFromConfig(config.family): expected \'diffusion\'; received "vae"',
    );
  });
});

describe('createDiffusionModel errors', () => {
  it.each([
    [
      { predictionType: 'eps' },
      "options.predictionType): expected one of 'epsilon', 'v_prediction', 'sample'; received \"eps\"",
    ],
    [
      { betaSchedule: 'cosine' },
      "options.betaSchedule): expected one of 'linear', 'scaled_linear', 'squaredcos_cap_v2'",
    ],
    [{ sampler: 'euler' }, "options.sampler): expected one of 'ddpm', 'ddim'"],
    [
      { timestepSpacing: 'uniform' },
      "options.timestepSpacing): expected one of 'leading', 'trailing', 'linspace'",
    ],
    [
      { normNumGroups: 3 },
      'options.normNumGroups): expected a divisor of every blockOutChannels entry (4, 8); received 3',
    ],
    [
      { imageShape: { height: 9, width: 8, channels: 1 } },
      'height, width multiples of 2 ** (blockOutChannels.length - 1) = 2',
    ],
    [
      { numInferenceSteps: 101 },
      'options.numInferenceSteps): expected at most numTrainTimesteps = 100; received 101',
    ],
    [{ eta: -1 }, 'options.eta): expected a number >= 0; received -1'],
    [{ blockOutChannel: [8] }, 'options.blockOutChannel): expected one of the options'],
  ])('names the field and the allowed values for %j', (bad, message) => {
    const error = thrown(() =>
      createDiffusionModel({ ...TINY, ...(bad as object) } as DiffusionOptions),
    );
    expect(isGensynthError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(error.message).toContain(message);
  });

  it('rejects a batch of the wrong image shape', () => {
    const model = createDiffusionModel(TINY);
    const images = tf.zeros([1, 16, 16, 1]) as tf.Tensor4D;
    expect(() => model.trainStep({ images }, { step: 0, seed: 0 })).toThrow(
      'DiffusionModel.computeLoss(batch.images): expected a [B, 8, 8, 1] tensor; received shape [1, 16, 16, 1]',
    );
    images.dispose();
    model.dispose();
  });
});
