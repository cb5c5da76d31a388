import * as tf from '@tensorflow/tfjs-core';
import { initBackend, silentLogger } from '@gensynth/core';
import { GroupNorm, ParameterStore, timestepEmbedding, upsampleNearest2x } from './blocks';
import { UNet, type UNetOptions } from './unet';

const SMALL: UNetOptions = {
  channels: 3,
  blockOutChannels: [8, 16],
  layersPerBlock: 1,
  normNumGroups: 4,
  attention: true,
  seed: 5,
};

beforeAll(async () => {
  await initBackend({ force: 'cpu', logger: silentLogger });
});

describe('GroupNorm', () => {
  it('normalises over H, W and the channels of each group (hand values)', () => {
    const store = new ParameterStore('test', 0);
    const x = tf.tensor4d([1, 10, 3, 30], [1, 1, 2, 2]); // channel 0: 1, 3; channel 1: 10, 30
    const perChannel = new GroupNorm(store, 'two_groups', 2, 2).apply(x);
    const s0 = 1 / Math.sqrt(1 + 1e-5); // channel 0: mean 2, variance 1
    const s1 = 10 / Math.sqrt(100 + 1e-5); // channel 1: mean 20, variance 100
    expect(Array.from(perChannel.dataSync())).toEqual(
      [-s0, -s1, s0, s1].map((v) => expect.closeTo(v, 5)),
    );
    const oneGroup = new GroupNorm(store, 'one_group', 2, 1).apply(x);
    const mean = 11;
    const std = Math.sqrt((100 + 1 + 64 + 361) / 4 + 1e-5);
    expect(Array.from(oneGroup.dataSync())).toEqual(
      [1, 10, 3, 30].map((v) => expect.closeTo((v - mean) / std, 5)),
    );
    tf.dispose([x, perChannel, oneGroup]);
    store.dispose();
  });
});

describe('timestepEmbedding', () => {
  it('is [cos(t f), sin(t f)] with f = 10000^(-i / (D/2)) (hand values)', () => {
    const emb = timestepEmbedding(tf.tensor1d([0, 1]), 4);
    expect(emb.shape).toEqual([2, 4]);
    const expected = [1, 1, 0, 0, Math.cos(1), Math.cos(0.01), Math.sin(1), Math.sin(0.01)];
    expect(Array.from(emb.dataSync())).toEqual(expected.map((v) => expect.closeTo(v, 6)));
    emb.dispose();
  });
});

describe('upsampleNearest2x', () => {
  it('repeats every pixel into a 2x2 block', () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const up = upsampleNearest2x(x);
    expect(up.shape).toEqual([1, 4, 4, 1]);
    expect(Array.from(up.dataSync())).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    tf.dispose([x, up]);
  });
});

describe('UNet', () => {
  it.each([8, 16, 32])(
    'maps [1, H, W, 3] and timesteps to the same shape for H = W = %i',
    (size) => {
      const unet = new UNet(SMALL);
      const x = tf.randomNormal([1, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const t = tf.tensor1d([999]);
      const before = tf.memory().numTensors;
      const out = unet.apply(x, t);
      expect(tf.memory().numTensors - before).toBe(1);
      expect(out.shape).toEqual([1, size, size, 3]);
      expect(Array.from(out.dataSync()).every(Number.isFinite)).toBe(true);
      tf.dispose([x, t, out]);
      unet.dispose();
    },
  );

  it('builds the default [32, 64] network with two layers per block and no attention', () => {
    const unet = new UNet({
      ...SMALL,
      blockOutChannels: [32, 64],
      layersPerBlock: 2,
      normNumGroups: 8,
      attention: false,
    });
    const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    const t = tf.tensor1d([10]);
    const out = unet.apply(x, t);
    expect(out.shape).toEqual([1, 8, 8, 3]);
    expect(unet.countParams()).toBeGreaterThan(100_000);
    tf.dispose([x, t, out]);
    unet.dispose();
  });

  it('depends on the timestep', () => {
    const unet = new UNet(SMALL);
    const x = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const a = unet.apply(x, tf.tensor1d([1]));
    const b = unet.apply(x, tf.tensor1d([500]));
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeGreaterThan(1e-4);
    tf.dispose([x, a, b]);
    unet.dispose();
  });

  it('round-trips its weights through getWeights / setWeights and rejects wrong shapes', () => {
    const a = new UNet(SMALL);
    const b = new UNet({ ...SMALL, seed: 6 });
    b.setWeights(a.getWeights());
    const x = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const t = tf.tensor1d([3]);
    const ya = a.apply(x, t);
    const yb = b.apply(x, t);
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    const wrong = a.getWeights().map((w, i) => (i === 0 ? tf.zeros([1]) : w));
    expect(() => b.setWeights(wrong)).toThrow(
      'unet.setWeights(weights[0]): expected shape [8, 32] for unet/time_embedding/linear_1/kernel; received shape [1]',
    );
    tf.dispose([x, t, ya, yb, wrong[0]!]);
    a.dispose();
    b.dispose();
  });

  it('rejects images whose size is not a multiple of 2 ** (levels - 1)', () => {
    const unet = new UNet(SMALL);
    const x = tf.zeros([1, 7, 8, 3]) as tf.Tensor4D;
    const t = tf.tensor1d([1]);
    expect(() => unet.apply(x, t)).toThrow(
      'unet.apply(noisyImages): expected [B, H, W, 3] with H and W multiples of 2',
    );
    tf.dispose([x, t]);
    unet.dispose();
  });
});
