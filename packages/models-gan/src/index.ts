export const PACKAGE_NAME = '@gensynth/models-gan';

export { createDCGAN, createGanFromConfig, type DCGAN } from './dcgan';
export {
  DCGAN_DEFAULTS,
  resolveDCGANConfig,
  ACTIVATIONS,
  NORMALIZATIONS,
  OPTIMIZERS,
  type ActivationName,
  type DCGANConfig,
  type DCGANOptions,
  type NormalizationName,
  type OptimizerConfig,
  type OptimizerName,
} from './options';
export {
  buildDiscriminator,
  buildGenerator,
  PenaltySafeLeakyReLU,
  twiceDifferentiableLeakyRelu,
} from './networks';
export { ReplayableAdamOptimizer, createOptimizer } from './optimizers';
export * from './losses';
