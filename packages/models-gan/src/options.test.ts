import * as tf from '@tensorflow/tfjs-core';
import {
  initBackend,
  isGensynthError,
  silentLogger,
  setLogger,
  createLogger,
} from '@gensynth/core';
import { createDCGAN, createGanFromConfig } from './dcgan';
import { DCGAN_DEFAULTS, resolveDCGANConfig, type DCGANOptions } from './options';

const MNIST = { height: 32, width: 32, channels: 1 } as const;

beforeAll(async () => {
  setLogger(silentLogger);
  await initBackend({ force: 'cpu', logger: silentLogger });
});

/** The error `fn` throws, asserting that it is a GensynthError with `code`. */
function errorOf(fn: () => unknown, code = 'INVALID_ARGUMENT'): Error {
  try {
    fn();
  } catch (error) {
    expect(isGensynthError(error, code as never)).toBe(true);
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('resolveDCGANConfig', () => {
  it('fills every default and derives depth from the image size', () => {
    const config = resolveDCGANConfig({ imageShape: { height: 64, width: 64, channels: 3 } });
    expect(config).toEqual({
      family: 'gan',
      architecture: 'dcgan',
      imageShape: { height: 64, width: 64, channels: 3 },
      depth: 4,
      ...DCGAN_DEFAULTS,
    });
    expect(Object.isFrozen(DCGAN_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(DCGAN_DEFAULTS.generatorOptimizer)).toBe(true);
  });

  it('applies a shared optimizer option and per-network overrides', () => {
    const config = resolveDCGANConfig({
      imageShape: MNIST,
      optimizer: { learningRate: 1e-4, beta1: 0 },
      discriminatorOptimizer: { learningRate: 4e-4 },
    });
    expect(config.generatorOptimizer).toEqual({
      type: 'adam',
      learningRate: 1e-4,
      beta1: 0,
      beta2: 0.999,
      epsilon: 1e-8,
    });
    expect(config.discriminatorOptimizer).toEqual({
      type: 'adam',
      learningRate: 4e-4,
      beta1: 0,
      beta2: 0.999,
      epsilon: 1e-8,
    });
    expect('optimizer' in config).toBe(false);
  });

  it('accepts its own output as options', () => {
    const config = resolveDCGANConfig({ imageShape: MNIST, loss: 'hinge', depth: 2 });
    expect(resolveDCGANConfig(config)).toEqual(config);
  });
});

describe('DCGAN option errors', () => {
  it('names imageShape, the allowed sizes and the fix for 30x30 images', () => {
    const error = errorOf(() =>
      createDCGAN({ imageShape: { height: 30, width: 30, channels: 1 } }),
    );
    expect(error.message).toContain('createDCGAN(options.imageShape)');
    expect(error.message).toContain('power of two');
    expect(error.message).toContain('8, 16, 32, 64');
    expect(error.message).toContain('{"height":30,"width":30,"channels":1}');
    expect(error.message).toMatch(/Resize or pad/);
  });

  it('rejects non-square images, missing imageShape and a bad channel count', () => {
    expect(
      errorOf(() => createDCGAN({ imageShape: { height: 32, width: 64, channels: 3 } })).message,
    ).toContain('square');
    expect(errorOf(() => createDCGAN({} as DCGANOptions)).message).toContain('received undefined');
    const channels = errorOf(() =>
      createDCGAN({ imageShape: { height: 32, width: 32, channels: 2 as 1 } }),
    );
    expect(channels.message).toContain(
      'createDCGAN(options.imageShape.channels): expected one of 1, 3, 4; received 2',
    );
  });

  it('names the range of depth for the image size', () => {
    const error = errorOf(() => createDCGAN({ imageShape: MNIST, depth: 5 }));
    expect(error.message).toContain(
      'createDCGAN(options.depth): expected an integer in [1, 4]; received 5',
    );
    expect(error.message).toContain('default 3 starts G at 4x4');
  });

  it('lists the allowed losses, normalizations and activations', () => {
    expect(
      errorOf(() => createDCGAN({ imageShape: MNIST, loss: 'wasserstein' as never })).message,
    ).toContain(
      "options.loss): expected one of 'non-saturating', 'minimax', 'hinge', 'wgan', 'wgan-gp', 'lsgan'; received \"wasserstein\"",
    );
    expect(
      errorOf(() => createDCGAN({ imageShape: MNIST, generatorNormalization: 'instance' as never }))
        .message,
    ).toContain("expected one of 'batch', 'layer', 'none'");
    expect(
      errorOf(() => createDCGAN({ imageShape: MNIST, discriminatorActivation: 'gelu' as never }))
        .message,
    ).toContain("expected one of 'relu', 'leakyRelu', 'elu'");
  });

  it('reports unknown option names and bad numbers with their value', () => {
    expect(
      errorOf(() => createDCGAN({ imageShape: MNIST, latent_dim: 64 } as never)).message,
    ).toContain('unknown option "latent_dim"');
    expect(errorOf(() => createDCGAN({ imageShape: MNIST, latentDim: 0 })).message).toContain(
      'createDCGAN(options.latentDim): expected an integer in [1, 65536]; received 0',
    );
    expect(
      errorOf(() => createDCGAN({ imageShape: MNIST, optimizer: { learningRate: -1 } })).message,
    ).toContain(
      'createDCGAN(options.optimizer.learningRate): expected a finite number > 0; received -1',
    );
    expect(errorOf(() => createDCGAN({ imageShape: MNIST, seed: 1.5 })).message).toContain(
      'options.seed',
    );
    const typo = errorOf(() =>
      createDCGAN({ imageShape: MNIST, discriminatorOptimizer: { lr: 1 } as never }),
    );
    expect(typo.message).toContain(
      'createDCGAN(options.discriminatorOptimizer): expected only type,',
    );
    expect(typo.message).toContain('received unknown field "lr"');
  });

  it('refuses elu in D with a gradient penalty and warns about batch norm there', () => {
    const error = errorOf(() =>
      createDCGAN({ imageShape: MNIST, loss: 'wgan-gp', discriminatorActivation: 'elu' }),
    );
    expect(error.message).toContain('second derivatives');
    const warnings: string[] = [];
    const previous = setLogger(createLogger('warn', (_, m) => warnings.push(m)));
    resolveDCGANConfig({ imageShape: MNIST, r1Gamma: 1, discriminatorNormalization: 'batch' });
    setLogger(previous);
    expect(warnings.join('\n')).toContain('batch norm couples the samples');
  });

  it('rejects a config of another family in createGanFromConfig', () => {
    const error = errorOf(
      () => createGanFromConfig({ family: 'vae', architecture: 'conv' }),
      'INVALID_CONFIG',
    );
    expect(error.message).toContain('createGanFromConfig(config)');
    expect(error.message).toContain('family "vae"');
  });
});

describe('DCGAN runtime errors', () => {
  it('names the expected batch shape when trainStep gets the wrong images', () => {
    const model = createDCGAN({
      imageShape: { height: 8, width: 8, channels: 1 },
      generatorFilters: 2,
      discriminatorFilters: 2,
    });
    const images = tf.zeros([2, 16, 16, 1]) as tf.Tensor4D;
    const error = errorOf(
      () => model.trainStep({ images }, { step: 0, seed: 1 }),
      'SHAPE_MISMATCH',
    );
    expect(error.message).toBe(
      'DCGAN.trainStep(batch.images): expected a float32 tensor of shape [B, 8, 8, 1] in [-1, 1]; ' +
        'received shape [2,16,16,1]. Resize the dataset to 8x8 with 1 channel(s), or create the model ' +
        'with imageShape matching the data.',
    );
    const latents = tf.zeros([3, 5]) as tf.Tensor2D;
    expect(errorOf(() => model.sample(3, { latents }), 'SHAPE_MISMATCH').message).toContain(
      'expected shape [3,100]',
    );
    expect(errorOf(() => model.sample(0)).message).toContain(
      'DCGAN.sample(n): expected a positive integer; received 0',
    );
    model.dispose();
    expect(errorOf(() => model.sample(1)).message).toContain('a disposed model');
    tf.dispose([images, latents]);
  });
});
