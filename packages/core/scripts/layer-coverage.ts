/**
 * Runs one Adam training step of small models built from every layer a GAN, VAE or UNet uses,
 * on the WASM backend, and reports which kernels ran, how long they took and which failed.
 *
 *   npx esbuild packages/core/scripts/layer-coverage.ts --bundle --platform=node \
 *     --packages=external --outfile=node_modules/.cache/gk/layer-coverage.cjs \
 *     && node node_modules/.cache/gk/layer-coverage.cjs [--backend wasm|cpu]
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../src/backend';
import { silentLogger } from '../src/logger';

type Sym = tfl.SymbolicTensor;
const backend = process.argv.includes('--backend')
  ? (process.argv[process.argv.indexOf('--backend') + 1] as 'wasm' | 'cpu')
  : 'wasm';

/** Each case maps a [B, 16, 16, 4] image (and int labels) to any output; loss = mean(out^2). */
const CASES: Record<string, (x: Sym) => Sym> = {
  conv2d: (x) => tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same' }).apply(x) as Sym,
  conv2dStride2Valid: (x) =>
    tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2 }).apply(x) as Sym,
  conv2dDilated: (x) =>
    tfl.layers.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2 }).apply(x) as Sym,
  conv2dTranspose: (x) =>
    tfl.layers
      .conv2dTranspose({ filters: 8, kernelSize: 4, strides: 2, padding: 'same' })
      .apply(x) as Sym,
  depthwiseConv2d: (x) =>
    tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }).apply(x) as Sym,
  separableConv2d: (x) => tfl.layers.separableConv2d({ filters: 8, kernelSize: 3 }).apply(x) as Sym,
  batchNormalization: (x) => tfl.layers.batchNormalization().apply(x) as Sym,
  layerNormalization: (x) => tfl.layers.layerNormalization().apply(x) as Sym,
  dense: (x) => tfl.layers.dense({ units: 8 }).apply(tfl.layers.flatten().apply(x)) as Sym,
  leakyReLU: (x) => tfl.layers.leakyReLU({ alpha: 0.2 }).apply(x) as Sym,
  relu: (x) => tfl.layers.reLU().apply(x) as Sym,
  tanh: (x) => tfl.layers.activation({ activation: 'tanh' }).apply(x) as Sym,
  sigmoid: (x) => tfl.layers.activation({ activation: 'sigmoid' }).apply(x) as Sym,
  swish: (x) => tfl.layers.activation({ activation: 'swish' }).apply(x) as Sym,
  elu: (x) => tfl.layers.elu().apply(x) as Sym,
  upSamplingNearest: (x) => tfl.layers.upSampling2d({ size: [2, 2] }).apply(x) as Sym,
  upSamplingBilinear: (x) =>
    tfl.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }).apply(x) as Sym,
  averagePooling2d: (x) => tfl.layers.averagePooling2d({ poolSize: 2 }).apply(x) as Sym,
  maxPooling2d: (x) => tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as Sym,
  globalAveragePooling2d: (x) => tfl.layers.globalAveragePooling2d({}).apply(x) as Sym,
  dropout: (x) => tfl.layers.dropout({ rate: 0.3, seed: 1 }).apply(x) as Sym,
  concatenate: (x) => tfl.layers.concatenate().apply([x, x]) as Sym,
  zeroPadding2d: (x) => tfl.layers.zeroPadding2d({ padding: 1 }).apply(x) as Sym,
  cropping2D: (x) => tfl.layers.cropping2D({ cropping: 1 }).apply(x) as Sym,
};

/** Steps written with tf ops: groupnorm-like normalisation, SiLU, embedding-conditioned scale. */
function opsStep(
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  table: tf.Variable,
  gamma: tf.Variable,
): tf.Scalar {
  const [b, h, w, c] = x.shape;
  const groups = 2;
  const grouped = tf.reshape(x, [b, h, w, groups, c / groups]);
  const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
  const normed = tf.reshape(tf.div(tf.sub(grouped, mean), tf.sqrt(tf.add(variance, 1e-5))), [
    b,
    h,
    w,
    c,
  ]);
  const silu = tf.mul(normed, tf.sigmoid(normed));
  const scale = tf.reshape(tf.gather(table, labels), [b, 1, 1, c]); // embedding
  const onehot = tf.oneHot(labels, 3);
  const mixed = tf.mul(tf.mul(silu, scale), gamma);
  return tf.add(tf.mean(tf.square(mixed)), tf.mean(onehot)) as tf.Scalar;
}

async function main(): Promise<void> {
  await initBackend({ force: backend, logger: silentLogger });
  const x = tf.randomNormal([2, 16, 16, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.tensor1d([0, 2], 'int32');
  const kernelMs = new Map<string, number>();
  const failures: string[] = [];
  const record = (kernels: { name: string; kernelTimeMs: number | { error: string } }[]) => {
    for (const k of kernels) {
      if (k.name.endsWith('__op')) continue;
      kernelMs.set(k.name, (kernelMs.get(k.name) ?? 0) + (k.kernelTimeMs as number));
    }
  };
  for (const [name, build] of Object.entries(CASES)) {
    const optimizer = tf.train.adam(1e-3);
    const input = tfl.input({ shape: [16, 16, 4] });
    // A leading conv gives weight-free layers a variable to train through them.
    const lead = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: 'same' })
      .apply(input) as Sym;
    const model = tfl.model({ inputs: input, outputs: build(lead) });
    const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
    const step = () => {
      const loss = optimizer.minimize(
        () => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
        true,
        vars,
      );
      loss?.dispose();
    };
    try {
      step(); // first call: compiles code paths and creates optimizer slots
      const info = await tf.profile(step);
      record(info.kernels as never);
      const top = [...info.kernels]
        .filter((k) => !k.name.endsWith('__op'))
        .sort((a, b) => (b.kernelTimeMs as number) - (a.kernelTimeMs as number))
        .slice(0, 3)
        .map((k) => `${k.name} ${(k.kernelTimeMs as number).toFixed(2)}`);
      process.stdout.write(`${name}: ${top.join(', ')}\n`);
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
    }
    model.dispose();
  }
  const table = tf.variable(tf.randomNormal([3, 4], 0, 1, 'float32', 2));
  const gamma = tf.variable(tf.ones([4]));
  try {
    const optimizer = tf.train.adam(1e-3);
    const info = await tf.profile(() => {
      optimizer.minimize(() => opsStep(x, labels, table, gamma), false, [table, gamma]);
    });
    record(info.kernels as never);
  } catch (error) {
    failures.push(`opsStep: ${(error as Error).message.split('\n')[0]}`);
  }
  const rows = [...kernelMs.entries()].sort((a, b) => b[1] - a[1]);
  process.stdout.write(`kernels that ran on ${tf.getBackend()}: ${rows.length}\n`);
  for (const [name, ms] of rows) process.stdout.write(`  ${name} ${ms.toFixed(2)} ms\n`);
  process.stdout.write(
    `failures: ${failures.length}\n${failures.map((f) => `  ${f}`).join('\n')}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
