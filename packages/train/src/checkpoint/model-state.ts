/**
 * Reading every tensor a model's training depends on (sub-network weights, optimizer slots and
 * counters) into plain arrays, and writing them back into a freshly built model.
 *
 * Ownership: `LayersModel.getWeights()` and `Optimizer.getWeights()` return the live variables
 * (never disposed here) plus, for optimizers, a fresh iteration-count scalar (disposed here).
 */
import * as tf from '@tensorflow/tfjs-core';
import { GensynthError, type GenerativeModel } from '@gensynth/core';
import type { StoredDtype, StoredTensor, TensorEntry, TensorGroup } from './format';

/** A tensor's data ready to be written, without its file offset yet. */
export type CollectedTensor = Omit<TensorEntry, 'offset' | 'byteLength'> & { bytes: Uint8Array };

const DTYPES: readonly string[] = ['float32', 'int32', 'bool'];

function isVariable(t: tf.Tensor): boolean {
  return t instanceof tf.Variable;
}

/** Scalar or tensor variables an optimizer holds outside `getWeights()` (Adam's beta powers). */
function hiddenOptimizerVariables(
  optimizer: tf.Optimizer,
  listed: Set<number>,
): [string, tf.Variable][] {
  return Object.entries(optimizer).filter(
    (entry): entry is [string, tf.Variable] =>
      entry[1] instanceof tf.Variable && !listed.has(entry[1].id),
  );
}

async function toBytes(where: string, t: tf.Tensor): Promise<Uint8Array> {
  if (!DTYPES.includes(t.dtype)) {
    throw new GensynthError('INVALID_ARGUMENT', {
      where,
      expected: 'a float32, int32 or bool tensor',
      received: `dtype ${t.dtype}, shape [${t.shape}]`,
      fix: 'Keep model and optimizer state in float32, int32 or bool tensors.',
    });
  }
  const data = (await t.data()) as Float32Array | Int32Array | Uint8Array;
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

/** Copy every network weight and optimizer state tensor of `model` into byte arrays. */
export async function collectModelTensors(model: GenerativeModel): Promise<CollectedTensor[]> {
  const collected: CollectedTensor[] = [];
  const add = async (
    group: TensorGroup,
    owner: string,
    index: number,
    name: string,
    t: tf.Tensor,
  ) => {
    const where = `saveCheckpoint(${group} ${owner}, tensor ${index} "${name}")`;
    const bytes = await toBytes(where, t);
    collected.push({
      group,
      owner,
      index,
      name,
      shape: [...t.shape],
      dtype: t.dtype as StoredDtype,
      bytes,
    });
  };

  for (const [owner, network] of Object.entries(model.networks())) {
    const before = tf.memory().numTensors;
    const weights = network.getWeights();
    const fresh = tf.memory().numTensors > before;
    try {
      for (const [index, weight] of weights.entries()) {
        const name = isVariable(weight) ? (weight as tf.Variable).name : `${owner}/${index}`;
        await add('network', owner, index, name, weight);
      }
    } finally {
      if (fresh) tf.dispose(weights.filter((w) => !isVariable(w)));
    }
  }

  for (const [owner, optimizer] of Object.entries(model.optimizers())) {
    const named = await optimizer.getWeights();
    try {
      for (const [index, { name, tensor }] of named.entries())
        await add('optimizer', owner, index, name, tensor);
      const listed = new Set(named.map((n) => n.tensor.id));
      for (const [index, [name, variable]] of hiddenOptimizerVariables(
        optimizer,
        listed,
      ).entries()) {
        await add('optimizer-state', owner, index, name, variable);
      }
    } finally {
      tf.dispose(named.map((n) => n.tensor).filter((t) => !isVariable(t)));
    }
  }
  return collected;
}

function mismatch(where: string, expected: string, received: string): GensynthError {
  return new GensynthError('SHAPE_MISMATCH', {
    where,
    expected,
    received,
    fix: "Rebuild the model from the checkpoint's own config (state.json modelConfig) before restoring.",
  });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function toTensor(stored: StoredTensor): tf.Tensor {
  return tf.tensor(stored.values, stored.shape, stored.dtype);
}

function owned(tensors: StoredTensor[], group: TensorGroup, owner: string): StoredTensor[] {
  return tensors
    .filter((t) => t.group === group && t.owner === owner)
    .sort((a, b) => a.index - b.index);
}

async function restoreNetworks(model: GenerativeModel, tensors: StoredTensor[]): Promise<void> {
  const networks = model.networks();
  const stored = new Set(tensors.filter((t) => t.group === 'network').map((t) => t.owner));
  const extra = [...stored].filter((name) => !(name in networks));
  if (extra.length > 0) {
    throw mismatch(
      'restoreCheckpoint(networks)',
      `networks ${Object.keys(networks)}`,
      `checkpoint networks ${[...stored]}`,
    );
  }
  for (const [owner, network] of Object.entries(networks)) {
    const entries = owned(tensors, 'network', owner);
    const before = tf.memory().numTensors;
    const current = network.getWeights();
    const shapes = current.map((w) => [...w.shape]);
    if (tf.memory().numTensors > before) tf.dispose(current.filter((w) => !isVariable(w)));
    const where = `restoreCheckpoint(network ${owner})`;
    if (entries.length !== shapes.length) {
      throw mismatch(
        where,
        `${shapes.length} weight tensors`,
        `${entries.length} in the checkpoint`,
      );
    }
    entries.forEach((e, i) => {
      const shape = shapes[i] as number[];
      if (!sameShape(shape, e.shape)) {
        throw mismatch(
          `${where}, weight ${i}`,
          `shape [${shape}]`,
          `[${e.shape}] in the checkpoint`,
        );
      }
    });
    const values = entries.map(toTensor);
    try {
      network.setWeights(values);
    } finally {
      tf.dispose(values);
    }
  }
}

/**
 * Restore one optimizer. `setWeights` replaces the slot variables (Adam builds its slots lazily
 * on the first step, so a fresh optimizer has none and gets them here); old slot variables the
 * optimizer no longer holds are disposed. Hidden variables (Adam's beta powers) are assigned
 * directly, because `setWeights` recomputes them as `beta^(t+1)` which differs in the last bits
 * from the running product an uninterrupted run holds.
 */
async function restoreOptimizer(
  owner: string,
  optimizer: tf.Optimizer,
  tensors: StoredTensor[],
): Promise<void> {
  const entries = owned(tensors, 'optimizer', owner);
  const old = await optimizer.getWeights();
  const values = entries.map((e) => ({ name: e.name, tensor: toTensor(e) }));
  try {
    await optimizer.setWeights(values);
  } finally {
    tf.dispose(values.map((v) => v.tensor));
  }
  const now = await optimizer.getWeights();
  const held = new Set(now.map((n) => n.tensor.id));
  tf.dispose(old.map((n) => n.tensor).filter((t) => !held.has(t.id) && !t.isDisposed));
  tf.dispose(now.map((n) => n.tensor).filter((t) => !isVariable(t)));

  const listed = new Set(now.map((n) => n.tensor.id));
  const hidden = new Map(hiddenOptimizerVariables(optimizer, listed));
  for (const entry of owned(tensors, 'optimizer-state', owner)) {
    const variable = hidden.get(entry.name);
    const where = `restoreCheckpoint(optimizer ${owner}.${entry.name})`;
    if (variable === undefined)
      throw mismatch(where, 'a variable of that name on the optimizer', 'none');
    if (!sameShape(variable.shape, entry.shape)) {
      throw mismatch(where, `shape [${variable.shape}]`, `[${entry.shape}] in the checkpoint`);
    }
    tf.tidy(() => variable.assign(toTensor(entry)));
  }
}

/** Write checkpointed tensors back into `model` (built from the same config). */
export async function restoreModelTensors(
  model: GenerativeModel,
  tensors: StoredTensor[],
): Promise<void> {
  await restoreNetworks(model, tensors);
  const optimizers = model.optimizers();
  for (const owner of new Set(tensors.filter((t) => t.group !== 'network').map((t) => t.owner))) {
    if (!(owner in optimizers)) {
      throw mismatch(
        'restoreCheckpoint(optimizers)',
        `optimizers ${Object.keys(optimizers)}`,
        `checkpoint optimizer ${owner}`,
      );
    }
  }
  for (const [owner, optimizer] of Object.entries(optimizers))
    await restoreOptimizer(owner, optimizer, tensors);
}
