export const PACKAGE_NAME = '@gensynth/models-vae';

export {
  bernoulliElbo,
  bernoulliLogLikelihood,
  bernoulliLogLikelihoodWithLogits,
  bceWithLogits,
  gaussianLogLikelihood,
  klBatchMean,
  klPerSample,
  klStandardNormal,
  normalKl,
  type ElboTerms,
} from './losses';
export {
  DEFAULT_VAE_OPTIONS,
  VAE_ACTIVATIONS,
  VAE_NORMALIZATIONS,
  VAE_RECONSTRUCTIONS,
  resolveVaeOptions,
  type ConvVaeOptions,
  type ResolvedConvVaeOptions,
  type VaeActivation,
  type VaeConfig,
  type VaeNormalization,
  type VaeReconstruction,
} from './options';
export { ConvVAE, createConvVAE, createVaeFromConfig, type VaeLosses } from './conv-vae';
