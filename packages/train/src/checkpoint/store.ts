/**
 * Saving and loading checkpoints atomically, with SHA-256 checksums. See `format.ts` for the
 * layout. A save writes a temp directory, fsyncs every file and the directory, renames it into
 * place and only then replaces `LATEST` (temp file, fsync, rename), so a crash at any moment
 * leaves the previous checkpoint complete and `LATEST` pointing at a complete checkpoint.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  GensynthError,
  getLogger,
  isGensynthError,
  type GenerativeModel,
  type Logger,
} from '@gensynth/core';
import {
  pathExists,
  replaceFileAtomic,
  sha256,
  syncDirectory,
  writeFileDurable,
} from './durable-fs';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_FORMAT_VERSION,
  CHECKPOINTS_DIR,
  checkpointDirName,
  LATEST_FILE,
  MANIFEST_FILE,
  parseCheckpointDirName,
  STATE_FILE,
  TENSORS_FILE,
  type CheckpointManifest,
  type CheckpointState,
  type LoadedCheckpoint,
  type StoredTensor,
  type TensorEntry,
} from './format';
import { collectModelTensors, restoreModelTensors } from './model-state';

export interface SaveCheckpointOptions {
  /** Keep this many newest checkpoints and delete older ones (default: keep all). */
  keep?: number;
}

function stamp(manifest: CheckpointManifest): CheckpointManifest {
  const { manifestSha256: _omit, ...body } = manifest;
  return { ...body, manifestSha256: sha256(JSON.stringify(body)) };
}

/**
 * Save `model`'s weights and optimizer state with `state` as `checkpoints/step-NNNNNN` under
 * `runDir`, then point `LATEST` at it. Returns the checkpoint directory.
 */
export async function saveCheckpoint(
  runDir: string,
  model: GenerativeModel,
  state: CheckpointState,
  options: SaveCheckpointOptions = {},
): Promise<string> {
  const root = path.join(runDir, CHECKPOINTS_DIR);
  await fs.mkdir(root, { recursive: true });
  await removeTempDirectories(root);

  const collected = await collectModelTensors(model);
  const tensors: TensorEntry[] = [];
  let offset = 0;
  for (const { bytes, ...entry } of collected) {
    tensors.push({ ...entry, offset, byteLength: bytes.byteLength });
    offset += bytes.byteLength;
  }
  const tensorBytes = Buffer.concat(collected.map((c) => c.bytes));
  const stateJson = `${JSON.stringify(state, null, 2)}\n`;
  const manifest = stamp({
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    step: state.step,
    createdAt: new Date().toISOString(),
    files: {
      [TENSORS_FILE]: { sha256: sha256(tensorBytes), bytes: tensorBytes.byteLength },
      [STATE_FILE]: { sha256: sha256(stateJson), bytes: Buffer.byteLength(stateJson) },
    },
    tensors,
  });

  const name = checkpointDirName(state.step);
  const temp = path.join(root, `.tmp-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const target = path.join(root, name);
  await fs.mkdir(temp);
  try {
    await writeFileDurable(path.join(temp, TENSORS_FILE), tensorBytes);
    await writeFileDurable(path.join(temp, STATE_FILE), stateJson);
    await writeFileDurable(
      path.join(temp, MANIFEST_FILE),
      `${JSON.stringify(manifest, null, 2)}\n`,
    );
    await syncDirectory(temp);
    if (await pathExists(target)) {
      // Re-saving a step (after falling back past a corrupt checkpoint): move the old one aside.
      const trash = `${temp}-old`;
      await fs.rename(target, trash);
      await fs.rename(temp, target);
      await fs.rm(trash, { recursive: true, force: true });
    } else {
      await fs.rename(temp, target);
    }
    await syncDirectory(root);
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    throw ioError(`saveCheckpoint(${target})`, error);
  }
  await replaceFileAtomic(path.join(root, LATEST_FILE), `${name}\n`);
  if (options.keep !== undefined) await pruneCheckpoints(runDir, options.keep);
  return target;
}

/** Steps of the checkpoint directories under `runDir`, ascending (complete or not). */
export async function listCheckpoints(runDir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await fs.readdir(path.join(runDir, CHECKPOINTS_DIR));
  } catch {
    return [];
  }
  return names
    .map(parseCheckpointDirName)
    .filter((s): s is number => s !== undefined)
    .sort((a, b) => a - b);
}

/** Delete all but the `keep` newest checkpoints (the one `LATEST` names is always kept). */
export async function pruneCheckpoints(runDir: string, keep: number): Promise<void> {
  const steps = await listCheckpoints(runDir);
  const latest = await readLatest(runDir);
  const doomed = steps.slice(0, Math.max(0, steps.length - Math.max(1, keep)));
  for (const step of doomed) {
    if (step === latest) continue;
    await fs.rm(path.join(runDir, CHECKPOINTS_DIR, checkpointDirName(step)), {
      recursive: true,
      force: true,
    });
  }
}

/** The step `LATEST` points at, or undefined when it is missing or unreadable. */
export async function readLatest(runDir: string): Promise<number | undefined> {
  try {
    const text = await fs.readFile(path.join(runDir, CHECKPOINTS_DIR, LATEST_FILE), 'utf8');
    return parseCheckpointDirName(text.trim());
  } catch {
    return undefined;
  }
}

export interface LoadCheckpointOptions {
  /** Load this step instead of the one `LATEST` names. */
  step?: number;
}

/**
 * Load and verify a checkpoint of the run in `runDir` (the one `LATEST` names, or `step`).
 * Throws `CHECKPOINT_NOT_FOUND` when there is none and `CHECKPOINT_CORRUPT`, naming the file,
 * when a file is missing, truncated or altered.
 */
export async function loadCheckpoint(
  runDir: string,
  options: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const step = options.step ?? (await readLatest(runDir));
  if (step === undefined) {
    throw new GensynthError('CHECKPOINT_NOT_FOUND', {
      where: `loadCheckpoint(${runDir})`,
      expected: `a ${CHECKPOINTS_DIR}/${LATEST_FILE} file naming a checkpoint`,
      received: 'none',
      fix: 'Pass the directory of a run that saved at least one checkpoint, or train first.',
    });
  }
  const dir = path.join(runDir, CHECKPOINTS_DIR, checkpointDirName(step));
  if (!(await pathExists(dir))) {
    throw new GensynthError('CHECKPOINT_NOT_FOUND', {
      where: `loadCheckpoint(${runDir})`,
      expected: `checkpoint directory ${dir}`,
      received: 'no such directory',
      fix: 'Pick a step that listCheckpoints(runDir) returns.',
    });
  }
  return readCheckpointDir(dir);
}

function corrupt(file: string, expected: string, received: string): GensynthError {
  return new GensynthError('CHECKPOINT_CORRUPT', {
    where: `checkpoint file ${file}`,
    expected,
    received,
    fix: 'The file was truncated or altered; resume from an earlier checkpoint (resume() falls back automatically).',
  });
}

async function readVerified(
  dir: string,
  name: string,
  entry: { sha256: string; bytes: number } | undefined,
) {
  const file = path.join(dir, name);
  if (entry === undefined) throw corrupt(file, 'an entry in manifest.json', 'none');
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch (error) {
    throw corrupt(file, `a file of ${entry.bytes} bytes`, (error as Error).message);
  }
  if (data.byteLength !== entry.bytes)
    throw corrupt(file, `${entry.bytes} bytes`, `${data.byteLength} bytes`);
  const digest = sha256(data);
  if (digest !== entry.sha256) throw corrupt(file, `SHA-256 ${entry.sha256}`, `SHA-256 ${digest}`);
  return data;
}

/** Load and verify the checkpoint in directory `dir`. */
export async function readCheckpointDir(dir: string): Promise<LoadedCheckpoint> {
  const manifestFile = path.join(dir, MANIFEST_FILE);
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as CheckpointManifest;
  } catch (error) {
    throw corrupt(manifestFile, 'a readable JSON manifest', (error as Error).message);
  }
  const expected = stamp(manifest).manifestSha256 as string;
  if (manifest.manifestSha256 !== expected) {
    throw corrupt(manifestFile, `manifestSha256 ${expected}`, `${manifest.manifestSha256}`);
  }
  if (manifest.format !== CHECKPOINT_FORMAT || manifest.formatVersion > CHECKPOINT_FORMAT_VERSION) {
    throw new GensynthError('CHECKPOINT_CORRUPT', {
      where: manifestFile,
      expected: `${CHECKPOINT_FORMAT} format version <= ${CHECKPOINT_FORMAT_VERSION}`,
      received: `${manifest.format} version ${manifest.formatVersion}`,
      fix: 'Load it with the @gensynth/train version that wrote it, or a newer one.',
    });
  }
  const tensorData = await readVerified(dir, TENSORS_FILE, manifest.files[TENSORS_FILE]);
  const stateData = await readVerified(dir, STATE_FILE, manifest.files[STATE_FILE]);
  const state = JSON.parse(stateData.toString('utf8')) as CheckpointState;
  const tensors: StoredTensor[] = manifest.tensors.map((entry) => {
    const end = entry.offset + entry.byteLength;
    if (end > tensorData.byteLength) {
      throw corrupt(
        path.join(dir, TENSORS_FILE),
        `at least ${end} bytes`,
        `${tensorData.byteLength}`,
      );
    }
    const bytes = tensorData.buffer.slice(
      tensorData.byteOffset + entry.offset,
      tensorData.byteOffset + end,
    );
    const values =
      entry.dtype === 'float32'
        ? new Float32Array(bytes)
        : entry.dtype === 'int32'
          ? new Int32Array(bytes)
          : new Uint8Array(bytes);
    return { ...entry, values };
  });
  return { dir, step: manifest.step, manifest, state, tensors };
}

/**
 * The newest checkpoint that verifies: the one `LATEST` names, else older ones, newest first.
 * Each one skipped is reported through `logger.warn` with the reason.
 */
export async function loadLatestGoodCheckpoint(
  runDir: string,
  logger: Logger = getLogger(),
): Promise<LoadedCheckpoint> {
  const latest = await readLatest(runDir);
  const steps = (await listCheckpoints(runDir)).reverse();
  const latestFile = path.join(runDir, CHECKPOINTS_DIR, LATEST_FILE);
  if (latest === undefined && steps.length > 0) {
    const exists = await fs.stat(latestFile).then(
      () => true,
      () => false,
    );
    logger.warn(
      `${latestFile} is ${exists ? 'unreadable' : 'missing'}; using the newest checkpoint that verifies`,
    );
  }
  const order = latest === undefined ? steps : [latest, ...steps.filter((s) => s !== latest)];
  const failures: string[] = [];
  for (const step of order) {
    try {
      const checkpoint = await loadCheckpoint(runDir, { step });
      if (failures.length > 0) logger.warn(`resuming from ${checkpointDirName(step)} instead`);
      return checkpoint;
    } catch (error) {
      if (!isGensynthError(error)) throw error;
      failures.push(`${checkpointDirName(step)}: ${error.message}`);
      logger.warn(`skipping checkpoint ${checkpointDirName(step)}: ${error.message}`);
    }
  }
  throw new GensynthError('CHECKPOINT_NOT_FOUND', {
    where: `loadLatestGoodCheckpoint(${runDir})`,
    expected: 'at least one complete, verified checkpoint',
    received: failures.length > 0 ? failures.join(' | ') : 'no checkpoints',
    fix: 'Start a new run; this one has no checkpoint to resume or sample from.',
  });
}

/** Restore a loaded checkpoint's weights and optimizer state into `model`. */
export async function restoreCheckpoint(
  model: GenerativeModel,
  checkpoint: LoadedCheckpoint,
): Promise<void> {
  await restoreModelTensors(model, checkpoint.tensors);
}

async function removeTempDirectories(root: string): Promise<void> {
  for (const name of await fs.readdir(root)) {
    if (name.startsWith('.tmp-') || name.startsWith('.LATEST.tmp-'))
      await fs.rm(path.join(root, name), { recursive: true, force: true });
  }
}

function ioError(where: string, error: unknown): GensynthError {
  if (isGensynthError(error)) return error;
  return new GensynthError(
    'IO',
    {
      where,
      expected: 'a writable run directory',
      received: (error as Error).message,
      fix: 'Check permissions and free disk space.',
    },
    { cause: error },
  );
}
