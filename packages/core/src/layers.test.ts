import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initTestBackends, relativeError, seeded } from './kernels/testing';
import { batchNormalization, conv2d } from './layers';

beforeAll(initTestBackends);

type Args = Parameters<typeof tfl.layers.conv2d>[0];

/** Free a layer's weights (Layer.dispose only accepts layers applied to symbolic inputs). */
function free(...layers: tfl.layers.Layer[]): void {
  for (const layer of layers) for (const w of layer.weights) w.dispose();
}

/** Our layer and tfjs-layers', built with the same weights. */
function pair(args: Args, inputShape: number[]): [tfl.layers.Layer, tfl.layers.Layer] {
  const ours = conv2d(args);
  const stock = tfl.layers.conv2d(args);
  ours.build(inputShape);
  stock.build(inputShape);
  stock.setWeights(ours.getWeights());
  return [ours, stock];
}

/** The layer's output and the gradients of sum(output * r) for the input and every weight. */
function forwardAndGrads(layer: tfl.layers.Layer, x: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const y = layer.apply(x) as tf.Tensor;
    const r = seeded(y.shape, 7);
    const f = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, r));
    const dx = tf.grad(f)(x);
    const { grads } = tf.variableGrads(() => f(x) as tf.Scalar, weights);
    return [y, dx, ...weights.map((w) => grads[w.name]!)].map((t) => t.dataSync() as Float32Array);
  });
}

const CASES: { name: string; args: Args; x: number[] }[] = [
  {
    name: 'DCGAN layer (stride 2, same, bias)',
    args: { filters: 8, kernelSize: 4, strides: 2, padding: 'same' },
    x: [2, 8, 8, 3],
  },
  {
    name: 'ReLU inside the kernel, valid',
    args: { filters: 4, kernelSize: 3, padding: 'valid', activation: 'relu' },
    x: [2, 6, 5, 4],
  },
  {
    name: 'tanh after the kernel, no bias',
    args: { filters: 5, kernelSize: [2, 3], strides: [1, 2], useBias: false, activation: 'tanh' },
    x: [1, 5, 7, 2],
  },
];

describe('conv2d layer with gradients on demand', () => {
  for (const backend of ['cpu', 'wasm']) {
    it.each(CASES)(`matches tfjs-layers' conv2d on ${backend}: $name`, async (c) => {
      await tf.setBackend(backend);
      const [ours, stock] = pair(c.args, c.x);
      const x = seeded(c.x, 1);
      const a = forwardAndGrads(ours, x);
      const b = forwardAndGrads(stock, x);
      expect(a).toHaveLength(b.length);
      a.forEach((values, i) => expect(relativeError(values, b[i]!)).toBeLessThan(1e-5));
      tf.dispose(x);
      free(ours, stock);
    });
  }

  it('runs the tfjs-layers code for a dilated convolution (tfjs has no gradient for it)', async () => {
    await tf.setBackend('wasm');
    const args: Args = { filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same' };
    const [ours, stock] = pair(args, [1, 7, 7, 2]);
    const x = seeded([1, 7, 7, 2], 1);
    const [a, b] = [ours, stock].map((l) => tf.tidy(() => (l.apply(x) as tf.Tensor).dataSync()));
    expect(relativeError(a as Float32Array, b as Float32Array)).toBeLessThan(1e-6);
    const grad = (l: tfl.layers.Layer) => () =>
      tf.grad((input: tf.Tensor) => tf.sum(l.apply(input) as tf.Tensor))(x);
    expect(grad(ours)).toThrow(/dilation rates greater than 1/);
    tf.dispose(x);
    free(ours, stock);
  });

  it('computes no filter gradient when only the input needs one (tfjs-layers does)', async () => {
    await tf.setBackend('wasm');
    const args: Args = { filters: 8, kernelSize: 4, strides: 2, padding: 'same' };
    const [ours, stock] = pair(args, [2, 8, 8, 3]);
    const x = seeded([2, 8, 8, 3], 1);
    const kernelsRun = async (layer: tfl.layers.Layer) => {
      const profile = await tf.profile(() => {
        tf.dispose(tf.grad((input: tf.Tensor) => tf.sum(layer.apply(input) as tf.Tensor))(x));
      });
      return profile.kernels.map((k) => k.name);
    };
    const oursRan = await kernelsRun(ours);
    expect(oursRan).toContain('Conv2DBackpropInput');
    expect(oursRan).not.toContain('Conv2DBackpropFilter');
    expect(await kernelsRun(stock)).toContain('Conv2DBackpropFilter');
    tf.dispose(x);
    free(ours, stock);
  });

  it("gives tfjs-layers' second-order gradients (a gradient penalty's)", async () => {
    await tf.setBackend('wasm');
    const args: Args = { filters: 6, kernelSize: 4, strides: 2, padding: 'same' };
    const [ours, stock] = pair(args, [2, 8, 8, 3]);
    const x = seeded([2, 8, 8, 3], 1);
    const r = seeded([2, 4, 4, 6], 2);
    const penaltyGrads = (layer: tfl.layers.Layer) =>
      tf.tidy(() => {
        // The bias does not change the input gradient: only the kernel gets one.
        const kernel = layer.trainableWeights[0]!.read() as tf.Variable;
        const { grads } = tf.variableGrads(() => {
          const f = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, r));
          return tf.sum(tf.square(tf.grad(f)(x))) as tf.Scalar;
        }, [kernel]);
        return [grads[kernel.name]!.dataSync() as Float32Array];
      });
    const [a, b] = [penaltyGrads(ours), penaltyGrads(stock)];
    expect(relativeError(a[0]!, b[0]!)).toBeLessThan(1e-5);
    expect(Math.max(...a[0]!.map(Math.abs))).toBeGreaterThan(0);
    tf.dispose([x, r]);
    free(ours, stock);
  });

  it('applies ReLU inside the convolution kernel, as tfjs-layers does in inference', async () => {
    await tf.setBackend('wasm');
    const [ours] = pair({ filters: 4, kernelSize: 3, activation: 'relu' }, [1, 5, 5, 2]);
    const x = seeded([1, 5, 5, 2], 1);
    const profile = await tf.profile(() => tf.dispose(ours.apply(x) as tf.Tensor));
    expect(profile.kernels.map((k) => k.name)).toEqual(['FusedConv2D']);
    tf.dispose(x);
    free(ours);
  });

  it('refuses what tfjs-layers refuses: an int32 input', async () => {
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const [ours] = pair({ filters: 2, kernelSize: 2 }, [1, 3, 3, 1]);
      const x = tf.zeros([1, 3, 3, 1], 'int32');
      expect(() => ours.apply(x)).toThrow(/must be float32 tensor, but got int32/);
      tf.dispose(x);
      free(ours);
    }
  });

  it('is the tfjs-layers class, with the same config', () => {
    const args: Args = { filters: 3, kernelSize: 2, activation: 'relu', name: 'c' };
    const ours = conv2d(args);
    expect(ours.getClassName()).toBe('Conv2D');
    expect(ours.getConfig()).toEqual(tfl.layers.conv2d(args).getConfig());
  });

  it('leaves no tensor behind in a training step', async () => {
    await tf.setBackend('wasm');
    const layer = conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' });
    layer.build([2, 6, 6, 3]);
    const x = seeded([2, 6, 6, 3], 1);
    const optimizer = tf.train.adam(1e-3);
    const step = () =>
      tf.dispose(
        optimizer.minimize(() => tf.mean(tf.square(layer.apply(x) as tf.Tensor)), true) ?? [],
      );
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    optimizer.dispose();
    free(layer);
  });
});

type BnArgs = Parameters<typeof tfl.layers.batchNormalization>[0];

/** Our batch-norm layer and tfjs-layers', with the same (random, non-trivial) weights. */
function bnPair(args: BnArgs, inputShape: number[]): [tfl.layers.Layer, tfl.layers.Layer] {
  const ours = batchNormalization(args);
  const stock = tfl.layers.batchNormalization(args);
  ours.build(inputShape);
  stock.build(inputShape);
  const weights = ours.getWeights().map((w, i) => tf.add(seeded(w.shape, 10 + i), i < 2 ? 0 : 2));
  ours.setWeights(weights);
  stock.setWeights(weights);
  tf.dispose(weights);
  return [ours, stock];
}

/** A training forward pass: output, input and weight gradients, then the moving statistics. */
function bnTrainingStep(layer: tfl.layers.Layer, x: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const r = seeded(x.shape, 7);
    const f = (input: tf.Tensor) =>
      tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, r));
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const dx = tf.grad(f)(x);
    const { grads } = tf.variableGrads(() => f(x) as tf.Scalar, weights);
    const stats = layer.getWeights().slice(2);
    return [y, dx, ...weights.map((w) => grads[w.name]!), ...stats].map(
      (t) => t.dataSync() as Float32Array,
    );
  });
}

const BN_CASES: { name: string; args: BnArgs; x: number[] }[] = [
  { name: 'a DCGAN generator layer', args: { epsilon: 1e-5, momentum: 0.9 }, x: [16, 8, 8, 64] },
  { name: 'after a dense layer (rank 2)', args: {}, x: [8, 12] },
  { name: '6 channels (not a multiple of 4)', args: { momentum: 0.5 }, x: [3, 5, 5, 6] },
];

describe('batchNormalization layer on gensynth kernels', () => {
  for (const backend of ['cpu', 'wasm']) {
    it.each(BN_CASES)(`matches tfjs-layers in training on ${backend}: $name`, async (c) => {
      await tf.setBackend(backend);
      const [ours, stock] = bnPair(c.args, c.x);
      const x = tf.add(tf.mul(seeded(c.x, 1), 3), 0.5); // mean and spread away from 0 and 1
      const a = bnTrainingStep(ours, x);
      const b = bnTrainingStep(stock, x);
      expect(a).toHaveLength(6); // y, dx, dgamma, dbeta, moving mean, moving variance
      a.forEach((values, i) => expect(relativeError(values, b[i]!)).toBeLessThan(2e-5));
      tf.dispose(x);
      free(ours, stock);
    });
  }

  it('runs 2 kernels forward and 3 backward where tfjs-layers runs dozens', async () => {
    await tf.setBackend('wasm');
    const [ours, stock] = bnPair({}, [4, 4, 4, 8]);
    const x = seeded([4, 4, 4, 8], 1);
    const calls = async (layer: tfl.layers.Layer) => {
      const profile = await tf.profile(() => {
        tf.dispose(
          tf.grad((input: tf.Tensor) =>
            tf.sum(layer.apply(input, { training: true }) as tf.Tensor),
          )(x),
        );
      });
      return profile.kernels.map((k) => k.name);
    };
    const oursRan = await calls(ours);
    expect(oursRan.filter((n) => n.startsWith('GensynthBatchNorm'))).toEqual([
      'GensynthBatchNormTrain',
      'GensynthBatchNormGradSums',
      'GensynthBatchNormGradInput',
    ]);
    expect(oursRan.length).toBeLessThan((await calls(stock)).length / 2);
    tf.dispose(x);
    free(ours, stock);
  });

  it('gives the moving statistics in inference, as tfjs-layers', async () => {
    await tf.setBackend('wasm');
    const [ours, stock] = bnPair({}, [2, 3, 3, 4]);
    const x = seeded([2, 3, 3, 4], 1);
    const [a, b] = [ours, stock].map((l) => tf.tidy(() => (l.apply(x) as tf.Tensor).dataSync()));
    expect(relativeError(a as Float32Array, b as Float32Array)).toBeLessThan(1e-6);
    tf.dispose(x);
    free(ours, stock);
  });

  it("gives tfjs-layers' gradient-penalty gradients (its own code runs in nested gradients)", async () => {
    await tf.setBackend('wasm');
    const [ours, stock] = bnPair({}, [4, 3, 3, 4]);
    const x = seeded([4, 3, 3, 4], 1);
    const r = seeded([4, 3, 3, 4], 2);
    const penaltyGrads = (layer: tfl.layers.Layer) =>
      tf.tidy(() => {
        const gamma = layer.trainableWeights[0]!.read() as tf.Variable;
        const { grads } = tf.variableGrads(() => {
          const f = (input: tf.Tensor) =>
            tf.sum(tf.mul(tf.square(layer.apply(input, { training: true }) as tf.Tensor), r));
          return tf.sum(tf.square(tf.grad(f)(x))) as tf.Scalar;
        }, [gamma]);
        return grads[gamma.name]!.dataSync() as Float32Array;
      });
    expect(relativeError(penaltyGrads(ours), penaltyGrads(stock))).toBeLessThan(1e-5);
    tf.dispose([x, r]);
    free(ours, stock);
  });

  it('leaves the moving statistics alone for an empty batch, as tfjs-layers', async () => {
    await tf.setBackend('wasm');
    const [ours, stock] = bnPair({}, [2, 8]);
    const empty = tf.zeros([0, 8]);
    for (const layer of [ours, stock]) {
      tf.dispose(layer.apply(empty, { training: true }) as tf.Tensor);
    }
    const [a, b] = [ours, stock].map((l) =>
      l
        .getWeights()
        .slice(2)
        .map((w) => w.dataSync()),
    );
    expect(a).toEqual(b);
    expect(Array.from(a![0]!).every(Number.isFinite)).toBe(true);
    tf.dispose(empty);
    free(ours, stock);
  });

  it('leaves no tensor behind in a training step', async () => {
    await tf.setBackend('wasm');
    const [layer] = bnPair({}, [4, 4, 4, 8]);
    const x = seeded([4, 4, 4, 8], 1);
    const optimizer = tf.train.adam(1e-3);
    const step = () =>
      tf.dispose(
        optimizer.minimize(
          () => tf.mean(tf.square(layer.apply(x, { training: true }) as tf.Tensor)),
          true,
        ) ?? [],
      );
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    optimizer.dispose();
    free(layer);
  });
});
