/**
 * @gensynth/cli: the `gensynth` command, and the same experiment runner as a library so that
 * scripts (like the demo) start runs that `gensynth resume` can continue.
 */
export const PACKAGE_NAME = '@gensynth/cli';

export {
  experimentConfigSchema,
  loadConfigFile,
  resolveConfig,
  type ExperimentConfig,
  type ExperimentConfigInput,
} from './config';
export {
  buildDatasets,
  buildModel,
  modelFromConfig,
  resumeExperiment,
  runDirOf,
  runExperiment,
  type ExperimentResult,
  type RunOptions,
} from './experiment';
export { readStoredExperiment, selectBackend } from './stored';
export { formatRunSummary } from './summary';
export { createFidEvaluator, fidFloor } from './evaluate';
export { runCli } from './cli';
