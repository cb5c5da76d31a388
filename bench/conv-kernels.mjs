#!/usr/bin/env node
// The convolution kernels of a DCGAN-32 training step, one by one: forward (FusedConv2D with
// bias), input gradient (Conv2DBackpropInput, also conv2dTranspose's forward) and filter gradient
// (Conv2DBackpropFilter) at the three discriminator layers' shapes, batch 64, 4x4 filters,
// stride 2, 'same' padding. Each call gets a new filter tensor, as in training, where the weights
// change every step.
//
//   node bench/conv-kernels.mjs [--reps 10] [--rounds 3] [--threads 2]
//
// Sides, alternating by round, each in a child process: gensynth's kernel module (the default)
// and, with GENSYNTH_WASM_NATIVE=0, the kernels composed from tfjs's XNNPACK ones. GFLOP/s counts
// 2 FLOP per multiply-add of the convolution itself. Needs @gensynth/core built.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, median, printTable } from './lib/report.mjs';

const { values: opts } = parseArgs({
  options: {
    reps: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    child: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  process.stdout.write(
    'usage: node bench/conv-kernels.mjs [--reps 10] [--rounds 3] [--threads 2]\n',
  );
  process.exit(0);
}
for (const name of ['reps', 'rounds', 'threads']) {
  if (!/^[1-9]\d*$/.test(opts[name])) {
    process.stderr.write(`conv-kernels: expected --${name} to be an integer >= 1; received `);
    process.stderr.write(`${JSON.stringify(opts[name])}. Pass e.g. --${name} 3.\n`);
    process.exit(2);
  }
}

const LAYERS = [
  { x: [64, 32, 32, 3], w: [4, 4, 3, 32] },
  { x: [64, 16, 16, 32], w: [4, 4, 32, 64] },
  { x: [64, 8, 8, 64], w: [4, 4, 64, 128] },
];
const KINDS = ['forward', 'input gradient', 'filter gradient'];

/** One side's ms per call for every layer and kind: { 'layer|kind': ms }. */
async function measure() {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-layers');
  const { initBackend, silentLogger } = await import('@gensynth/core');
  const choice = await initBackend({
    force: 'wasm',
    threads: Number(opts.threads),
    logger: silentLogger,
  });
  const reps = Number(opts.reps);
  const time = (fn) => {
    for (let r = 0; r < 2; r++) tf.dispose(fn());
    const started = performance.now();
    for (let r = 0; r < reps; r++) {
      // WASM kernels (XNNPACK's and gensynth's thread pools too) finish before they return, so
      // no read-back is needed; reading 2 MB back would add ~1 ms to every call.
      fn().dispose();
    }
    return (performance.now() - started) / reps;
  };
  const result = { threads: choice.threads };
  // A first pass over every layer warms the JIT and grows the WASM heap to its working size,
  // which would otherwise land on the first layer's times; the second pass is timed.
  for (const pass of ['warm-up', 'timed'])
    for (const { x: xs, w: ws } of LAYERS) {
      const ys = [xs[0], xs[1] / 2, xs[2] / 2, ws[3]];
      const x = tf.randomNormal(xs);
      const w = tf.randomNormal(ws);
      const dy = tf.randomNormal(ys);
      const bias = tf.randomNormal([ws[3]]);
      const e = tf.engine();
      const attrs = { strides: 2, pad: 'same', dataFormat: 'NHWC' };
      const calls = {
        forward: () =>
          tf.tidy(() =>
            tf.fused.conv2d({ x, filter: tf.add(w, 0), bias, strides: 2, pad: 'same' }),
          ),
        'input gradient': () =>
          tf.tidy(() =>
            e.runKernel(
              'Conv2DBackpropInput',
              { dy, filter: tf.add(w, 0) },
              { ...attrs, inputShape: xs },
            ),
          ),
        'filter gradient': () =>
          e.runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: ws }),
      };
      for (const kind of KINDS) {
        const ms = time(calls[kind]);
        if (pass === 'timed') result[`${xs.join('x')}|${kind}`] = ms;
      }
      tf.dispose([x, w, dy, bias]);
    }
  return result;
}

if (opts.child) {
  process.stdout.write(`${JSON.stringify(await measure())}\n`);
  process.exit(0);
}

const script = fileURLToPath(import.meta.url);
const SIDES = [
  { name: "gensynth's kernel module", env: {} },
  { name: 'composed from XNNPACK', env: { GENSYNTH_WASM_NATIVE: '0' } },
];
const runs = SIDES.map(() => []);
for (let round = 1; round <= Number(opts.rounds); round++) {
  SIDES.forEach((side, i) => {
    const child = spawnSync(process.execPath, [script, '--child', ...process.argv.slice(2)], {
      encoding: 'utf8',
      env: { ...process.env, ...side.env },
    });
    if (child.status !== 0) {
      process.stderr.write(child.stderr);
      process.exit(1);
    }
    runs[i].push(JSON.parse(child.stdout.trim().split('\n').at(-1)));
  });
  process.stdout.write(`round ${round}/${opts.rounds} done\n`);
}

const rows = [];
for (const { x: xs, w: ws } of LAYERS) {
  const macs = (xs[0] * xs[1] * xs[2] * ws[0] * ws[1] * ws[2] * ws[3]) / 4; // stride 2: 1/4 of pixels
  for (const kind of KINDS) {
    const key = `${xs.join('x')}|${kind}`;
    const ms = runs.map((r) => median(r.map((m) => m[key])));
    rows.push([
      `[${xs}] x [${ws}]`,
      kind,
      ...ms.flatMap((m) => [fmt(m, 2), fmt((2 * macs) / m / 1e6, 1)]),
      `${fmt(ms[1] / ms[0], 2)}x`,
    ]);
  }
}
process.stdout.write(
  `threads: ${runs[0][0].threads} (gensynth) / ${runs[1][0].threads} (XNNPACK); median of ${opts.rounds} rounds of ${opts.reps} calls\n`,
);
printTable(
  [
    'layer (x, filter)',
    'kernel',
    'gensynth ms',
    'GFLOP/s',
    'XNNPACK-composed ms',
    'GFLOP/s',
    'speed-up',
  ],
  rows,
);
