/**
 * The training loop. One root seed drives everything: step `i` trains with
 * `deriveSeed(seed, i)`, the data order comes from `deriveSeed(seed, 0, 1)` and the sample grids
 * from `deriveSeed(seed, 0, 2)`. A checkpoint stores weights, optimizer state and the data
 * cursor, so a resumed run replays the same batches with the same seeds: the same losses.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  deriveSeed,
  GensynthError,
  getLogger,
  memoryWatchdog,
  type BatchStream,
  type GenerativeModel,
  type Logger,
} from '@gensynth/core';
import { checkpointDirName, type BestMetric, type CheckpointState } from './checkpoint/format';
import {
  listCheckpoints,
  loadLatestGoodCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
} from './checkpoint/store';
import { encodePng, imageGridRaw } from './image-grid';
import { appendMetrics, METRICS_FILE, truncateMetrics, type MetricsRecord } from './metrics-log';
import {
  checkDatasetFitsModel,
  defaultBestMetric,
  resolveSettings,
  type ResumeOptions,
  type RunControlOptions,
  type TrainOptions,
} from './options';
import { createProgress, resolveProgressMode } from './progress';
import { writeReport } from './report';
import {
  collectVersions,
  fingerprintDataset,
  hasRunConfig,
  readRunConfig,
  writeRunConfig,
  type RunConfig,
} from './run-config';
import { EventWriter } from './tensorboard/event-writer';

export interface TrainResult {
  runDir: string;
  /** Completed steps. */
  step: number;
  stopped: 'completed' | 'aborted';
  /** The last logged losses. */
  losses: Record<string, number>;
  /** The last evaluation's metrics ({} when there was no `evaluate`). */
  metrics: Record<string, number>;
  best: BestMetric | null;
  /** Directory of the last checkpoint written. */
  checkpoint: string | null;
  elapsedMs: number;
  /** The trained model (for `resume`, the one built with `createModel`; the caller disposes it). */
  model: GenerativeModel;
}

const DATA_SEED_PATH = [0, 1] as const;
const SAMPLE_SEED_PATH = [0, 2] as const;
const now = () => Date.now() / 1000;

interface LoopStart {
  model: GenerativeModel;
  config: RunConfig;
  runDir: string;
  step: number;
  state: CheckpointState | null;
  /** The checkpoint resumed from, if any. */
  checkpoint: string | null;
  events: EventWriter;
}

/**
 * Train `options.model` on `options.dataset` for `options.steps` steps, writing a run directory
 * (config.json, checkpoints/, events/, samples/, metrics.jsonl, report.html).
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const settings = resolveSettings(options);
  const { runDir, model, dataset } = options;
  const logger = options.logger ?? getLogger();
  const existing = await hasRunConfig(runDir);
  if (existing && !options.resume) {
    throw new GensynthError('INVALID_ARGUMENT', {
      where: 'train(options.runDir)',
      expected: 'a new or empty run directory',
      received: `${runDir}, which already holds a run (config.json)`,
      fix: 'Pass resume: true to continue it, call resume(runDir, ...), or choose a new directory.',
    });
  }
  if (existing && (await listCheckpoints(runDir)).length > 0) {
    const config = await readRunConfig(runDir);
    return resumeInto(runDir, model, config, { ...options, steps: settings.steps });
  }
  if (existing) logger.warn(`train(${runDir}): no checkpoint to resume from; starting from step 0`);

  await fs.mkdir(runDir, { recursive: true });
  await fs.rm(path.join(runDir, METRICS_FILE), { force: true });
  const config: RunConfig = {
    format: 'gensynth-run',
    formatVersion: 1,
    createdAt: new Date().toISOString(),
    model: model.config,
    train: settings,
    dataset: fingerprintDataset(dataset),
    backend: tf.getBackend(),
    versions: collectVersions(),
    resumes: [],
    ...(options.extra ? { extra: options.extra } : {}),
  };
  await writeRunConfig(runDir, config);
  const events = await EventWriter.create(path.join(runDir, 'events'));
  return runLoop(
    { model, config, runDir, step: 0, state: null, checkpoint: null, events },
    options,
  );
}

/**
 * Continue the run in `runDir` from its latest checkpoint that verifies (older ones are tried,
 * with a warning, when the newest is corrupt). Rebuilds the model with `createModel`.
 */
export async function resume(runDir: string, options: ResumeOptions): Promise<TrainResult> {
  resolveProgressMode('resume(options.progress)', options.progress ?? 'auto');
  const config = await readRunConfig(runDir);
  const logger = options.logger ?? getLogger();
  const checkpoint = await loadLatestGoodCheckpoint(runDir, logger);
  const model = options.createModel(checkpoint.state.modelConfig);
  try {
    return await resumeInto(runDir, model, config, options, checkpoint);
  } catch (error) {
    model.dispose();
    throw error;
  }
}

async function resumeInto(
  runDir: string,
  model: GenerativeModel,
  config: RunConfig,
  options: RunControlOptions & { steps?: number; dataset: ResumeOptions['dataset'] },
  loaded?: Awaited<ReturnType<typeof loadLatestGoodCheckpoint>>,
): Promise<TrainResult> {
  const logger = options.logger ?? getLogger();
  checkDatasetFitsModel('resume(options.dataset)', options.dataset, model);
  const checkpoint = loaded ?? (await loadLatestGoodCheckpoint(runDir, logger));
  if (JSON.stringify(model.config) !== JSON.stringify(checkpoint.state.modelConfig)) {
    logger.warn(
      `resume(${runDir}): the model's config differs from the checkpoint's; restoring anyway ` +
        `(model ${JSON.stringify(model.config)}, checkpoint ${JSON.stringify(checkpoint.state.modelConfig)})`,
    );
  }
  await restoreCheckpoint(model, checkpoint);
  const fingerprint = fingerprintDataset(options.dataset);
  if (fingerprint.sha256 !== config.dataset.sha256) {
    logger.warn(
      `resume(${runDir}): the dataset differs from the one the run started with ` +
        `(${JSON.stringify(config.dataset)} vs ${JSON.stringify(fingerprint)}); losses will not replay exactly`,
    );
  }
  const steps = options.steps ?? config.train.steps;
  if (steps <= checkpoint.step) {
    logger.warn(
      `resume(${runDir}): the run is already at step ${checkpoint.step} and steps is ${steps}, ` +
        `so there is nothing to train; pass steps > ${checkpoint.step} (gensynth resume --steps) to continue it`,
    );
  }
  const resumed: RunConfig = {
    ...config,
    train: { ...config.train, steps },
    resumes: [
      ...config.resumes,
      { at: new Date().toISOString(), fromStep: checkpoint.step, steps },
    ],
  };
  await writeRunConfig(runDir, resumed);
  await truncateMetrics(path.join(runDir, METRICS_FILE), checkpoint.step);
  const events = await EventWriter.create(path.join(runDir, 'events'));
  events.addSessionStart(checkpoint.step + 1);
  const start: LoopStart = {
    model,
    config: resumed,
    runDir,
    step: checkpoint.step,
    state: checkpoint.state,
    checkpoint: checkpoint.dir,
    events,
  };
  return runLoop(start, { ...options, dataset: options.dataset });
}

async function readScalars(losses: Record<string, tf.Scalar>): Promise<Record<string, number>> {
  const values: Record<string, number> = {};
  for (const [name, scalar] of Object.entries(losses))
    values[name] = (await scalar.data())[0] as number;
  return values;
}

function checkFinite(where: string, values: Record<string, number>, step: number): void {
  const bad = Object.entries(values).filter(([, v]) => !Number.isFinite(v));
  if (bad.length === 0) return;
  throw new GensynthError('NON_FINITE', {
    where,
    expected: 'finite values',
    received: `${bad.map(([k, v]) => `${k} = ${v}`).join(', ')} at step ${step}`,
    fix: 'Training diverged: lower the learning rate or check the data; resume from the last checkpoint after changing the config.',
  });
}

async function runLoop(
  start: LoopStart,
  options: RunControlOptions & { dataset: TrainOptions['dataset'] },
): Promise<TrainResult> {
  const { model, runDir, events } = start;
  const settings = start.config.train;
  const { steps, seed, logEvery, sampleEvery, checkpointEvery, evalEvery } = settings;
  const logger: Logger = options.logger ?? getLogger();
  const progress = createProgress(options.progress ?? 'auto', options.progressStream);
  const watchdog = memoryWatchdog({ logger });
  const metricsFile = path.join(runDir, METRICS_FILE);
  const sampleSeed = deriveSeed(seed, ...SAMPLE_SEED_PATH);

  let best: BestMetric | null = start.state?.best ?? null;
  let bestSpec = settings.bestMetric;
  let losses: Record<string, number> = {};
  let metrics: Record<string, number> = {};
  let checkpoint: string | null = start.checkpoint;
  let lastSaved = start.step;
  let step = start.step;
  let stopped: TrainResult['stopped'] = 'completed';
  const elapsedBefore = start.state?.elapsedMs ?? 0;
  const startedAt = performance.now();
  const elapsed = () => elapsedBefore + (performance.now() - startedAt);

  const cursor = start.state?.cursor ?? undefined;
  const stream: BatchStream = options.dataset.batches({
    batchSize: settings.batchSize,
    seed: deriveSeed(seed, ...DATA_SEED_PATH),
    shuffle: true,
    dropRemainder: true,
    ...(cursor ? { cursor } : {}),
  });

  const writeSamples = async () => {
    if (settings.sampleCount === 0) return;
    const images = model.sample(settings.sampleCount, { seed: sampleSeed });
    try {
      const raw = await imageGridRaw(images);
      const png = await encodePng(raw);
      await fs.mkdir(path.join(runDir, 'samples'), { recursive: true });
      await fs.writeFile(path.join(runDir, 'samples', `${checkpointDirName(step)}.png`), png);
      events.addImage(
        'samples',
        { png, height: raw.height, width: raw.width, channels: raw.channels },
        step,
      );
    } finally {
      images.dispose();
    }
  };

  const runEvaluation = async () => {
    if (!options.evaluate) return;
    metrics = await options.evaluate(model, step);
    checkFinite('train(options.evaluate)', metrics, step);
    bestSpec ??= defaultBestMetric(Object.keys(metrics));
    const value = bestSpec ? metrics[bestSpec.name] : undefined;
    if (bestSpec && value !== undefined) {
      const better =
        best === null || (bestSpec.mode === 'min' ? value < best.value : value > best.value);
      if (better) best = { ...bestSpec, value, step };
    }
    await appendMetrics(metricsFile, [{ step, time: now(), ...metrics } as MetricsRecord]);
    events.addScalars(metrics, step);
    await events.flush();
    progress.message(
      `eval step ${step} | ${Object.entries(metrics)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join(' | ')}`,
    );
  };

  const writeCheckpoint = async () => {
    const state: CheckpointState = {
      step,
      rootSeed: seed,
      cursor: stream.cursor(),
      modelConfig: model.config,
      best,
      elapsedMs: elapsed(),
    };
    checkpoint = await saveCheckpoint(runDir, model, state, { keep: settings.keepCheckpoints });
    lastSaved = step;
  };

  let windowMs = 0;
  let windowSteps = 0;
  try {
    while (step < steps) {
      if (options.signal?.aborted) {
        stopped = 'aborted';
        break;
      }
      const t0 = performance.now();
      const next = await stream.next();
      if (next.done) {
        throw new GensynthError('DATA_FORMAT', {
          where: `train(dataset ${options.dataset.name})`,
          expected: 'an endless batch stream',
          received: `the stream ended at step ${step}`,
          fix: 'Make Dataset.batches() repeat epochs when options.epochs is not given.',
        });
      }
      const batch = next.value;
      let scalars: Record<string, tf.Scalar>;
      try {
        scalars = model.trainStep(batch, { step, seed: deriveSeed(seed, step) });
      } finally {
        batch.images.dispose();
        batch.labels?.dispose();
      }
      step += 1;
      const isLog = step % logEvery === 0 || step === steps;
      let read: Record<string, number> | undefined;
      try {
        if (isLog) read = await readScalars(scalars);
      } finally {
        tf.dispose(Object.values(scalars));
      }
      watchdog.check(step);
      progress.tick(step, steps);
      windowMs += performance.now() - t0;
      windowSteps += 1;

      let msPerStep: number | undefined;
      if (read) {
        checkFinite('train(model.trainStep)', read, step);
        losses = read;
        msPerStep = windowMs / windowSteps;
        windowMs = 0;
        windowSteps = 0;
        await appendMetrics(metricsFile, [{ step, time: now(), ...read } as MetricsRecord]);
        events.addScalars(read, step);
        events.addScalar('time/ms_per_step', msPerStep, step);
        await events.flush();
        progress.update({ step, totalSteps: steps, values: read, msPerStep });
      }
      if (sampleEvery > 0 && step % sampleEvery === 0) await writeSamples();
      if (evalEvery > 0 && step % evalEvery === 0) await runEvaluation();
      if (step % checkpointEvery === 0) await writeCheckpoint();
      options.onStep?.({ step, totalSteps: steps, ...(read ? { losses: read, msPerStep } : {}) });
    }

    if (stopped === 'completed' && step > start.step) {
      if (sampleEvery === 0 || step % sampleEvery !== 0) await writeSamples();
      if (evalEvery === 0 || step % evalEvery !== 0) await runEvaluation();
    }
    if (step > lastSaved) await writeCheckpoint();
    await events.flush();
  } finally {
    progress.done();
    await events.close();
    await stream.return?.(undefined);
  }
  if (options.report ?? true) await writeReport(runDir);
  return { runDir, step, stopped, losses, metrics, best, checkpoint, elapsedMs: elapsed(), model };
}
