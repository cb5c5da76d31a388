// DCGAN-32 for the throughput benchmark: the network and training step of the PyTorch peer
// (shared/peers/dcgan32_torch.py), rebuilt with tfjs-layers, plus its analytic FLOP count.
//
// G: z [B, 100] -> dense 2048 -> [B, 4, 4, 128] -> BN, ReLU
//    -> convT 64 (k4 s2) -> [B, 8, 8, 64]   -> BN, ReLU
//    -> convT 32 (k4 s2) -> [B, 16, 16, 32] -> BN, ReLU
//    -> convT 3  (k4 s2) -> [B, 32, 32, 3]  -> tanh
// D: x [B, 32, 32, 3] -> conv 32 (k4 s2) -> [B, 16, 16, 32] -> LeakyReLU 0.2
//    -> conv 64 -> [B, 8, 8, 64] -> LReLU -> conv 128 -> [B, 4, 4, 128] -> LReLU -> dense 1 -> [B, 1]
//
// Matching choices (torch default -> here):
// - 'same' padding with k4 s2 pads 1 on each side, exactly torch's padding=1 (output 2x / 0.5x).
// - Every conv and dense layer has a bias (torch's default), also the ones before BatchNorm.
// - Weights and biases ~ U(-1/sqrt(fanIn), 1/sqrt(fanIn)), torch's default init. fanIn is
//   in*k*k for Conv2d and, as torch computes it from the (in, out, k, k) weight, out*k*k for
//   ConvTranspose2d.
// - BatchNorm: epsilon 1e-5, moving-average momentum 0.9 (torch's momentum=0.1), batch statistics
//   in training mode, running statistics updated on every G forward.
// - Adam lr 2e-4, beta1 0.5, beta2 0.999, epsilon 1e-8.
// Differences that tfjs imposes: the dense output is reshaped NHWC ([4, 4, 128]) where torch
// reshapes NCHW ([128, 4, 4]) — a fixed permutation of the dense units, same function class and
// cost; convolutions run NHWC; random numbers differ.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ReplayableAdamOptimizer, batchNormalization, conv2d } from '@gensynth/core';

export const LATENT_DIM = 100;

/** torch's default U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weights and biases. */
function torchUniform(fanIn, seed) {
  const bound = 1 / Math.sqrt(fanIn);
  return tfl.initializers.randomUniform({ minval: -bound, maxval: bound, seed });
}

function dense(units, fanIn, seed, extra = {}) {
  return tfl.layers.dense({
    units,
    kernelInitializer: torchUniform(fanIn, seed),
    biasInitializer: torchUniform(fanIn, seed + 1),
    ...extra,
  });
}

// gensynth's conv2d, as its GAN trainer uses it: tfjs-layers' Conv2D, with gradients computed
// only for the inputs that need them (tfjs's fused op computes them all; see core's layers.ts).
function conv(filters, fanIn, seed, extra = {}) {
  return conv2d({
    filters,
    kernelSize: 4,
    strides: 2,
    padding: 'same',
    kernelInitializer: torchUniform(fanIn, seed),
    biasInitializer: torchUniform(fanIn, seed + 1),
    ...extra,
  });
}

function convT(filters, seed, extra = {}) {
  return tfl.layers.conv2dTranspose({
    filters,
    kernelSize: 4,
    strides: 2,
    padding: 'same',
    kernelInitializer: torchUniform(filters * 16, seed),
    biasInitializer: torchUniform(filters * 16, seed + 1),
    ...extra,
  });
}

// gensynth's batchNormalization, as its trainers use it: tfjs-layers' layer on gensynth's
// batch-norm training kernels.
const batchNorm = () => batchNormalization({ epsilon: 1e-5, momentum: 0.9 });
const relu = () => tfl.layers.reLU();
const leaky = () => tfl.layers.leakyReLU({ alpha: 0.2 });

/** @returns {tfl.Sequential} z [B, 100] -> images [B, 32, 32, 3] in [-1, 1] */
export function buildGenerator() {
  const G = tfl.sequential({ name: 'G' });
  G.add(dense(4 * 4 * 128, LATENT_DIM, 10, { inputShape: [LATENT_DIM] }));
  G.add(tfl.layers.reshape({ targetShape: [4, 4, 128] }));
  G.add(batchNorm());
  G.add(relu());
  G.add(convT(64, 20));
  G.add(batchNorm());
  G.add(relu());
  G.add(convT(32, 30));
  G.add(batchNorm());
  G.add(relu());
  G.add(convT(3, 40, { activation: 'tanh' }));
  return G;
}

/** @returns {tfl.Sequential} images [B, 32, 32, 3] -> logits [B, 1] */
export function buildDiscriminator() {
  const D = tfl.sequential({ name: 'D' });
  D.add(conv(32, 3 * 16, 50, { inputShape: [32, 32, 3] }));
  D.add(leaky());
  D.add(conv(64, 32 * 16, 60));
  D.add(leaky());
  D.add(conv(128, 64 * 16, 70));
  D.add(leaky());
  D.add(tfl.layers.flatten());
  D.add(dense(1, 4 * 4 * 128, 80));
  return D;
}

/**
 * Forward FLOPs of one image through a Sequential model, from its layer shapes.
 * One multiply-add = 2 FLOP. Dense: 2*in*out. Conv2D: 2*Hout*Wout*Cout*k*k*Cin.
 * Conv2DTranspose: 2*Hin*Win*Cin*k*k*Cout (every input pixel scatters a k*k*Cout patch).
 * Bias, BatchNorm and activations are elementwise and left out (<1% here).
 * @returns {{total: number, layers: {name: string, flops: number}[]}}
 */
export function forwardFlopsPerImage(model) {
  const layers = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const outShape = layer.outputShape;
    const cfg = layer.getConfig();
    let flops = 0;
    if (cls === 'Dense') {
      flops = 2 * layer.input.shape.at(-1) * cfg.units;
    } else if (cls === 'Conv2D') {
      const [, h, w, cOut] = outShape;
      const cIn = layer.input.shape.at(-1);
      flops = 2 * h * w * cOut * cfg.kernelSize[0] * cfg.kernelSize[1] * cIn;
    } else if (cls === 'Conv2DTranspose') {
      const [, h, w, cIn] = layer.input.shape;
      flops = 2 * h * w * cIn * cfg.kernelSize[0] * cfg.kernelSize[1] * cfg.filters;
    }
    if (flops > 0) layers.push({ name: `${cls} ${JSON.stringify(outShape.slice(1))}`, flops });
  }
  return { total: layers.reduce((s, l) => s + l.flops, 0), layers };
}

/**
 * FLOPs of one training step (both networks). Backward = 2x forward (input and weight gradients).
 * D step: G forward once (fake is detached), D forward+backward on real and on fake -> G + 6D.
 * G step: G forward again, D forward, both backward -> 3G + 3D. Total per image: 4G + 9D.
 */
export function stepFlops(G, D, batch) {
  const g = forwardFlopsPerImage(G);
  const d = forwardFlopsPerImage(D);
  return { perStep: batch * (4 * g.total + 9 * d.total), gForward: g, dForward: d };
}

/**
 * Everything one benchmark run needs: both networks, both optimizers, the fixed real batch and a
 * `step()` that runs one D step and one G step (non-saturating loss) and returns both losses.
 * Call `dispose()` when done.
 */
export function createDcgan32({ batch }) {
  const G = buildGenerator();
  const D = buildDiscriminator();
  // gensynth's Adam, as its trainers use it: tfjs's update fused into one kernel per variable.
  const optG = new ReplayableAdamOptimizer(2e-4, 0.5, 0.999, 1e-8);
  const optD = new ReplayableAdamOptimizer(2e-4, 0.5, 0.999, 1e-8);
  const gVars = G.trainableWeights.map((w) => w.read());
  const dVars = D.trainableWeights.map((w) => w.read());
  const realImages = tf.keep(tf.randomUniform([batch, 32, 32, 3], -1, 1, 'float32', 1)); // [B,32,32,3]

  /** One D step then one G step; G runs forward twice. @returns {{lossD: tf.Scalar, lossG: tf.Scalar}} */
  function step() {
    return tf.tidy(() => {
      const z = tf.randomNormal([batch, LATENT_DIM]); // [B, 100]
      const fakeImages = G.apply(z, { training: true }); // [B, 32, 32, 3], no gradient into G
      const lossD = optD.minimize(
        () => {
          const realLogits = D.apply(realImages, { training: true }); // [B, 1]
          const fakeLogits = D.apply(fakeImages, { training: true }); // [B, 1]
          return tf.add(tf.mean(tf.softplus(tf.neg(realLogits))), tf.mean(tf.softplus(fakeLogits)));
        },
        true,
        dVars,
      );
      const lossG = optG.minimize(
        () => {
          const regenerated = G.apply(z, { training: true }); // [B, 32, 32, 3]
          return tf.mean(tf.softplus(tf.neg(D.apply(regenerated, { training: true }))));
        },
        true,
        gVars,
      );
      return { lossD, lossG };
    });
  }

  function dispose() {
    realImages.dispose();
    optG.dispose();
    optD.dispose();
    G.dispose();
    D.dispose();
  }

  return { G, D, step, dispose, flops: stepFlops(G, D, batch) };
}
