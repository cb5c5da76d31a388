/**
 * Test support for kernel tests: run the same computation on the CPU and WASM backends, seeded
 * inputs that do not depend on any backend's RNG, and error measures. Not exported by the
 * package; only `*.test.ts` files import it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { initBackend } from '../backend';
import { silentLogger } from '../logger';

export type TestBackend = 'cpu' | 'wasm';

/** Load both backends with gensynth's kernels registered; leaves 'wasm' active. */
export async function initTestBackends(): Promise<void> {
  await initBackend({ force: 'cpu', logger: silentLogger });
  await initBackend({ force: 'wasm', logger: silentLogger });
}

/** `size` values in [-1, 1) from a 32-bit LCG (Numerical Recipes constants). */
export function seededValues(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let state = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

/** A float32 tensor of `shape` filled with `seededValues`. */
export function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    seededValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
    'float32',
  );
}

export interface Result {
  shape: number[];
  values: Float32Array | Int32Array | Uint8Array;
}

/** Run `fn` on `backend` inside tidy and read every output back. */
export async function runOn(
  backend: TestBackend,
  fn: () => tf.Tensor | tf.Tensor[],
): Promise<Result[]> {
  await tf.setBackend(backend);
  const outputs = tf.tidy(fn);
  const list = Array.isArray(outputs) ? outputs : [outputs];
  try {
    return await Promise.all(
      list.map(async (t) => ({ shape: t.shape, values: (await t.data()) as Result['values'] })),
    );
  } finally {
    tf.dispose(list);
  }
}

/** max |actual - expected| divided by max(max |expected|, tiny): error relative to scale. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / scale;
}

/** Run `fn` on both backends; returns WASM and CPU results (WASM left active). */
export async function onBothBackends(
  fn: () => tf.Tensor | tf.Tensor[],
): Promise<{ wasm: Result[]; cpu: Result[] }> {
  const cpu = await runOn('cpu', fn);
  const wasm = await runOn('wasm', fn);
  return { wasm, cpu };
}

/** Run a replaced stock kernel directly on the active backend and read its output back. */
export function runStockKernel(
  config: KernelConfig | undefined,
  inputs: Record<string, tf.Tensor>,
  attrs: NamedAttrMap,
): { shape: number[]; values: Float32Array | Int32Array | Uint8Array } {
  if (config === undefined) throw new Error('no stock kernel was replaced under that name');
  const info = config.kernelFunc({ inputs, backend: tf.backend(), attrs }) as TensorInfo;
  const tensor = tf.engine().makeTensorFromTensorInfo(info);
  try {
    return { shape: tensor.shape, values: tensor.dataSync() as Float32Array };
  } finally {
    tensor.dispose();
  }
}
