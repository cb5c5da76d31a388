/**
 * `config.json` of a run: the resolved model config and training options, package versions,
 * the backend, and a fingerprint of the dataset, so a run can be resumed and audited.
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { GensynthError, type Dataset, type ModelConfig } from '@gensynth/core';
import { replaceFileAtomic, sha256 } from './checkpoint/durable-fs';

export const CONFIG_FILE = 'config.json';

/** The options of a run that determine its results (stored; reused by `resume`). */
export interface ResolvedTrainSettings {
  steps: number;
  batchSize: number;
  seed: number;
  logEvery: number;
  sampleEvery: number;
  checkpointEvery: number;
  keepCheckpoints: number;
  sampleCount: number;
  evalEvery: number;
  bestMetric: { name: string; mode: 'min' | 'max' } | null;
}

export interface DatasetFingerprint {
  name: string;
  size: number;
  imageShape: Dataset['imageShape'];
  numClasses: number;
  /** SHA-256 of the fields above. */
  sha256: string;
}

export interface RunConfig {
  format: 'gensynth-run';
  formatVersion: 1;
  createdAt: string;
  model: ModelConfig;
  train: ResolvedTrainSettings;
  dataset: DatasetFingerprint;
  backend: string;
  versions: Record<string, string>;
  /** Each resume: when, from which step, to how many steps. */
  resumes: { at: string; fromStep: number; steps: number }[];
  /** Caller-supplied JSON (e.g. the CLI's config file). */
  extra?: Record<string, unknown>;
}

export function fingerprintDataset(dataset: Dataset): DatasetFingerprint {
  const body = {
    name: dataset.name,
    size: dataset.size,
    imageShape: { ...dataset.imageShape },
    numClasses: dataset.classNames?.length ?? 0,
  };
  return { ...body, sha256: sha256(JSON.stringify(body)) };
}

function packageVersion(name: string): string | undefined {
  try {
    const requireHere = createRequire(path.join(__dirname, 'noop.js'));
    return (requireHere(`${name}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** Versions of gensynth, tfjs and Node that ran this. */
export function collectVersions(): Record<string, string> {
  const versions: Record<string, string> = {
    node: process.version,
    '@tensorflow/tfjs-core': tf.version_core,
  };
  for (const name of ['@gensynth/train', '@gensynth/core', '@tensorflow/tfjs-layers']) {
    const version = packageVersion(name);
    if (version !== undefined) versions[name] = version;
  }
  return versions;
}

export async function writeRunConfig(runDir: string, config: RunConfig): Promise<void> {
  await replaceFileAtomic(path.join(runDir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
}

/** Read `config.json`; throws `CHECKPOINT_NOT_FOUND` when there is no run in `runDir`. */
export async function readRunConfig(runDir: string): Promise<RunConfig> {
  const file = path.join(runDir, CONFIG_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    const folderExists = await fs.stat(runDir).then(
      (stat) => stat.isDirectory(),
      () => false,
    );
    throw new GensynthError('CHECKPOINT_NOT_FOUND', {
      where: `readRunConfig(${runDir})`,
      expected: `a run directory with ${CONFIG_FILE}`,
      received: folderExists ? `no ${file}` : `no folder ${runDir}`,
      fix: 'Pass the run directory that train() or `gensynth train` wrote.',
    });
  }
  try {
    return JSON.parse(text) as RunConfig;
  } catch (error) {
    throw new GensynthError('INVALID_CONFIG', {
      where: file,
      expected: 'valid JSON',
      received: (error as Error).message,
      fix: 'Restore the file from the run (it is written atomically, so only an outside edit breaks it).',
    });
  }
}

/** True when `runDir` already holds a run. */
export async function hasRunConfig(runDir: string): Promise<boolean> {
  try {
    await fs.access(path.join(runDir, CONFIG_FILE));
    return true;
  } catch {
    return false;
  }
}
