import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRunConfig } from './run-config';
import { loadLatestGoodCheckpoint } from './checkpoint/store';
import { createLogger } from '@gensynth/core';

describe('readRunConfig', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'gensynth-run-config-'));
  });
  afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

  it('says the folder is missing when the run directory does not exist', async () => {
    const missing = path.join(tmp, 'nope');
    await expect(readRunConfig(missing)).rejects.toThrow(
      `readRunConfig(${missing}): expected a run directory with config.json; received no folder ${missing}. Pass the run directory that train() or \`gensynth train\` wrote.`,
    );
  });

  it('says config.json is missing when the run directory is empty', async () => {
    await expect(readRunConfig(tmp)).rejects.toThrow(
      `readRunConfig(${tmp}): expected a run directory with config.json; received no ${path.join(tmp, 'config.json')}.`,
    );
  });
});

describe('loadLatestGoodCheckpoint', () => {
  it('names itself, not resume(), when a run has no checkpoints', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'gensynth-no-ckpt-'));
    try {
      await expect(loadLatestGoodCheckpoint(tmp, createLogger('silent'))).rejects.toThrow(
        `loadLatestGoodCheckpoint(${tmp}): expected at least one complete, verified checkpoint; received no checkpoints.`,
      );
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });
});
