/**
 * Composite kernels allocate intermediates on the WASM heap behind the engine's back; these
 * tests run every gensynth kernel 1,000 times and check that nothing is left over: no engine
 * tensors, no backend data ids, and no growth of the WASM heap.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initTestBackends, seeded } from '../testing';
import { WASM_TRAINING_KERNELS } from '.';

interface WasmBackendView {
  numDataIds(): number;
  wasm: { HEAPU8: Uint8Array };
}

type Call = () => tf.Tensor | tf.Tensor[];

/** One call of each registered kernel, on inputs made once outside the measured loop. */
function kernelCalls(): Record<string, Call> {
  const x = seeded([2, 9, 9, 4], 1) as tf.Tensor4D;
  const w = seeded([3, 3, 4, 6], 2) as tf.Tensor4D;
  const dy = seeded([2, 5, 5, 6], 3) as tf.Tensor4D;
  const dw = seeded([3, 3, 4, 2], 4) as tf.Tensor4D;
  const dyDepthwise = seeded([2, 5, 5, 8], 5) as tf.Tensor4D;
  const ids = tf.tensor1d([0, 2, 1, 2], 'int32');
  const rows = seeded([4, 16], 6);
  const images = seeded([2, 4, 4, 3], 7) as tf.Tensor4D;
  const up = seeded([2, 8, 8, 3], 8) as tf.Tensor4D;
  const pooled = tf.maxPool(x, 2, 2, 'same');
  const m = seeded([3, 20, 12], 9);
  const n = seeded([3, 20, 7], 10);
  const bias = tf.ones([7]);
  const x8 = seeded([2, 9, 9, 8], 11) as tf.Tensor4D;
  const w8 = seeded([3, 3, 8, 12], 12) as tf.Tensor4D;
  const b12 = seeded([12], 13);
  const w3 = seeded([3, 3, 3, 6], 14) as tf.Tensor4D;
  const [mean8, var8, offset8] = [seeded([8], 18), tf.ones([8]), seeded([8], 19)];
  const adam = {
    value: seeded([37], 15),
    m: seeded([37], 16),
    v: tf.ones([37]),
    gradient: seeded([37], 17),
  };
  const e = tf.engine();
  const conv = { strides: 2, pad: 'same', dataFormat: 'NHWC' };
  return {
    Conv2DBackpropFilter: () =>
      e.runKernel(
        'Conv2DBackpropFilter',
        { x, dy },
        { ...conv, filterShape: w.shape },
      ) as tf.Tensor,
    Conv2DBackpropInput: () =>
      [
        e.runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...conv, inputShape: x.shape }),
        // 3 input channels: padded to 4 and cropped back
        e.runKernel(
          'Conv2DBackpropInput',
          { dy, filter: w3 },
          { ...conv, inputShape: [2, 9, 9, 3] },
        ),
      ] as tf.Tensor[],
    Conv2D: () => tf.conv2d(x8, w8, 2, 'same'),
    FusedConv2D: () =>
      tf.fused.conv2d({
        x: x8,
        filter: w8,
        strides: 1,
        pad: 'valid',
        bias: b12,
        activation: 'relu',
      }),
    Sum: () => tf.sum(x8, [0, 1, 2]),
    Mean: () => tf.mean(x8, [0, 1]),
    Tanh: () => tf.tanh(x8),
    Add: () => tf.add(x8, mean8),
    Sub: () => tf.sub(mean8, x8),
    Multiply: () => tf.mul(x8, x8),
    RealDiv: () => tf.div(x8, var8),
    Identity: () => e.runKernel('Identity', { x: x8 }) as tf.Tensor,
    Cast: () => [tf.cast(x8, 'float32'), tf.cast(ids, 'float32'), tf.cast(x8, 'int32')],
    FusedBatchNorm: () => tf.batchNorm(x8, mean8, var8, offset8, undefined, 1e-3),
    GensynthAdamUpdate: () =>
      e.runKernel('GensynthAdamUpdate', adam, {
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-7,
        learningRate: 1e-3,
        accBeta1: 0.9,
        accBeta2: 0.999,
      }) as tf.Tensor[],
    GensynthLeakyReluGrad: () =>
      e.runKernel('GensynthLeakyReluGrad', { dy: x8, x: x8 }, { alpha: 0.2 }) as tf.Tensor,
    GensynthBatchNormTrain: () =>
      e.runKernel(
        'GensynthBatchNormTrain',
        { x: x8, scale: var8, offset: offset8 },
        {
          epsilon: 1e-3,
        },
      ) as tf.Tensor[],
    GensynthBatchNormGradSums: () =>
      e.runKernel(
        'GensynthBatchNormGradSums',
        { dy: x8, x: x8, mean: mean8, variance: var8 },
        { epsilon: 1e-3 },
      ) as tf.Tensor[],
    GensynthBatchNormGradInput: () =>
      e.runKernel(
        'GensynthBatchNormGradInput',
        {
          dy: x8,
          x: x8,
          scale: var8,
          mean: mean8,
          variance: var8,
          dscale: offset8,
          doffset: mean8,
        },
        { epsilon: 1e-3 },
      ) as tf.Tensor,
    DepthwiseConv2dNativeBackpropInput: () =>
      e.runKernel(
        'DepthwiseConv2dNativeBackpropInput',
        { dy: dyDepthwise, filter: dw },
        { strides: 2, pad: 'same', dilations: 1, inputShape: x.shape },
      ) as tf.Tensor,
    DepthwiseConv2dNativeBackpropFilter: () =>
      e.runKernel(
        'DepthwiseConv2dNativeBackpropFilter',
        { x, dy: dyDepthwise },
        { strides: 2, pad: 'same', dilations: 1, filterShape: dw.shape },
      ) as tf.Tensor,
    UnsortedSegmentSum: () => tf.unsortedSegmentSum(rows, ids, 3),
    MaxPoolGrad: () =>
      e.runKernel(
        'MaxPoolGrad',
        { dy: pooled, input: x, output: pooled },
        { filterSize: 2, strides: 2, pad: 'same' },
      ) as tf.Tensor,
    OneHot: () => tf.oneHot(ids, 4, 1, 0, 'float32'),
    ResizeNearestNeighborGrad: () =>
      e.runKernel(
        'ResizeNearestNeighborGrad',
        { images, dy: up },
        { alignCorners: false, halfPixelCenters: false },
      ) as tf.Tensor,
    ResizeBilinearGrad: () =>
      e.runKernel(
        'ResizeBilinearGrad',
        { images, dy: up },
        { alignCorners: false, halfPixelCenters: true },
      ) as tf.Tensor,
    BatchMatMul: () => tf.matMul(m, n, true, false),
    _FusedMatMul: () => tf.fused.matMul({ a: m, b: n, transposeA: true, bias, activation: 'relu' }),
    Tile: () => tf.tile(rows, [2, 3]),
    Slice: () => tf.slice(x, [1, 2, 0, 1], [1, 5, 9, 2]),
    LeakyRelu: () => tf.leakyRelu(x, 0.2),
  };
}

beforeAll(initTestBackends);

describe('gensynth wasm kernels', () => {
  it('are all covered by this leak test', () => {
    const covered = Object.keys(kernelCalls());
    expect(WASM_TRAINING_KERNELS.map((k) => k.kernelName).sort()).toEqual(covered.sort());
    tf.disposeVariables();
  });

  it('leak nothing on the WASM heap across 1,000 calls each', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as WasmBackendView;
    const calls = kernelCalls();
    const run = () => {
      for (const call of Object.values(calls)) tf.dispose(call());
    };
    run(); // warm-up: operator caches and heap reach their steady state
    const before = {
      ...tf.memory(),
      dataIds: backend.numDataIds(),
      heap: backend.wasm.HEAPU8.length,
    };
    for (let i = 0; i < 1000; i++) run();
    const after = {
      ...tf.memory(),
      dataIds: backend.numDataIds(),
      heap: backend.wasm.HEAPU8.length,
    };
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(after.dataIds).toBe(before.dataIds);
    expect(after.heap).toBe(before.heap);
  });
});
