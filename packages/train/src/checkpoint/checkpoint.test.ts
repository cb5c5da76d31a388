import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { build } from 'esbuild';
import {
  createLogger,
  expectNoLeaks,
  initBackend,
  isGensynthError,
  type Logger,
} from '@gensynth/core';
import { resume, train } from '../trainer';
import { ArrayDataset, loadSmallMnist } from '../testing/mnist-dataset';
import { TinyGan, type TinyGanConfig } from '../testing/tiny-gan';
import type { CheckpointState } from './format';
import {
  listCheckpoints,
  loadCheckpoint,
  loadLatestGoodCheckpoint,
  readLatest,
  restoreCheckpoint,
  saveCheckpoint,
} from './store';

const quiet: Logger = createLogger('silent');
let tmp: string;
let dataset: ArrayDataset;

beforeAll(async () => {
  await initBackend({ force: 'cpu', logger: quiet });
  tf.env().set('IS_TEST', true);
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'gensynth-ckpt-'));
  const { pixels, labels } = loadSmallMnist(40);
  dataset = new ArrayDataset(pixels, labels);
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

function stateAt(step: number, model: TinyGan): CheckpointState {
  const rng = {
    algorithm: 'philox4x32-10' as const,
    key: [1, 2] as [number, number],
    counter: 3,
    used: 1,
  };
  return {
    step,
    rootSeed: 5,
    cursor: { epoch: 1, index: 8, rng },
    modelConfig: model.config,
    best: null,
    elapsedMs: 12,
  };
}

async function trainedModel(steps: number): Promise<TinyGan> {
  const model = new TinyGan();
  const stream = dataset.batches({ batchSize: 8, seed: 1 });
  for (let step = 0; step < steps; step++) {
    const batch = (await stream.next()).value;
    tf.dispose(Object.values(model.trainStep(batch, { step, seed: 100 + step })));
    tf.dispose([batch.images, batch.labels as tf.Tensor]);
  }
  return model;
}

async function snapshot(model: TinyGan): Promise<number[][]> {
  const out: number[][] = [];
  for (const network of Object.values(model.networks())) {
    for (const w of network.getWeights()) out.push(Array.from(await w.data()));
  }
  for (const optimizer of Object.values(model.optimizers())) {
    const named = await optimizer.getWeights();
    for (const { tensor } of named) out.push(Array.from(await tensor.data()));
    tf.dispose(named[0]?.tensor as tf.Tensor);
  }
  return out;
}

async function flipByte(file: string, at: number): Promise<void> {
  const data = await fs.readFile(file);
  data[at] = (data[at] as number) ^ 0xff;
  await fs.writeFile(file, data);
}

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips weights, Adam slots and iteration counts into a fresh model without leaking', async () => {
    const runDir = path.join(tmp, 'roundtrip');
    const model = await trainedModel(3);
    const dir = await expectNoLeaks(() => saveCheckpoint(runDir, model, stateAt(3, model)), {
      where: 'save',
    });
    expect(path.basename(dir)).toBe('step-000003');
    expect(await readLatest(runDir)).toBe(3);

    const loaded = await loadCheckpoint(runDir);
    expect(loaded.step).toBe(3);
    expect(loaded.state).toEqual(stateAt(3, model));
    // 2 networks x (kernel, bias); 2 Adam optimizers x (iteration + 2 slots per variable) + 2 beta powers.
    expect(loaded.tensors.filter((t) => t.group === 'network')).toHaveLength(4);
    expect(loaded.tensors.filter((t) => t.group === 'optimizer')).toHaveLength(2 * (1 + 4));
    expect(loaded.tensors.filter((t) => t.group === 'optimizer-state').map((t) => t.name)).toEqual([
      'accBeta1',
      'accBeta2',
      'accBeta1',
      'accBeta2',
    ]);

    const fresh = new TinyGan({ initSeed: 99 });
    expect((await fresh.optimizers().g.getWeights()).length).toBe(1); // no slots until a first step
    const before = tf.memory().numTensors;
    await restoreCheckpoint(fresh, loaded);
    // A fresh Adam gains 2 slot variables per weight variable (2 per network here), nothing else.
    expect(tf.memory().numTensors - before).toBe(2 * 2 * 2);
    expect(await snapshot(fresh)).toEqual(await snapshot(model));

    // Restoring again into a model that already has slots frees the replaced ones.
    const again = tf.memory().numTensors;
    await restoreCheckpoint(fresh, loaded);
    expect(tf.memory().numTensors).toBe(again);
    model.dispose();
    fresh.dispose();
  });

  it('reports a flipped byte, a truncated file and an edited manifest by file name', async () => {
    const runDir = path.join(tmp, 'corrupt');
    const model = await trainedModel(1);
    const dir = await saveCheckpoint(runDir, model, stateAt(1, model));
    const expectCorrupt = async (file: string) => {
      const error = await loadCheckpoint(runDir).catch((e) => e);
      expect(isGensynthError(error, 'CHECKPOINT_CORRUPT')).toBe(true);
      expect(error.message).toContain(path.join(dir, file));
    };

    const tensors = path.join(dir, 'tensors.bin');
    const original = await fs.readFile(tensors);
    await flipByte(tensors, 5);
    await expectCorrupt('tensors.bin');
    await fs.writeFile(tensors, original);
    expect((await loadCheckpoint(runDir)).step).toBe(1);

    const state = path.join(dir, 'state.json');
    const stateText = await fs.readFile(state);
    await fs.writeFile(state, stateText.subarray(0, stateText.length - 10));
    await expectCorrupt('state.json');
    await fs.writeFile(state, stateText);

    const manifest = path.join(dir, 'manifest.json');
    const manifestText = await fs.readFile(manifest, 'utf8');
    await fs.writeFile(manifest, manifestText.replace('"step": 1', '"step": 2'));
    await expectCorrupt('manifest.json');
    await fs.writeFile(manifest, manifestText.slice(0, 40));
    await expectCorrupt('manifest.json');
    model.dispose();
  });

  it('falls back to the previous good checkpoint with a warning when the newest is corrupt', async () => {
    const runDir = path.join(tmp, 'fallback');
    const model = new TinyGan();
    const first = await train({
      model,
      dataset,
      runDir,
      steps: 6,
      batchSize: 8,
      logEvery: 1,
      checkpointEvery: 3,
      sampleEvery: 0,
      progress: 'none',
      logger: quiet,
    });
    model.dispose();
    expect(first.checkpoint).toMatch(/step-000006$/);
    await flipByte(path.join(runDir, 'checkpoints', 'step-000006', 'tensors.bin'), 0);

    const warnings: string[] = [];
    const logger = createLogger('warn', (_level, message) => warnings.push(message));
    expect((await loadLatestGoodCheckpoint(runDir, logger)).step).toBe(3);
    expect(warnings[0]).toMatch(/skipping checkpoint step-000006: .*step-000006\/tensors\.bin/);

    warnings.length = 0;
    await fs.writeFile(path.join(runDir, 'checkpoints', 'LATEST'), 'garbage\n');
    expect((await loadLatestGoodCheckpoint(runDir, logger)).step).toBe(3);
    expect(warnings[0]).toMatch(/checkpoints\/LATEST is unreadable; using the newest checkpoint/);

    const resumed = await resume(runDir, {
      dataset,
      createModel: (c) => new TinyGan(c as Partial<TinyGanConfig>),
      steps: 8,
      progress: 'none',
      logger: quiet,
    });
    resumed.model.dispose();
    expect(resumed.step).toBe(8);
    expect(await listCheckpoints(runDir)).toEqual([3, 6, 8]);
  });

  it('keeps the previous checkpoint loadable after a crash between the temp write and the rename', async () => {
    const runDir = path.join(tmp, 'crash-sim');
    const model = await trainedModel(1);
    await saveCheckpoint(runDir, model, stateAt(1, model));
    // What a crash leaves behind mid-save: a half-written temp directory and a temp LATEST.
    const root = path.join(runDir, 'checkpoints');
    await fs.mkdir(path.join(root, '.tmp-step-000002-1-abcd'));
    await fs.writeFile(path.join(root, '.tmp-step-000002-1-abcd', 'tensors.bin'), Buffer.alloc(7));
    await fs.writeFile(path.join(root, '.LATEST.tmp-1-2'), 'step-0000');
    expect((await loadCheckpoint(runDir)).step).toBe(1);
    expect(await listCheckpoints(runDir)).toEqual([1]);

    await saveCheckpoint(runDir, model, stateAt(2, model));
    expect((await fs.readdir(root)).sort()).toEqual(['LATEST', 'step-000001', 'step-000002']);
    model.dispose();
  });

  it('prunes to the newest keepCheckpoints checkpoints', async () => {
    const runDir = path.join(tmp, 'prune');
    const model = await trainedModel(1);
    for (const step of [1, 2, 3, 4])
      await saveCheckpoint(runDir, model, stateAt(step, model), { keep: 2 });
    expect(await listCheckpoints(runDir)).toEqual([3, 4]);
    model.dispose();
  });

  it('throws CHECKPOINT_NOT_FOUND for a run without checkpoints', async () => {
    const error = await loadCheckpoint(path.join(tmp, 'nothing')).catch((e) => e);
    expect(isGensynthError(error, 'CHECKPOINT_NOT_FOUND')).toBe(true);
  });
});

describe('checkpoint writes killed with SIGKILL', () => {
  let childScript: string;

  beforeAll(async () => {
    childScript = path.join(tmp, 'child.cjs');
    await build({
      entryPoints: [path.join(__dirname, '../testing/checkpoint-writer-child.ts')],
      outfile: childScript,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      logLevel: 'silent',
      alias: { '@gensynth/core': path.join(__dirname, '../../../core/src/index.ts') },
      external: ['@tensorflow/*', 'sharp', 'protobufjs'],
    });
  });

  /** Resolves once a temp checkpoint directory holds a file: the child is mid-save. */
  async function waitForTempWrite(runDir: string): Promise<void> {
    const root = path.join(runDir, 'checkpoints');
    for (;;) {
      const names = await fs.readdir(root).catch(() => [] as string[]);
      for (const name of names.filter((n) => n.startsWith('.tmp-'))) {
        if ((await fs.readdir(path.join(root, name)).catch(() => [])).length > 0) return;
      }
      await new Promise((r) => setImmediate(r));
    }
  }

  async function killDuringWrites(runDir: string, saves: number, when: 'mid-save' | number) {
    const child = spawn(process.execPath, [childScript, runDir], {
      env: { ...process.env, NODE_PATH: path.join(__dirname, '../../../../node_modules') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    let saved = 0;
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        saved += (chunk.toString().match(/saved/g) ?? []).length;
        if (saved >= saves) resolve();
      });
      child.on('exit', () => reject(new Error(`child exited early: ${stderr}`)));
    });
    if (when === 'mid-save') await waitForTempWrite(runDir);
    else await new Promise((r) => setTimeout(r, when));
    child.kill('SIGKILL');
    await exited;
    return saved;
  }

  it.each([
    [1, 'mid-save' as const],
    [2, 'mid-save' as const],
    [2, 7],
  ])('leaves a loadable checkpoint when killed after %i saves, then %s', async (saves, when) => {
    const runDir = path.join(tmp, `kill-${saves}-${when}`);
    const saved = await killDuringWrites(runDir, saves, when);
    if (when === 'mid-save') {
      // The kill landed inside a save: its half-written temp directory is still there.
      const left = await fs.readdir(path.join(runDir, 'checkpoints'));
      expect(left.some((name) => name.startsWith('.tmp-'))).toBe(true);
    }
    const checkpoint = await loadCheckpoint(runDir);
    expect(checkpoint.step).toBeGreaterThanOrEqual(saved);
    expect(checkpoint.tensors.find((t) => t.owner === 'big')?.values.length).toBe(1_500_000);
    // Every complete checkpoint directory verifies; only a temp directory may be partial.
    for (const step of await listCheckpoints(runDir)) {
      expect((await loadCheckpoint(runDir, { step })).step).toBe(step);
    }
  });
});
