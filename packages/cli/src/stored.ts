/**
 * Reading back what `gensynth train` stored in a run directory.
 */
import path from 'node:path';
import {
  GensynthError,
  initBackend,
  isGensynthError,
  type BackendChoice,
  type Logger,
} from '@gensynth/core';
import { readRunConfig } from '@gensynth/train';
import { resolveConfig, type ExperimentConfig } from './config';

/** The experiment config stored in `<runDir>/config.json` under `extra.experiment`. */
export async function readStoredExperiment(runDir: string): Promise<ExperimentConfig> {
  const stored = await readRunConfig(runDir);
  const experiment = stored.extra?.['experiment'];
  if (experiment === undefined) {
    throw new GensynthError('INVALID_CONFIG', {
      where: `${path.join(runDir, 'config.json')} extra.experiment`,
      expected: 'the experiment config that `gensynth train` stores',
      received: 'nothing',
      fix: 'This run was started from code: use resume()/loadCheckpoint() from @gensynth/train.',
    });
  }
  return resolveConfig(experiment, `${runDir}/config.json extra.experiment`);
}

/** Activate the backend the config asks for ('auto': the fastest available). */
export async function selectBackend(
  config: ExperimentConfig,
  logger?: Logger,
): Promise<BackendChoice> {
  const base = logger ? { logger } : {};
  if (config.backend === 'auto') return initBackend(base);
  try {
    return await initBackend({ ...base, force: config.backend });
  } catch (error) {
    if (!isGensynthError(error, 'BACKEND_UNAVAILABLE')) throw error;
    // The library's hint names its option; a command-line user sets --backend or the config.
    const message = error.message.replace(
      "drop 'force' to fall back automatically",
      'pass --backend auto (or set backend: auto in the config) to use the fastest one installed',
    );
    throw new GensynthError('BACKEND_UNAVAILABLE', message, { cause: error });
  }
}
