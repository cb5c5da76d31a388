import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createLogger, initBackend, isGensynthError, type Logger } from '@gensynth/core';
import { listCheckpoints, loadCheckpoint } from './checkpoint/store';
import { readMetrics } from './metrics-log';
import { resume, train } from './trainer';
import { decodeEvent, imagesOf, readRecords, scalarsOf } from './testing/event-reader';
import { ArrayDataset, loadSmallMnist } from './testing/mnist-dataset';
import { TinyGan, type TinyGanConfig } from './testing/tiny-gan';

let dataset: ArrayDataset;
let tmp: string;
const quiet: Logger = createLogger('silent');

beforeAll(async () => {
  await initBackend({ force: 'cpu', logger: quiet });
  tf.env().set('IS_TEST', true); // silences tfjs's hint to install tfjs-node
  const { pixels, labels } = loadSmallMnist(60);
  dataset = new ArrayDataset(pixels, labels);
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'gensynth-train-'));
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const base = { batchSize: 8, seed: 7, progress: 'none' as const, logger: quiet, sampleCount: 4 };

function lossesByStep(
  records: Awaited<ReturnType<typeof readMetrics>>,
): Map<number, Record<string, number>> {
  const map = new Map<number, Record<string, number>>();
  for (const r of records) if ('loss/d' in r) map.set(r.step, r);
  return map;
}

describe('train and resume', () => {
  it('replays the same losses on every step after a resume as a straight run', async () => {
    // Resuming after 20 steps matters: there beta2^21 by repeated float32 products differs in the
    // last bit from pow(beta2, 21), which is what Adam.setWeights alone would restore.
    const n = 20;
    const straightDir = path.join(tmp, 'straight');
    const straight = await train({
      ...base,
      model: new TinyGan(),
      dataset,
      runDir: straightDir,
      steps: 2 * n,
      logEvery: 1,
      checkpointEvery: 5,
      sampleEvery: 0,
    });
    straight.model.dispose();

    const splitDir = path.join(tmp, 'split');
    const first = await train({
      ...base,
      model: new TinyGan(),
      dataset,
      runDir: splitDir,
      steps: n,
      logEvery: 1,
      checkpointEvery: 5,
      sampleEvery: 0,
    });
    first.model.dispose();
    // As a new process would: nothing of the first run survives but the run directory. The data
    // cursor at step 20 is mid-epoch (60 images, 7 batches of 8 per epoch: epoch 2, index 48).
    const onDisk = await loadCheckpoint(splitDir);
    expect(onDisk.step).toBe(n);
    expect(onDisk.state.cursor).toMatchObject({ epoch: 2, index: 48 });
    const fresh = loadSmallMnist(60);
    let built = 0;
    const second = await resume(splitDir, {
      dataset: new ArrayDataset(fresh.pixels, fresh.labels),
      createModel: (c) => (built++, new TinyGan(c as Partial<TinyGanConfig>)),
      steps: 2 * n,
      progress: 'none',
      logger: quiet,
    });
    second.model.dispose();
    expect(built).toBe(1);
    expect(second.step).toBe(2 * n);
    const resumedConfig = JSON.parse(await fs.readFile(path.join(splitDir, 'config.json'), 'utf8'));
    expect(resumedConfig.resumes).toMatchObject([{ fromStep: n, steps: 2 * n }]);
    const eventFiles = (await fs.readdir(path.join(splitDir, 'events'))).sort();
    expect(eventFiles).toHaveLength(2);
    const resumedEvents = readRecords(
      await fs.readFile(path.join(splitDir, 'events', eventFiles[1] as string)),
    );
    // TensorBoard drops older events from this step on: the resumed run logs them again.
    expect(decodeEvent(resumedEvents[1] as Buffer)).toMatchObject({
      step: n + 1,
      sessionStatus: 1,
    });

    const a = lossesByStep(await readMetrics(path.join(straightDir, 'metrics.jsonl')));
    const b = lossesByStep(await readMetrics(path.join(splitDir, 'metrics.jsonl')));
    expect(a.size).toBe(2 * n);
    expect(b.size).toBe(2 * n);
    // Every step, both losses, bit for bit (metrics.jsonl holds the float32 values exactly).
    const lossesOf = (m: Map<number, Record<string, number>>) =>
      Array.from({ length: 2 * n }, (_, i) => [m.get(i + 1)?.['loss/d'], m.get(i + 1)?.['loss/g']]);
    expect(lossesOf(b)).toEqual(lossesOf(a));
    expect(
      lossesOf(a)
        .flat()
        .every((v) => typeof v === 'number'),
    ).toBe(true);
    // The losses change over training, so equality is not trivially constant.
    expect(a.get(1)?.['loss/d']).not.toBe(a.get(2 * n)?.['loss/d']);
  });

  it('stores the data cursor mid-epoch: epoch 1, index 24 after 10 batches of 8 from 60 images', async () => {
    const runDir = path.join(tmp, 'mid-epoch');
    // 60 images, batch 8: an epoch is 7 batches, so step 10 is mid-epoch.
    const run = await train({
      ...base,
      model: new TinyGan(),
      dataset,
      runDir,
      steps: 10,
      logEvery: 5,
      checkpointEvery: 10,
      sampleEvery: 0,
    });
    run.model.dispose();
    const checkpoint = await loadCheckpoint(runDir);
    expect(checkpoint.state.cursor).toMatchObject({ epoch: 1, index: 24 });
  });

  it('keeps the live tensor count flat from step 10 to step 200, including checkpoints and samples', async () => {
    const counts = new Map<number, number>();
    const model = new TinyGan();
    const result = await train({
      ...base,
      model,
      dataset,
      runDir: path.join(tmp, 'leaks'),
      steps: 200,
      logEvery: 20,
      checkpointEvery: 50,
      sampleEvery: 50,
      onStep: ({ step }) => counts.set(step, tf.memory().numTensors),
    });
    expect(result.step).toBe(200);
    expect(counts.get(200)).toBe(counts.get(10));
    model.dispose();
  });

  it('writes the run directory: config, checkpoints, events, samples, metrics, report', async () => {
    const runDir = path.join(tmp, 'layout');
    const model = new TinyGan();
    let evaluations = 0;
    const result = await train({
      ...base,
      model,
      dataset,
      runDir,
      steps: 20,
      logEvery: 5,
      checkpointEvery: 10,
      keepCheckpoints: 1,
      sampleEvery: 10,
      evalEvery: 10,
      evaluate: async (_m, step) => ({ fid: 100 / step + evaluations++ * 0 }),
    });
    model.dispose();
    expect(evaluations).toBe(2);
    expect(result.best).toEqual({ name: 'fid', mode: 'min', value: 5, step: 20 });

    const config = JSON.parse(await fs.readFile(path.join(runDir, 'config.json'), 'utf8'));
    expect(config.model.family).toBe('tiny-gan');
    expect(config.train).toMatchObject({ steps: 20, batchSize: 8, seed: 7, logEvery: 5 });
    expect(config.backend).toBe('cpu');
    expect(config.dataset).toMatchObject({
      name: 'mnist-7x7',
      size: 60,
      imageShape: { height: 7, width: 7, channels: 1 },
    });
    expect(config.versions['@tensorflow/tfjs-core']).toMatch(/^4\./);

    expect(await listCheckpoints(runDir)).toEqual([20]);
    expect((await fs.readFile(path.join(runDir, 'checkpoints', 'LATEST'), 'utf8')).trim()).toBe(
      'step-000020',
    );
    expect((await fs.readdir(path.join(runDir, 'samples'))).sort()).toEqual([
      'step-000010.png',
      'step-000020.png',
    ]);
    const events = await fs.readdir(path.join(runDir, 'events'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^events\.out\.tfevents\.\d+\./);

    const records = await readMetrics(path.join(runDir, 'metrics.jsonl'));
    expect(records.map((r) => r.step)).toEqual([5, 10, 10, 15, 20, 20]);
    expect(records[2]).toMatchObject({ step: 10, fid: 10 });
    expect(records.every((r) => typeof r.time === 'number')).toBe(true);

    const eventFile = path.join(runDir, 'events', events[0] as string);
    const decoded = readRecords(await fs.readFile(eventFile)).map(decodeEvent);
    const lossEvents = scalarsOf(decoded).filter((e) => e.tag === 'loss/d');
    const lossRecords = records.filter((r) => 'loss/d' in r);
    expect(lossEvents.map((e) => e.step)).toEqual([5, 10, 15, 20]);
    expect(lossEvents.map((e) => e.value)).toEqual(
      lossRecords.map((r) => Math.fround(r['loss/d'] as number)),
    );
    expect(scalarsOf(decoded).filter((e) => e.tag === 'fid')).toEqual([
      { step: 10, tag: 'fid', value: 10 },
      { step: 20, tag: 'fid', value: 5 },
    ]);
    const images = imagesOf(decoded);
    expect(images.map((i) => [i.step, i.tag, i.height, i.width, i.colorspace])).toEqual([
      [10, 'samples', 20, 20, 1], // 2x2 tiles of 7 px with 2 px padding: 2*7 + 3*2
      [20, 'samples', 20, 20, 1],
    ]);
    expect(
      images[1]?.png.equals(await fs.readFile(path.join(runDir, 'samples', 'step-000020.png'))),
    ).toBe(true);

    const report = await fs.readFile(path.join(runDir, 'report.html'), 'utf8');
    expect(report).toContain('<svg');
    expect(report).toContain('data:image/png;base64,');
  });

  it('prints one progress line per log interval in the documented format', async () => {
    const lines: string[] = [];
    const model = new TinyGan();
    await train({
      ...base,
      model,
      dataset,
      runDir: path.join(tmp, 'progress'),
      steps: 4,
      logEvery: 2,
      sampleEvery: 0,
      progress: 'lines',
      progressStream: { write: (t: string) => lines.push(t), isTTY: false },
    });
    model.dispose();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^step 2\/4 \| loss\/d \d+\.\d{4} \| loss\/g \d+\.\d{4} \| \d+\.\d ms\/step\n$/,
    );
  });

  it('refuses a directory that already holds a run unless resume is set', async () => {
    const runDir = path.join(tmp, 'again');
    const model = new TinyGan();
    await train({ ...base, model, dataset, runDir, steps: 2, logEvery: 1, sampleEvery: 0 });
    const error = await train({
      ...base,
      model,
      dataset,
      runDir,
      steps: 4,
      logEvery: 1,
      sampleEvery: 0,
    }).catch((e) => e);
    expect(isGensynthError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(error.message).toMatch(/already holds a run.*resume: true/);
    const resumed = await train({
      ...base,
      model,
      dataset,
      runDir,
      steps: 4,
      logEvery: 1,
      sampleEvery: 0,
      resume: true,
    });
    expect(resumed.step).toBe(4);
    expect((await readMetrics(path.join(runDir, 'metrics.jsonl'))).map((r) => r.step)).toEqual([
      1, 2, 3, 4,
    ]);
    model.dispose();
  });

  it('warns when resuming into a model whose config differs from the checkpoint', async () => {
    const runDir = path.join(tmp, 'config-drift');
    const model = new TinyGan();
    await train({ ...base, model, dataset, runDir, steps: 2, logEvery: 1, sampleEvery: 0 });
    model.dispose();
    const warnings: string[] = [];
    const logger = createLogger('warn', (_level, message) => warnings.push(message));
    const other = new TinyGan({ learningRate: 0.02 });
    await train({
      ...base,
      logger,
      model: other,
      dataset,
      runDir,
      steps: 3,
      logEvery: 1,
      sampleEvery: 0,
      resume: true,
    });
    other.dispose();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /model's config differs from the checkpoint's.*"learningRate":0\.02/,
    );
  });

  it('warns that there is nothing to train when resuming to a step the run has reached', async () => {
    const runDir = path.join(tmp, 'already-there');
    const model = new TinyGan();
    await train({ ...base, model, dataset, runDir, steps: 3, logEvery: 1, sampleEvery: 0 });
    model.dispose();
    const warnings: string[] = [];
    const logger = createLogger('warn', (_level, message) => warnings.push(message));
    const result = await resume(runDir, {
      dataset,
      createModel: (c) => new TinyGan(c as Partial<TinyGanConfig>),
      steps: 2,
      progress: 'none',
      logger,
    });
    result.model.dispose();
    expect(result.step).toBe(3);
    expect(warnings).toEqual([
      `resume(${runDir}): the run is already at step 3 and steps is 2, so there is nothing to train; pass steps > 3 (gensynth resume --steps) to continue it`,
    ]);
  });

  it('saves a checkpoint at the current step and stops when aborted', async () => {
    const controller = new AbortController();
    const model = new TinyGan();
    const runDir = path.join(tmp, 'abort');
    const result = await train({
      ...base,
      model,
      dataset,
      runDir,
      steps: 100,
      logEvery: 10,
      sampleEvery: 0,
      signal: controller.signal,
      onStep: ({ step }) => step === 7 && controller.abort(),
    });
    model.dispose();
    expect(result).toMatchObject({ stopped: 'aborted', step: 7 });
    expect((await loadCheckpoint(runDir)).step).toBe(7);
  });

  it('rejects a batch size larger than the dataset and a shape mismatch with where/expected/received', async () => {
    const model = new TinyGan();
    const big = await train({
      ...base,
      model,
      dataset,
      runDir: path.join(tmp, 'x1'),
      steps: 1,
      batchSize: 61,
    }).catch((e) => e);
    expect(big.message).toBe(
      'train(options.batchSize): expected at most the dataset size 60; received 61. Lower batchSize or use a larger dataset.',
    );
    const wide = new TinyGan({ imageShape: { height: 8, width: 8, channels: 1 } });
    const shape = await train({
      ...base,
      model: wide,
      dataset,
      runDir: path.join(tmp, 'x2'),
      steps: 1,
    }).catch((e) => e);
    expect(isGensynthError(shape, 'INVALID_ARGUMENT')).toBe(true);
    expect(shape.message).toContain('8x8x1');
    model.dispose();
    wide.dispose();
  });

  it("refuses an unknown progress mode in train and resume, naming the allowed ones, and takes 'plain'", async () => {
    const model = new TinyGan();
    const runDir = path.join(tmp, 'progress-mode');
    const bad = { ...base, model, dataset, runDir, steps: 2, sampleEvery: 0 };
    const error = await train({ ...bad, progress: 'fancy' as 'auto' }).catch((e) => e);
    expect(isGensynthError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(error.message).toBe(
      `train(options.progress): expected one of 'auto', 'bar', 'lines', 'plain', 'none'; received "fancy". Pass 'lines' (or 'plain') for one line per log interval, 'none' to silence progress.`,
    );
    await expect(fs.access(runDir)).rejects.toThrow(); // refused before writing anything

    const lines: string[] = [];
    const progressStream = { write: (t: string) => lines.push(t), isTTY: true };
    await train({ ...bad, logEvery: 1, progress: 'plain', progressStream });
    expect(lines.map((l) => l.replace(/\d+\.\d+/g, 'N'))).toEqual([
      'step 1/2 | loss/d N | loss/g N | N ms/step\n',
      'step 2/2 | loss/d N | loss/g N | N ms/step\n',
    ]);
    model.dispose();

    const resumeError = await resume(runDir, {
      dataset,
      createModel: (c) => new TinyGan(c as Partial<TinyGanConfig>),
      steps: 3,
      progress: 'plain ' as 'auto',
      logger: quiet,
    }).catch((e) => e);
    expect(resumeError.message).toMatch(
      /^resume\(options\.progress\): expected one of .*; received "plain "/,
    );
  });
});
