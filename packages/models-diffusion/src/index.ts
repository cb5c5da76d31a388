export const PACKAGE_NAME = '@gensynth/models-diffusion';

export {
  BETA_SCHEDULES,
  DEFAULT_SCHEDULE_OPTIONS,
  TIMESTEP_SPACINGS,
  inferenceTimesteps,
  linspace,
  makeBetas,
  makeNoiseSchedule,
  resolveScheduleOptions,
  type BetaSchedule,
  type NoiseSchedule,
  type ScheduleOptions,
  type TimestepSpacing,
} from './schedule';
export {
  DDIMScheduler,
  DDPMScheduler,
  DEFAULT_SCHEDULER_OPTIONS,
  PREDICTION_TYPES,
  type DDIMStepOptions,
  type PredictionType,
  type ResolvedSchedulerOptions,
  type SchedulerOptions,
  type SchedulerStepOutput,
  type StepOptions,
} from './schedulers';
export {
  Conv2d,
  Dense,
  Downsample,
  GroupNorm,
  ParameterStore,
  ResnetBlock,
  SelfAttention,
  Upsample,
  silu,
  timestepEmbedding,
  upsampleNearest2x,
} from './blocks';
export { UNet, type UNetOptions } from './unet';
export {
  DEFAULT_DIFFUSION_OPTIONS,
  SAMPLERS,
  resolveDiffusionOptions,
  type DiffusionConfig,
  type DiffusionOptions,
  type ResolvedDiffusionOptions,
  type SamplerName,
} from './options';
export {
  DiffusionModel,
  createDiffusionFromConfig,
  createDiffusionModel,
  type DiffusionLosses,
  type DiffusionSampleOptions,
} from './diffusion-model';
