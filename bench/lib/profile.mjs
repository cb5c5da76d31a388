// Per-kernel timing of one call, for `--profile`.
//
// tf.profile reports kernelTimeMs from backend.time(), which on 'wasm' and 'cpu' is wall time
// around each kernel; but ops built with customGrad (and kernels that call other ops) appear both
// as an outer scope and as their inner kernels, so its times add up to more than the step. Here we
// wrap the engine's kernel runner instead and keep a stack, which gives each kernel its *self*
// time (total minus nested kernels). Every backend we run on in Node executes kernels
// synchronously, so wall time around a kernel is its compute time. tf.profile's own total is
// printed beside it as a cross-check.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Run `fn` once and time every kernel it launches (forward, backward, optimizer).
 * @returns {Promise<{wallMs: number, kernelMs: number, calls: number,
 *   byName: {name: string, ms: number, calls: number}[],
 *   byCall: {name: string, shapes: string, ms: number, calls: number}[],
 *   tfProfileMs: number | null}>}
 */
export async function profileKernels(fn) {
  const engine = tf.engine();
  const original = engine.runKernelFunc;
  const stack = [];
  const records = [];
  engine.runKernelFunc = function timed(params) {
    const name = params.kernelName ?? engine.state.activeScope?.name ?? 'customGrad';
    const shapes = Object.values(params.inputs ?? {})
      .map((t) => (t?.shape ? `[${t.shape.join(',')}]` : '-'))
      .join(' ');
    const frame = { childMs: 0 };
    stack.push(frame);
    const started = performance.now();
    try {
      return original.call(this, params);
    } finally {
      const ms = performance.now() - started;
      stack.pop();
      const parent = stack.at(-1);
      if (parent) parent.childMs += ms;
      records.push({ name, shapes, ms: ms - frame.childMs });
    }
  };
  let wallMs;
  try {
    const started = performance.now();
    const out = fn();
    await settle(out);
    wallMs = performance.now() - started;
    dispose(out);
  } finally {
    engine.runKernelFunc = original;
  }

  let tfProfileMs = null;
  const info = await tf.profile(() => {
    const out = fn();
    return Object.values(out);
  });
  const times = info.kernels.map((k) => k.kernelTimeMs);
  if (times.every((t) => typeof t === 'number' && Number.isFinite(t))) {
    tfProfileMs = times.reduce((s, t) => s + t, 0);
  }
  // tf.profile keeps what fn returned; release it.
  info.result?.forEach?.((t) => t.dispose());

  return { wallMs, tfProfileMs, ...summarize(records) };
}

function summarize(records) {
  const byName = new Map();
  const byCall = new Map();
  for (const r of records) {
    add(byName, r.name, { name: r.name }, r.ms);
    add(byCall, `${r.name} ${r.shapes}`, { name: r.name, shapes: r.shapes }, r.ms);
  }
  const sorted = (m) => [...m.values()].sort((a, b) => b.ms - a.ms);
  const kernelMs = records.reduce((s, r) => s + r.ms, 0);
  return { kernelMs, calls: records.length, byName: sorted(byName), byCall: sorted(byCall) };
}

function add(map, key, init, ms) {
  const entry = map.get(key) ?? { ...init, ms: 0, calls: 0 };
  entry.ms += ms;
  entry.calls += 1;
  map.set(key, entry);
}

async function settle(out) {
  for (const t of Object.values(out)) await t.data();
}

function dispose(out) {
  for (const t of Object.values(out)) t.dispose();
}
