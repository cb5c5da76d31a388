/**
 * Options of `train` and `resume`, their frozen defaults and validation.
 */
import {
  invalidArgument,
  type Dataset,
  type GenerativeModel,
  type Logger,
  type ModelConfig,
} from '@gensynth/core';
import { resolveProgressMode, type ProgressMode, type ProgressStream } from './progress';
import type { ResolvedTrainSettings } from './run-config';

/** Called with the model after every `evalEvery` steps and at the end; returns named metrics. */
export type EvaluateFn = (model: GenerativeModel, step: number) => Promise<Record<string, number>>;

/** What `onStep` receives after every step. */
export interface StepInfo {
  /** Completed steps. */
  step: number;
  totalSteps: number;
  /** Loss values, present on log steps only (reading them costs a device sync). */
  losses?: Record<string, number>;
  /** Average over the last log window, on log steps. */
  msPerStep?: number;
}

/** Options shared by `train` and `resume` that do not change results. */
export interface RunControlOptions {
  evaluate?: EvaluateFn;
  /**
   * How progress prints: 'auto' (default: a bar on a TTY, plain lines otherwise), 'bar', 'lines'
   * (alias 'plain') or 'none'. Any other value throws `INVALID_ARGUMENT`.
   */
  progress?: ProgressMode;
  /** Where progress prints (default process.stderr). */
  progressStream?: ProgressStream;
  /** Warnings (memory growth, skipped checkpoints) go here (default: core's logger). */
  logger?: Logger;
  /** Abort: the trainer saves a checkpoint at the current step and returns. */
  signal?: AbortSignal;
  onStep?: (info: StepInfo) => void;
  /** Write report.html at the end (default true). */
  report?: boolean;
}

export interface TrainOptions extends RunControlOptions {
  model: GenerativeModel;
  dataset: Dataset;
  /** The run directory (created). Must not already hold a run unless `resume` is true. */
  runDir: string;
  /** Total optimisation steps. */
  steps: number;
  /** Default 64. */
  batchSize?: number;
  /** Root seed; step `i` gets `deriveSeed(seed, i)` (default 0). */
  seed?: number;
  /** Read, print and record losses every this many steps (default 100). */
  logEvery?: number;
  /** Write a sample grid every this many steps; 0 = only at the end (default 500). */
  sampleEvery?: number;
  /** Save a checkpoint every this many steps; the last step is always saved (default 1000). */
  checkpointEvery?: number;
  /** Checkpoints to keep (default 3). */
  keepCheckpoints?: number;
  /** Images in each sample grid, drawn from one fixed seed (default 64). */
  sampleCount?: number;
  /** Run `evaluate` every this many steps; 0 = only at the end (default 0). */
  evalEvery?: number;
  /**
   * The metric whose best value is tracked in checkpoints. Default: `fid` when `evaluate`
   * returns it, else its first key; mode 'max' for names starting with is/precision/recall.
   */
  bestMetric?: { name: string; mode: 'min' | 'max' };
  /** Continue from the run's latest good checkpoint, restored into `model`, when one exists. */
  resume?: boolean;
  /** JSON stored in config.json under `extra` (e.g. the CLI config). */
  extra?: Record<string, unknown>;
}

export interface ResumeOptions extends RunControlOptions {
  dataset: Dataset;
  /** Build an untrained model from the config stored in the checkpoint. */
  createModel: (config: ModelConfig) => GenerativeModel;
  /** New total step count (default: the run's original `steps`). */
  steps?: number;
}

export const DEFAULT_TRAIN_OPTIONS = Object.freeze({
  batchSize: 64,
  seed: 0,
  logEvery: 100,
  sampleEvery: 500,
  checkpointEvery: 1000,
  keepCheckpoints: 3,
  sampleCount: 64,
  evalEvery: 0,
  progress: 'auto' as ProgressMode,
  report: true,
});

function positiveInt(name: string, value: number, allowZero = false): void {
  const ok = Number.isSafeInteger(value) && (allowZero ? value >= 0 : value > 0);
  if (!ok) {
    const expected = allowZero ? 'an integer >= 0' : 'a positive integer';
    throw invalidArgument(`train(options.${name})`, expected, value, `Pass e.g. ${name}: 100.`);
  }
}

/** Validate and fill defaults. */
export function resolveSettings(options: TrainOptions): ResolvedTrainSettings {
  const settings: ResolvedTrainSettings = {
    steps: options.steps,
    batchSize: options.batchSize ?? DEFAULT_TRAIN_OPTIONS.batchSize,
    seed: options.seed ?? DEFAULT_TRAIN_OPTIONS.seed,
    logEvery: options.logEvery ?? DEFAULT_TRAIN_OPTIONS.logEvery,
    sampleEvery: options.sampleEvery ?? DEFAULT_TRAIN_OPTIONS.sampleEvery,
    checkpointEvery: options.checkpointEvery ?? DEFAULT_TRAIN_OPTIONS.checkpointEvery,
    keepCheckpoints: options.keepCheckpoints ?? DEFAULT_TRAIN_OPTIONS.keepCheckpoints,
    sampleCount: options.sampleCount ?? DEFAULT_TRAIN_OPTIONS.sampleCount,
    evalEvery: options.evalEvery ?? DEFAULT_TRAIN_OPTIONS.evalEvery,
    bestMetric: options.bestMetric ?? null,
  };
  positiveInt('steps', settings.steps);
  positiveInt('batchSize', settings.batchSize);
  positiveInt('seed', settings.seed, true);
  positiveInt('logEvery', settings.logEvery);
  positiveInt('sampleEvery', settings.sampleEvery, true);
  positiveInt('checkpointEvery', settings.checkpointEvery);
  positiveInt('keepCheckpoints', settings.keepCheckpoints);
  positiveInt('sampleCount', settings.sampleCount, true);
  positiveInt('evalEvery', settings.evalEvery, true);
  resolveProgressMode(
    'train(options.progress)',
    options.progress ?? DEFAULT_TRAIN_OPTIONS.progress,
  );
  const { dataset, model } = options;
  checkDatasetFitsModel('train(options.dataset)', dataset, model);
  if (dataset.size < settings.batchSize) {
    throw invalidArgument(
      'train(options.batchSize)',
      `at most the dataset size ${dataset.size}`,
      settings.batchSize,
      'Lower batchSize or use a larger dataset.',
    );
  }
  return settings;
}

/** Throws unless the dataset's images have the model's shape. */
export function checkDatasetFitsModel(
  where: string,
  dataset: Dataset,
  model: GenerativeModel,
): void {
  const a = dataset.imageShape;
  const b = model.imageShape;
  if (a.height !== b.height || a.width !== b.width || a.channels !== b.channels) {
    throw invalidArgument(
      where,
      `images of the model's shape ${b.height}x${b.width}x${b.channels}`,
      `${a.height}x${a.width}x${a.channels} (${dataset.name})`,
      'Resize the dataset (see @gensynth/data preprocessing) or build the model for this shape.',
    );
  }
}

/** The metric tracked as "best" given the first evaluation's names. */
export function defaultBestMetric(names: string[]): { name: string; mode: 'min' | 'max' } | null {
  const name = names.includes('fid') ? 'fid' : names[0];
  if (name === undefined) return null;
  return { name, mode: /^(is|precision|recall)\b/i.test(name) ? 'max' : 'min' };
}
