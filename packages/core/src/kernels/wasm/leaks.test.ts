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
      e.runKernel(
        'Conv2DBackpropInput',
        { dy, filter: w },
        { ...conv, inputShape: x.shape },
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
