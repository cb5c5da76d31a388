/**
 * DCGAN options: the user-facing partial options, the frozen defaults, and the resolved config
 * that is stored in checkpoints. `resolveDCGANConfig` validates at the public boundary and
 * names the bad field, the allowed values and how to fix it.
 */
import { GensynthError, describeValue, warnOnce, type ImageShape } from '@gensynth/core';
import { GAN_LOSS_NAMES, type GanLossName } from './losses';

export type NormalizationName = 'batch' | 'layer' | 'none';
export type ActivationName = 'relu' | 'leakyRelu' | 'elu';
export type OptimizerName = 'adam' | 'sgd';

export const NORMALIZATIONS: readonly NormalizationName[] = Object.freeze([
  'batch',
  'layer',
  'none',
]);
export const ACTIVATIONS: readonly ActivationName[] = Object.freeze(['relu', 'leakyRelu', 'elu']);
export const OPTIMIZERS: readonly OptimizerName[] = Object.freeze(['adam', 'sgd']);

/** One network's optimizer. `beta1`, `beta2`, `epsilon` apply to Adam only. */
export type OptimizerConfig = {
  type: OptimizerName;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
};

/** The resolved, JSON-serialisable DCGAN configuration. */
export type DCGANConfig = {
  family: 'gan';
  architecture: 'dcgan';
  imageShape: ImageShape;
  /** Z, the length of the latent vector. */
  latentDim: number;
  /** Filters of G's last hidden stage; earlier stages double it per stage. */
  generatorFilters: number;
  /** Filters of D's first stage; later stages double it per stage. */
  discriminatorFilters: number;
  /** Up/down-sampling stages: G starts at `height / 2^depth` pixels. */
  depth: number;
  kernelSize: number;
  generatorNormalization: NormalizationName;
  discriminatorNormalization: NormalizationName;
  generatorActivation: ActivationName;
  discriminatorActivation: ActivationName;
  /** Negative slope of every leakyRelu. */
  leakyReluSlope: number;
  loss: GanLossName;
  /** λ of WGAN-GP (used when `loss` is 'wgan-gp'). */
  gradientPenaltyWeight: number;
  /** γ of the R1 penalty on real images; 0 turns it off. Works with every loss. */
  r1Gamma: number;
  /** Critic weights are clipped to [-c, c] after each D update when `loss` is 'wgan'. */
  wganClipValue: number;
  generatorOptimizer: OptimizerConfig;
  discriminatorOptimizer: OptimizerConfig;
  /** Keras-style momentum of batch-norm moving statistics (0.9 = PyTorch's 0.1). */
  batchNormMomentum: number;
  /**
   * Decay of an exponential moving average of G's weights (e.g. 0.999); 0 turns it off. When on,
   * `networks().ema` holds the average and `sample` uses it.
   */
  emaDecay: number;
  /** Seed of the weight initialisation. */
  seed: number;
};

type Tunable = Omit<DCGANConfig, 'family' | 'architecture' | 'imageShape' | 'depth'>;

/** Options of `createDCGAN`: `imageShape` is required, everything else has a default. */
export type DCGANOptions = Partial<
  Omit<Tunable, 'generatorOptimizer' | 'discriminatorOptimizer'>
> & {
  imageShape: ImageShape;
  /** Default: log2(height) - 2, so G starts at 4x4. */
  depth?: number;
  /** Optimizer settings for both networks; the two options below override it per network. */
  optimizer?: Partial<OptimizerConfig>;
  generatorOptimizer?: Partial<OptimizerConfig>;
  discriminatorOptimizer?: Partial<OptimizerConfig>;
  /** Accepted so that a stored config can be passed back as options. */
  family?: 'gan';
  architecture?: 'dcgan';
};

/** DCGAN defaults (Radford et al. 2016, arXiv:1511.06434, section 4: Adam 2e-4, β1 0.5). */
export const DCGAN_DEFAULTS: Readonly<Tunable> = Object.freeze({
  latentDim: 100,
  generatorFilters: 64,
  discriminatorFilters: 64,
  kernelSize: 4,
  generatorNormalization: 'batch',
  discriminatorNormalization: 'batch',
  generatorActivation: 'relu',
  discriminatorActivation: 'leakyRelu',
  leakyReluSlope: 0.2,
  loss: 'non-saturating',
  gradientPenaltyWeight: 10,
  r1Gamma: 0,
  wganClipValue: 0.01,
  generatorOptimizer: Object.freeze({
    type: 'adam',
    learningRate: 2e-4,
    beta1: 0.5,
    beta2: 0.999,
    epsilon: 1e-8,
  }),
  discriminatorOptimizer: Object.freeze({
    type: 'adam',
    learningRate: 2e-4,
    beta1: 0.5,
    beta2: 0.999,
    epsilon: 1e-8,
  }),
  batchNormMomentum: 0.9,
  emaDecay: 0,
  seed: 0,
} satisfies Tunable);

const KNOWN_OPTIONS = new Set([
  ...Object.keys(DCGAN_DEFAULTS),
  'imageShape',
  'depth',
  'optimizer',
  'family',
  'architecture',
]);

function fail(where: string, expected: string, received: unknown, fix: string): never {
  throw new GensynthError('INVALID_ARGUMENT', {
    where,
    expected,
    received: typeof received === 'string' ? received : describeValue(received),
    fix,
  });
}

function checkInteger(where: string, value: unknown, min: number, max: number, fix: string): void {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    fail(where, `an integer in [${min}, ${max}]`, describeValue(value), fix);
  }
}

function checkNumber(
  where: string,
  value: unknown,
  range: string,
  ok: (v: number) => boolean,
): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    fail(where, `a finite number ${range}`, describeValue(value), `Pass a number ${range}.`);
  }
}

function checkChoice<T extends string>(where: string, value: unknown, allowed: readonly T[]): void {
  if (!allowed.includes(value as T)) {
    const list = allowed.map((a) => `'${a}'`).join(', ');
    fail(where, `one of ${list}`, describeValue(value), `Pick one of ${list}.`);
  }
}

function checkImageShape(where: (field: string) => string, shape: unknown): ImageShape {
  const s = shape as Partial<ImageShape> | undefined;
  const size = s?.height;
  const isPow2 =
    Number.isInteger(size) &&
    (size as number) >= 8 &&
    ((size as number) & ((size as number) - 1)) === 0;
  if (typeof s !== 'object' || s === null || !isPow2 || s.width !== size || size! > 1024) {
    fail(
      where('imageShape'),
      'square images whose side is a power of two from 8 to 1024 (8, 16, 32, 64, 128, 256, 512, 1024)',
      shape === undefined ? 'undefined' : shape,
      'Resize or pad the dataset to such a size (e.g. 28x28 MNIST to 32x32) and pass it as ' +
        '{ height: 32, width: 32, channels: 1 }.',
    );
  }
  if (s.channels !== 1 && s.channels !== 3 && s.channels !== 4) {
    fail(
      where('imageShape.channels'),
      'one of 1, 3, 4',
      s.channels,
      'Pass 1 for grey, 3 for RGB, 4 for RGBA.',
    );
  }
  return { height: size as number, width: size as number, channels: s.channels as 1 | 3 | 4 };
}

const OPTIMIZER_CHECKS: Record<keyof OptimizerConfig, (where: string, value: unknown) => void> = {
  type: (w, v) => checkChoice(w, v, OPTIMIZERS),
  learningRate: (w, v) => checkNumber(w, v, '> 0', (x) => x > 0),
  beta1: (w, v) => checkNumber(w, v, 'in [0, 1)', (x) => x >= 0 && x < 1),
  beta2: (w, v) => checkNumber(w, v, 'in [0, 1)', (x) => x >= 0 && x < 1),
  epsilon: (w, v) => checkNumber(w, v, '> 0', (x) => x > 0),
};

/** Merge optimizer settings, checking each given field under the option that set it. */
function resolveOptimizer(
  where: (field: string) => string,
  layers: [string, Partial<OptimizerConfig> | undefined][],
): OptimizerConfig {
  const merged = { ...DCGAN_DEFAULTS.generatorOptimizer };
  for (const [label, layer] of layers) {
    if (layer === undefined) continue;
    for (const [key, value] of Object.entries(layer)) {
      const check = OPTIMIZER_CHECKS[key as keyof OptimizerConfig];
      if (check === undefined) {
        const known = Object.keys(OPTIMIZER_CHECKS).join(', ');
        fail(
          where(label),
          `only ${known}`,
          `unknown field "${key}"`,
          'Check its spelling or remove it.',
        );
      }
      check(where(`${label}.${key}`), value);
    }
    Object.assign(merged, layer);
  }
  return merged;
}

/**
 * Merge `options` over `DCGAN_DEFAULTS`, derive `depth`, and validate every field.
 * `caller` names the public function in error messages.
 */
export function resolveDCGANConfig(options: DCGANOptions, caller = 'createDCGAN'): DCGANConfig {
  const where = (field: string) => `${caller}(options.${field})`;
  if (typeof options !== 'object' || options === null) {
    fail(
      `${caller}(options)`,
      'an options object with at least imageShape',
      options,
      'Pass e.g. { imageShape: { height: 32, width: 32, channels: 1 } }.',
    );
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      const known = [...KNOWN_OPTIONS].join(', ');
      fail(
        `${caller}(options)`,
        `only known options (${known})`,
        `unknown option "${key}"`,
        'Check its spelling or remove it.',
      );
    }
  }
  if (options.family !== undefined && options.family !== 'gan') {
    fail(
      where('family'),
      "'gan'",
      options.family,
      'Create this model with the factory of its own family.',
    );
  }
  if (options.architecture !== undefined && options.architecture !== 'dcgan') {
    fail(
      where('architecture'),
      "'dcgan'",
      options.architecture,
      'Create this model with the factory of its own architecture.',
    );
  }

  const imageShape = checkImageShape(where, options.imageShape);
  const log2Size = Math.log2(imageShape.height);
  const depth = options.depth ?? log2Size - 2;
  checkInteger(
    where('depth'),
    depth,
    1,
    log2Size - 1,
    `For ${imageShape.height}x${imageShape.height} images pick 1 to ${log2Size - 1} stages; the default ${log2Size - 2} starts G at 4x4.`,
  );

  const { optimizer, generatorOptimizer, discriminatorOptimizer } = options;
  const config: DCGANConfig = {
    family: 'gan',
    architecture: 'dcgan',
    ...DCGAN_DEFAULTS,
    ...stripUndefined(options),
    imageShape,
    depth,
    generatorOptimizer: resolveOptimizer(where, [
      ['optimizer', optimizer],
      ['generatorOptimizer', generatorOptimizer],
    ]),
    discriminatorOptimizer: resolveOptimizer(where, [
      ['optimizer', optimizer],
      ['discriminatorOptimizer', discriminatorOptimizer],
    ]),
  };
  delete (config as { optimizer?: unknown }).optimizer;
  if (options.discriminatorNormalization === undefined && usesInputGradients(config)) {
    // Gradient penalties are per sample, which batch norm's coupling of a batch breaks.
    config.discriminatorNormalization = 'layer';
  }

  const filtersFix =
    'Pass a positive integer such as 64 (fewer filters train faster, more fit better).';
  checkInteger(
    where('latentDim'),
    config.latentDim,
    1,
    65536,
    'Pass a positive integer such as 100.',
  );
  checkInteger(where('generatorFilters'), config.generatorFilters, 1, 4096, filtersFix);
  checkInteger(where('discriminatorFilters'), config.discriminatorFilters, 1, 4096, filtersFix);
  checkInteger(
    where('kernelSize'),
    config.kernelSize,
    1,
    15,
    'Pass 4 (the DCGAN choice) or another small integer.',
  );
  checkChoice(where('generatorNormalization'), config.generatorNormalization, NORMALIZATIONS);
  checkChoice(
    where('discriminatorNormalization'),
    config.discriminatorNormalization,
    NORMALIZATIONS,
  );
  checkChoice(where('generatorActivation'), config.generatorActivation, ACTIVATIONS);
  checkChoice(where('discriminatorActivation'), config.discriminatorActivation, ACTIVATIONS);
  checkNumber(where('leakyReluSlope'), config.leakyReluSlope, 'in [0, 1)', (v) => v >= 0 && v < 1);
  checkChoice(where('loss'), config.loss, GAN_LOSS_NAMES);
  checkNumber(where('gradientPenaltyWeight'), config.gradientPenaltyWeight, '>= 0', (v) => v >= 0);
  checkNumber(where('r1Gamma'), config.r1Gamma, '>= 0', (v) => v >= 0);
  checkNumber(where('wganClipValue'), config.wganClipValue, '> 0', (v) => v > 0);
  checkNumber(where('emaDecay'), config.emaDecay, 'in [0, 1)', (v) => v >= 0 && v < 1);
  checkNumber(
    where('batchNormMomentum'),
    config.batchNormMomentum,
    'in [0, 1)',
    (v) => v >= 0 && v < 1,
  );
  checkInteger(
    where('seed'),
    config.seed,
    0,
    Number.MAX_SAFE_INTEGER,
    'Pass a non-negative integer such as 42.',
  );
  checkPenaltyCompatibility(config, where);
  return config;
}

/** True when D's loss differentiates D with respect to its input (WGAN-GP or R1). */
export function usesInputGradients(config: DCGANConfig): boolean {
  return (config.loss === 'wgan-gp' && config.gradientPenaltyWeight > 0) || config.r1Gamma > 0;
}

function checkPenaltyCompatibility(config: DCGANConfig, where: (f: string) => string): void {
  if (!usesInputGradients(config)) return;
  if (config.discriminatorActivation === 'elu') {
    fail(
      where('discriminatorActivation'),
      "'leakyRelu' or 'relu' when a gradient penalty (wgan-gp or r1Gamma > 0) is on",
      'elu',
      'Gradient penalties need second derivatives, which tfjs 4.22 gets wrong for elu; use leakyRelu.',
    );
  }
  if (config.discriminatorNormalization === 'batch') {
    warnOnce(
      'models-gan:penalty-batchnorm',
      `${where('discriminatorNormalization')}: batch norm couples the samples of a batch, so ` +
        "per-sample gradient penalties are not what their papers define; prefer 'layer' or 'none'.",
    );
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
