/**
 * The on-disk checkpoint format (version 1):
 *
 *   checkpoints/
 *     LATEST                 "step-000500\n": the newest complete checkpoint
 *     step-000500/
 *       manifest.json        format, step, SHA-256 and size of every other file, tensor index,
 *                            and `manifestSha256` over the rest of the manifest
 *       tensors.bin          raw little-endian tensor data, back to back
 *       state.json           step, root seed, data cursor, model config, best metric
 *
 * Tensor groups: `network` (sub-network weights, in `getWeights()` order), `optimizer`
 * (`tf.Optimizer.getWeights()`: iteration count then slots) and `optimizer-state` (scalar
 * variables an optimizer keeps outside `getWeights()`, such as Adam's running beta powers).
 */
import type { DataCursor, ModelConfig } from '@gensynth/core';

export const CHECKPOINT_FORMAT = 'gensynth-checkpoint';
export const CHECKPOINT_FORMAT_VERSION = 1;
export const CHECKPOINTS_DIR = 'checkpoints';
export const LATEST_FILE = 'LATEST';
export const MANIFEST_FILE = 'manifest.json';
export const TENSORS_FILE = 'tensors.bin';
export const STATE_FILE = 'state.json';

export type StoredDtype = 'float32' | 'int32' | 'bool';
export type TensorGroup = 'network' | 'optimizer' | 'optimizer-state';

/** Where one tensor lives in `tensors.bin`. */
export interface TensorEntry {
  group: TensorGroup;
  /** Network or optimizer name, as in `model.networks()` / `model.optimizers()`. */
  owner: string;
  /** Position within the owner's weight list. */
  index: number;
  /** The tensor's own name (optimizer slot name, property name); informational for networks. */
  name: string;
  shape: number[];
  dtype: StoredDtype;
  offset: number;
  byteLength: number;
}

export interface FileEntry {
  sha256: string;
  bytes: number;
}

export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  formatVersion: number;
  step: number;
  createdAt: string;
  files: Record<string, FileEntry>;
  tensors: TensorEntry[];
  /** SHA-256 of this manifest serialised without this field. */
  manifestSha256?: string;
}

/** The best evaluation value seen so far. */
export interface BestMetric {
  name: string;
  mode: 'min' | 'max';
  value: number;
  step: number;
}

/** Everything besides tensors that a resumed run needs. */
export interface CheckpointState {
  /** Completed training steps; the next step index is `step`. */
  step: number;
  /**
   * Root seed of the run. All trainer randomness is `deriveSeed(rootSeed, stepIndex)` and the
   * model's randomness comes from that per-step seed, so (rootSeed, step) is the full RNG state.
   */
  rootSeed: number;
  /** Position of the batch stream (the next batch), or null before the first batch. */
  cursor: DataCursor | null;
  modelConfig: ModelConfig;
  best: BestMetric | null;
  /** Training time spent so far, in milliseconds. */
  elapsedMs: number;
  /** Free-form JSON for callers (schedules, augmentation state). */
  extra?: Record<string, unknown>;
}

/** A tensor read back from a checkpoint, as plain data. */
export interface StoredTensor extends TensorEntry {
  values: Float32Array | Int32Array | Uint8Array;
}

export interface LoadedCheckpoint {
  /** The checkpoint directory. */
  dir: string;
  step: number;
  manifest: CheckpointManifest;
  state: CheckpointState;
  tensors: StoredTensor[];
}

/** `step-000500` for step 500. */
export function checkpointDirName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

/** The step of a checkpoint directory name, or undefined for other names. */
export function parseCheckpointDirName(name: string): number | undefined {
  const match = /^step-(\d{6,})$/.exec(name);
  return match ? Number(match[1]) : undefined;
}
