// Per-kernel timing of a call (one training step), for `--profile`.
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
 * Run `fn` `repeats` times and time every kernel it launches (forward, backward, optimizer).
 * Per kernel (and per kernel + input shapes) the median over the repeats is reported, which
 * keeps one descheduled call on a shared machine from dominating the table.
 * @returns {Promise<{wallMs: number, kernelMs: number, calls: number, repeats: number,
 *   byName: {name: string, ms: number, calls: number}[],
 *   byCall: {name: string, shapes: string, ms: number, calls: number}[],
 *   tfProfileMs: number | null}>}
 */
export async function profileKernels(fn, { repeats = 1 } = {}) {
  const engine = tf.engine();
  const original = engine.runKernelFunc;
  const stack = [];
  let records = [];
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
  const runs = [];
  try {
    for (let i = 0; i < repeats; i++) {
      records = [];
      const started = performance.now();
      const out = fn();
      await settle(out);
      const wallMs = performance.now() - started;
      dispose(out);
      runs.push({ wallMs, ...summarize(records) });
    }
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

  return { tfProfileMs, repeats, ...combine(runs) };
}

/** Median over runs of the wall time, the kernel total and each kernel's time. */
function combine(runs) {
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const merge = (key, pick) => {
    const groups = new Map();
    for (const run of runs) {
      for (const entry of run[key]) {
        const id = pick(entry);
        groups.set(id, [...(groups.get(id) ?? []), entry]);
      }
    }
    const merged = [...groups.values()].map((list) => ({
      ...list[0],
      ms: med(list.map((e) => e.ms)),
    }));
    return merged.sort((a, b) => b.ms - a.ms);
  };
  return {
    wallMs: med(runs.map((r) => r.wallMs)),
    kernelMs: med(runs.map((r) => r.kernelMs)),
    calls: runs[0].calls,
    byName: merge('byName', (e) => e.name),
    byCall: merge('byCall', (e) => `${e.name} ${e.shapes}`),
  };
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
