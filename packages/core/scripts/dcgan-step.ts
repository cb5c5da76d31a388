/**
 * Times one DCGAN-32 training step (one D step + one G step, batch 64) on a tfjs backend and
 * prints a per-kernel profile. Used to write src/kernels/PROFILE.md.
 *
 *   npx esbuild packages/core/scripts/dcgan-step.ts --bundle --platform=node --packages=external \
 *     --outfile=node_modules/.cache/gk/dcgan-step.cjs && node node_modules/.cache/gk/dcgan-step.cjs \
 *     [--backend wasm|cpu] [--steps 10] [--profile] [--shapes] [--batch 64] [--baseline]
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../src/backend';
import { silentLogger } from '../src/logger';
import { WASM_TRAINING_KERNELS, stockWasmKernel } from '../src/kernels/wasm';
import { ReplayableAdamOptimizer } from '../src/optimizers';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const backend = arg('backend', 'wasm') as 'wasm' | 'cpu';
const steps = Number(arg('steps', '10'));
const batch = Number(arg('batch', '64'));
const profile = process.argv.includes('--profile');
// --baseline: put the stock kernels back, keeping only what stock tfjs lacks outright.
const baseline = process.argv.includes('--baseline');
const MISSING_IN_STOCK = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'UnsortedSegmentSum',
];
const latentDim = 100;

function generator(): tfl.LayersModel {
  const init = tfl.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: 1 });
  const z = tfl.input({ shape: [latentDim] });
  let h = tfl.layers
    .dense({ units: 4 * 4 * 128, kernelInitializer: init })
    .apply(z) as tfl.SymbolicTensor;
  h = tfl.layers.batchNormalization().apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.reLU().apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.reshape({ targetShape: [4, 4, 128] }).apply(h) as tfl.SymbolicTensor;
  for (const filters of [64, 32]) {
    h = tfl.layers
      .conv2dTranspose({
        filters,
        kernelSize: 4,
        strides: 2,
        padding: 'same',
        kernelInitializer: init,
      })
      .apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.batchNormalization().apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.reLU().apply(h) as tfl.SymbolicTensor;
  }
  h = tfl.layers
    .conv2dTranspose({
      filters: 3,
      kernelSize: 4,
      strides: 2,
      padding: 'same',
      kernelInitializer: init,
    })
    .apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.activation({ activation: 'tanh' }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: z, outputs: out });
}

function discriminator(): tfl.LayersModel {
  const init = tfl.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: 2 });
  const x = tfl.input({ shape: [32, 32, 3] });
  let h: tfl.SymbolicTensor = x;
  for (const filters of [32, 64, 128]) {
    h = tfl.layers
      .conv2d({ filters, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init })
      .apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tfl.SymbolicTensor;
  }
  h = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({ units: 1, kernelInitializer: init })
    .apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: out });
}

function bce(logits: tf.Tensor, target: number): tf.Scalar {
  return tf.losses.sigmoidCrossEntropy(tf.fill(logits.shape, target), logits) as tf.Scalar;
}

async function main(): Promise<void> {
  await initBackend({ force: backend, logger: silentLogger });
  if (baseline) {
    for (const { kernelName } of WASM_TRAINING_KERNELS) {
      const stock = stockWasmKernel(kernelName);
      if (MISSING_IN_STOCK.includes(kernelName) || stock === undefined) continue;
      tf.unregisterKernel(kernelName, 'wasm');
      tf.registerKernel(stock);
    }
  }
  const g = generator();
  const d = discriminator();
  // gensynth's Adam (fused update); the baseline keeps tfjs's own.
  const optG = baseline ? tf.train.adam(2e-4, 0.5) : new ReplayableAdamOptimizer(2e-4, 0.5, 0.999);
  const optD = baseline ? tf.train.adam(2e-4, 0.5) : new ReplayableAdamOptimizer(2e-4, 0.5, 0.999);
  const gVars = g.trainableWeights.map((w) => w.read() as tf.Variable);
  const dVars = d.trainableWeights.map((w) => w.read() as tf.Variable);
  const real = tf.randomUniform([batch, 32, 32, 3], -1, 1, 'float32', 3);

  const step = (i: number): void => {
    const z1 = tf.randomNormal([batch, latentDim], 0, 1, 'float32', 10 + i);
    const z2 = tf.randomNormal([batch, latentDim], 0, 1, 'float32', 1000 + i);
    const lossD = optD.minimize(
      () => {
        const fake = g.apply(z1, { training: true }) as tf.Tensor;
        const realLogits = d.apply(real, { training: true }) as tf.Tensor;
        const fakeLogits = d.apply(fake, { training: true }) as tf.Tensor;
        return tf.add(bce(realLogits, 1), bce(fakeLogits, 0)) as tf.Scalar;
      },
      true,
      dVars,
    );
    const lossG = optG.minimize(
      () => {
        const fake = g.apply(z2, { training: true }) as tf.Tensor;
        return bce(d.apply(fake, { training: true }) as tf.Tensor, 1);
      },
      true,
      gVars,
    );
    lossD?.dataSync();
    lossG?.dataSync();
    tf.dispose([z1, z2, lossD, lossG]);
  };

  for (let i = 0; i < 2; i++) step(i); // warm-up: operator caches, Adam slots
  const before = tf.memory().numTensors;
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    step(100 + i);
    const c1 = process.cpuUsage(c0);
    times.push(performance.now() - t0);
    cpuTimes.push((c1.user + c1.system) / 1000);
  }
  cpuTimes.sort((a, b) => a - b);
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const result = {
    backend: tf.getBackend(),
    batch,
    steps,
    medianMsPerStep: Number(median.toFixed(1)),
    minMsPerStep: Number(times[0]!.toFixed(1)),
    // CPU time of this process: less sensitive than wall time to other processes on the machine.
    medianCpuMsPerStep: Number(cpuTimes[Math.floor(cpuTimes.length / 2)]!.toFixed(1)),
    imagesPerSec: Number(((batch * 1000) / median).toFixed(1)),
    leakedTensors: tf.memory().numTensors - before,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);

  if (profile) {
    // Per-kernel time of 5 profiled steps; the median step per kernel damps other processes.
    const perStep: Map<string, { ms: number; calls: number }>[] = [];
    for (let i = 0; i < 5; i++) {
      const info = await tf.profile(() => step(900 + i));
      const byKernel = new Map<string, { ms: number; calls: number }>();
      for (const k of info.kernels) {
        if (process.argv.includes('--shapes') && i === 0) {
          const line = `${k.name} ${JSON.stringify(k.inputShapes)} -> ${JSON.stringify(k.outputShapes)}`;
          process.stdout.write(`${line} ${(k.kernelTimeMs as number).toFixed(2)} ms\n`);
        }
        if (k.name.endsWith('__op')) continue; // op-level wrappers time their kernels again
        const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
        entry.ms += k.kernelTimeMs as number;
        entry.calls += 1;
        byKernel.set(k.name, entry);
      }
      perStep.push(byKernel);
    }
    const median = (values: number[]) =>
      values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const rows = [...perStep[0]!.entries()].map(([name, v]) => {
      const ms = median(perStep.map((m) => m.get(name)?.ms ?? 0));
      return { name, calls: v.calls, ms };
    });
    rows.sort((a, b) => b.ms - a.ms);
    const total = rows.reduce((sum, r) => sum + r.ms, 0);
    process.stdout.write(`| kernel | calls | ms | share |\n|---|---:|---:|---:|\n`);
    for (const r of rows) {
      const share = ((100 * r.ms) / total).toFixed(1);
      process.stdout.write(`| ${r.name} | ${r.calls} | ${r.ms.toFixed(2)} | ${share}% |\n`);
    }
    const calls = rows.reduce((sum, r) => sum + r.calls, 0);
    process.stdout.write(`| total (kernels) | ${calls} | ${total.toFixed(1)} | |\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
