/**
 * One experiment from one config: datasets, model, evaluator and the training run. The
 * `gensynth` command and the demo both go through here, so a run started either way can be
 * resumed with `gensynth resume <run-dir>`.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  GensynthError,
  type BackendChoice,
  type GenerativeModel,
  type Logger,
  type ModelConfig,
} from '@gensynth/core';
import {
  celebA,
  cifar10,
  emojiDataset,
  imageFolder,
  lsun,
  mnistIdx,
  mnistPackage,
  splitDataset,
  type ImageDataset,
} from '@gensynth/data';
import { createDCGAN, createGanFromConfig } from '@gensynth/models-gan';
import { resume, train, type ProgressMode, type TrainResult } from '@gensynth/train';
import { resolveConfig, type ExperimentConfig } from './config';
import { createFidEvaluator } from './evaluate';
import { readStoredExperiment, selectBackend } from './stored';

export interface RunOptions {
  progress?: ProgressMode;
  logger?: Logger;
  /** Override the config's step count (train) or the run's total (resume). */
  steps?: number;
  signal?: AbortSignal;
}

export interface ExperimentResult extends TrainResult {
  backend: BackendChoice;
  config: ExperimentConfig;
}

/** The training and validation sets a config describes, with the run's seed. */
export async function buildDatasets(
  config: ExperimentConfig,
): Promise<{ train: ImageDataset; validation: ImageDataset }> {
  const { data, seed } = config;
  const fit = { imageSize: data.imageSize };
  let full: ImageDataset;
  const { channels } = data;
  switch (data.source) {
    case 'mnist-package':
      full = mnistPackage(fit);
      break;
    case 'emoji':
      full = await emojiDataset({ ...fit, channels });
      break;
    case 'folder':
      full = await imageFolder(requirePath(config), { ...fit, channels });
      break;
    case 'cifar10':
      full = cifar10(requirePath(config), { ...fit, channels, split: 'all' });
      break;
    case 'mnist-idx': {
      const labels = data.labelsPath;
      full = mnistIdx({ images: requirePath(config), ...(labels ? { labels } : {}) }, fit);
      break;
    }
    case 'celeba':
      full = await celebA(requirePath(config), { ...fit, channels, split: 'all' });
      break;
    case 'lsun':
      full = await lsun(requirePath(config), { ...fit, channels });
      break;
  }
  if (full.imageShape.channels !== data.channels) {
    throw new GensynthError('INVALID_CONFIG', {
      where: 'config data.channels',
      expected: `${full.imageShape.channels} for source '${data.source}'`,
      received: String(data.channels),
      fix: `Set data.channels: ${full.imageShape.channels}.`,
    });
  }
  const validation = data.validationFraction;
  const { train: trainSet, validation: validationSet } = splitDataset(full, {
    seed,
    fractions: { train: 1 - validation, validation },
  });
  if (data.limit === undefined || data.limit >= full.size) {
    return { train: trainSet, validation: validationSet };
  }
  // The splits are already in shuffled order, so their first images are a seeded random subset.
  const trainSize = Math.round(data.limit * (1 - validation));
  const first = (n: number) => Array.from({ length: n }, (_, i) => i);
  return {
    train: trainSet.subset(first(trainSize), trainSet.name),
    validation: validationSet.subset(first(data.limit - trainSize), validationSet.name),
  };
}

/** What `data.path` names for each source that needs one. */
const PATH_OF: Record<string, string> = {
  folder: 'a folder of images (class subfolders allowed)',
  cifar10: 'the cifar-10-batches-bin folder',
  'mnist-idx': 'the images IDX file (raw or .gz); labels go in data.labelsPath',
  celeba: 'the CelebA root folder (with img_align_celeba/)',
  lsun: 'an LSUN LMDB folder (with data.mdb) or a folder of exported images',
};

function requirePath(config: ExperimentConfig): string {
  if (!config.data.path) {
    const what = PATH_OF[config.data.source] ?? 'a path';
    throw new GensynthError('INVALID_CONFIG', {
      where: 'config data.path',
      expected: `${what} for source '${config.data.source}'`,
      received: 'nothing',
      fix: `Add data.path: <${what.split(' (')[0]}>.`,
    });
  }
  if (!fs.existsSync(config.data.path)) {
    throw new GensynthError('INVALID_CONFIG', {
      where: 'config data.path',
      expected: `${PATH_OF[config.data.source] ?? 'a path'} for source '${config.data.source}'`,
      received: `${JSON.stringify(config.data.path)}, which does not exist (relative paths start from ${process.cwd()})`,
      fix: 'Fix data.path; it is resolved from the directory gensynth runs in, not from the config file.',
    });
  }
  return config.data.path;
}

/** An untrained model for the config and the dataset's image shape. */
export function buildModel(config: ExperimentConfig, dataset: ImageDataset): GenerativeModel {
  const m = config.model;
  const optimizer = {
    type: m.optimizer,
    learningRate: m.learningRate,
    beta1: m.beta1,
    beta2: m.beta2,
  };
  return createDCGAN({
    imageShape: dataset.imageShape,
    latentDim: m.latentDim,
    generatorFilters: m.generatorFilters,
    discriminatorFilters: m.discriminatorFilters,
    generatorNormalization: m.normalization,
    ...(m.discriminatorNormalization
      ? { discriminatorNormalization: m.discriminatorNormalization }
      : {}),
    generatorActivation: m.activation,
    loss: m.loss,
    optimizer,
    seed: config.seed,
  });
}

/** Rebuild a model from the config stored in a checkpoint. */
export function modelFromConfig(config: ModelConfig): GenerativeModel {
  return createGanFromConfig(config as Parameters<typeof createGanFromConfig>[0]);
}

/** The run directory of a config: `runDir`, or `runs/<name>`. */
export function runDirOf(config: ExperimentConfig): string {
  return path.resolve(config.runDir ?? path.join('runs', config.name));
}

/** Train the experiment a config describes. */
export async function runExperiment(
  input: ExperimentConfig,
  options: RunOptions = {},
): Promise<ExperimentResult> {
  const config = resolveConfig(input);
  const backend = await selectBackend(config, options.logger);
  const datasets = await buildDatasets(config);
  const model = buildModel(config, datasets.train);
  const evaluate = config.eval.fid ? createFidEvaluator(config, datasets.validation) : undefined;
  try {
    const result = await train({
      model,
      dataset: datasets.train,
      runDir: runDirOf(config),
      ...config.train,
      steps: options.steps ?? config.train.steps,
      seed: config.seed,
      ...(evaluate ? { evaluate } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      extra: { experiment: config },
    });
    return { ...result, backend, config };
  } finally {
    evaluate?.dispose();
  }
}

/** Continue the run in `runDir` from its latest good checkpoint. */
export async function resumeExperiment(
  runDir: string,
  options: RunOptions = {},
): Promise<ExperimentResult> {
  const config = await readStoredExperiment(runDir);
  const backend = await selectBackend(config, options.logger);
  const datasets = await buildDatasets(config);
  const evaluate = config.eval.fid ? createFidEvaluator(config, datasets.validation) : undefined;
  try {
    const result = await resume(runDir, {
      dataset: datasets.train,
      createModel: modelFromConfig,
      ...(options.steps !== undefined ? { steps: options.steps } : {}),
      ...(evaluate ? { evaluate } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { ...result, backend, config };
  } finally {
    evaluate?.dispose();
  }
}
