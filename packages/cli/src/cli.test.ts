import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { createLogger, setLogger, silentLogger } from '@gensynth/core';
import { VERSION, withInterrupt } from './cli';
import { formatRunSummary } from './summary';
import type { ExperimentResult } from './experiment';
import { gensynth } from './testing/gensynth';

describe('gensynth command', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gensynth-cli-'));
  const runDir = path.join(dir, 'run');
  const configFile = path.join(dir, 'tiny.yaml');
  beforeAll(() => {
    setLogger(silentLogger);
    fs.writeFileSync(
      configFile,
      [
        'name: tiny',
        'seed: 3',
        'backend: wasm',
        `runDir: ${runDir}`,
        'data: { source: mnist-package, imageSize: 32, limit: 400 }',
        'model: { latentDim: 8, generatorFilters: 4, discriminatorFilters: 4 }',
        'train: { steps: 4, batchSize: 16, logEvery: 2, sampleEvery: 2, checkpointEvery: 2, sampleCount: 4 }',
        'eval: { numSamples: 32 }',
      ].join('\n'),
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains from a config, then resumes, samples and evaluates the run', async () => {
    const trained = await gensynth('train', '--config', configFile, '--progress', 'none');
    expect(trained.code).toBe(0);
    expect(trained.out).toContain('run completed at step 4');
    expect(fs.readFileSync(path.join(runDir, 'checkpoints', 'LATEST'), 'utf8').trim()).toBe(
      'step-000004',
    );

    const resumed = await gensynth('resume', runDir, '--steps', '6', '--progress', 'none');
    expect(resumed.code).toBe(0);
    expect(resumed.out).toContain('run completed at step 6');
    const steps = fs
      .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).step as number);
    expect(steps.filter((s, i) => steps.indexOf(s) !== i && s !== steps[i - 1])).toEqual([]);
    expect(Math.max(...steps)).toBe(6);

    const out = path.join(dir, 'grid.png');
    const before = tf.memory().numTensors;
    const sampled = await gensynth('sample', runDir, '--n', '4', '--out', out);
    expect(sampled.code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const meta = await sharp(out).metadata();
    expect(meta.format).toBe('png');
    // 4 samples of 32x32 in a 2x2 grid with 2 px padding: 2*32 + 3*2 = 70.
    expect([meta.width, meta.height]).toEqual([70, 70]);
    expect(sampled.out).toContain('wrote 4 samples from step 6');

    const evaluated = await gensynth(
      'eval',
      runDir,
      '--against',
      path.join(dir, 'missing-stats.json'),
      '--n',
      '32',
    );
    expect(evaluated.code).toBe(1);
    expect(evaluated.out).toMatch(/missing-stats\.json/);

    const reference = path.join(dir, 'reference');
    fs.mkdirSync(reference);
    for (let i = 0; i < 8; i += 1) {
      const pixels = Buffer.alloc(28 * 28, (i * 37) % 256);
      await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toFile(path.join(reference, `digit-${i}.png`));
    }
    const scored = await gensynth('eval', runDir, '--against', reference, '--n', '8', '--json');
    expect(scored.code).toBe(0);
    expect(Number.isFinite(JSON.parse(scored.out).fid)).toBe(true);
  });

  it('exits 2 with the resume command when the run directory already holds a run', async () => {
    const again = await gensynth('train', configFile, '--progress', 'none');
    expect(again.code).toBe(2);
    expect(again.out).toContain('which already holds a run (config.json)');
    expect(again.out).toContain('Continue it with `npx gensynth resume ');
  });

  it('resumes from the newest checkpoint that verifies when the latest is corrupt', async () => {
    const fallbackDir = path.join(dir, 'fallback');
    const noFid = path.join(dir, 'no-fid.yaml');
    const text = fs.readFileSync(configFile, 'utf8');
    const shorter = text
      .replace('eval: { numSamples: 32 }', 'eval: { fid: false }')
      .replace('steps: 4, batchSize: 16, logEvery: 2', 'steps: 2, batchSize: 8, logEvery: 1')
      .replace('checkpointEvery: 2', 'checkpointEvery: 1');
    fs.writeFileSync(noFid, shorter);
    const trained = await gensynth('train', noFid, '--run-dir', fallbackDir, '--progress', 'none');
    expect(trained.code).toBe(0);
    const tensors = path.join(fallbackDir, 'checkpoints', 'step-000002', 'tensors.bin');
    const bytes = fs.readFileSync(tensors);
    fs.writeFileSync(tensors, bytes.subarray(0, bytes.length - 3)); // truncated mid-write

    const warnings: string[] = [];
    setLogger(createLogger('warn', (_level, message) => warnings.push(message)));
    try {
      const resumed = await gensynth('resume', fallbackDir, '--steps', '3', '--progress', 'none');
      expect(resumed.code).toBe(0);
      expect(resumed.out).toContain('run completed at step 3');
    } finally {
      setLogger(silentLogger);
    }
    expect(warnings.join('\n')).toContain(
      `skipping checkpoint step-000002: checkpoint file ${tensors}: expected`,
    );
    expect(warnings.join('\n')).toContain('resuming from step-000001 instead');
    const stored = JSON.parse(fs.readFileSync(path.join(fallbackDir, 'config.json'), 'utf8'));
    expect(stored.resumes).toMatchObject([{ fromStep: 1, steps: 3 }]);
    const steps = fs
      .readFileSync(path.join(fallbackDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).step as number);
    // The line of the lost step 2 is replaced: losses at 1, 2 and 3, once each.
    expect(steps).toEqual([1, 2, 3]);
  });

  it('takes the config as --config or as an argument, and refuses neither or two', async () => {
    const none = await gensynth('train');
    expect(none.code).toBe(2);
    expect(none.out).toContain(
      'gensynth train: expected a config file: gensynth train --config <file>',
    );
    const two = await gensynth('train', configFile, '--config', path.join(dir, 'other.yaml'));
    expect(two.code).toBe(2);
    expect(two.out).toContain('expected one config file');
  });

  it('exits 2 naming --progress and its allowed values for an unknown mode', async () => {
    for (const command of [
      ['train', configFile],
      ['resume', runDir],
    ]) {
      const result = await gensynth(...command, '--progress', 'fancy');
      expect(result.code).toBe(2);
      expect(result.out).toContain(
        "option '--progress <mode>' argument 'fancy' is invalid. Allowed choices are auto, bar, lines, plain, none.",
      );
    }
  });

  it('prints --help for every command and exits 0', async () => {
    const commands = [['train'], ['resume'], ['sample'], ['eval'], ['data', 'inspect']];
    for (const command of commands) {
      const help = await gensynth(...command, '--help');
      expect(help.code).toBe(0);
      expect(help.out).toContain(`Usage: gensynth ${command.join(' ')} [options]`);
    }
    expect((await gensynth('train', '--help')).out).toMatch(
      /--config <file>[\s\S]*--progress <mode>/,
    );
    expect((await gensynth('sample', '--help')).out).toMatch(/--n <count>[\s\S]*--out <file>/);
  });

  it('exits 2 with the field named when the config is bad', async () => {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'data: { source: mnist-package }\nmodel: { loss: wasserstein }\n');
    const result = await gensynth('train', bad);
    expect(result.code).toBe(2);
    expect(result.out).toContain(
      'model.loss: expected one of "non-saturating", "minimax", "hinge", "wgan-gp", "lsgan"; received "wasserstein"',
    );
  });

  it('prints the version of its package.json for --version', async () => {
    const manifest = JSON.parse(
      fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'),
    );
    expect(VERSION).toBe(manifest.version);
    const printed = await gensynth('--version');
    expect(printed.code).toBe(0);
    expect(printed.out.split('\n')[0]).toBe(manifest.version);
  });

  it('exits 2 on bad usage and 0 on --help', async () => {
    expect((await gensynth('sample', runDir, '--n', 'zero')).code).toBe(2);
    expect((await gensynth('frobnicate')).code).toBe(2);
    const help = await gensynth('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/train.*\n.*resume/s);
  });

  it('inspects a data source as JSON', async () => {
    const result = await gensynth('data', 'inspect', 'mnist-package', '--json');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out);
    expect(report.count).toBe(10000);
    expect(report.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });
});

describe('withInterrupt', () => {
  it('aborts the run on Ctrl-C (SIGINT) and removes its handler when the run ends', async () => {
    const before = process.listenerCount('SIGINT');
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const outcome = await withInterrupt(
        (signal) =>
          new Promise<string>((resolve) => {
            signal.addEventListener('abort', () => resolve('aborted'));
            process.emit('SIGINT');
          }),
      );
      expect(outcome).toBe('aborted');
      expect(stderr.mock.calls.join('')).toContain('interrupted; saving a checkpoint');
    } finally {
      stderr.mockRestore();
    }
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});

describe('formatRunSummary', () => {
  const result = (stopped: 'completed' | 'aborted') =>
    ({
      runDir: path.join(process.cwd(), 'runs', 'x'),
      step: 125,
      stopped,
      losses: {},
      metrics: {},
      elapsedMs: 1000,
      backend: { name: 'wasm' },
    }) as unknown as ExperimentResult;

  it("prints a resume to the run's own total when the run was interrupted", () => {
    const summary = formatRunSummary(result('aborted'));
    expect(summary).toContain('run aborted at step 125');
    expect(summary).toMatch(/npx gensynth resume runs\/x\n/);
    expect(summary).toContain('npx gensynth sample runs/x --n 64 --out runs/x/grid.png');
  });

  it('prints a resume to twice the steps when the run completed', () => {
    expect(formatRunSummary(result('completed'))).toContain(
      'npx gensynth resume runs/x --steps 250',
    );
  });
});
