/**
 * `Sum` and `Mean` on WASM over a tensor's leading axes, the reduction of every bias and
 * batch-norm gradient in NHWC ([B, H, W, C] -> [C]). The stock kernels move the reduced axes
 * last with a full transpose first (~2 ms for [64, 16, 16, 32]); gensynth's SIMD kernel
 * (`sum_leading` in `wasm/kernels.c`) adds the rows in place. Other axes, dtypes, or a runtime
 * without that module go to the stock kernels.
 */
import { util } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { withScope } from './composite';
import { heapOffset, nativeKernels } from './native/module';

interface ReduceAttrs {
  axis: number | number[];
  keepDims: boolean;
}

/** The number of leading axes that `axis` names (0 if it is not such a prefix). */
function leadingAxes(shape: number[], axis: number | number[]): number {
  const axes = util.parseAxisParam(axis, shape);
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  return sorted.every((a, i) => a === i) ? sorted.length : 0;
}

function reduceConfig(kernelName: 'Sum' | 'Mean'): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs.x!;
      const { axis, keepDims } = attrs as unknown as ReduceAttrs;
      return withScope(backend, (scope) => {
        const k = x.dtype === 'float32' ? leadingAxes(x.shape, axis) : 0;
        if (x.shape.some((n) => n === 0) && x.dtype !== 'string') {
          // An empty reduction: the stock kernels returned uninitialised memory (found by
          // fuzzing). Sum and Mean are 0, as on the CPU backend.
          const axes = util.parseAxisParam(axis, x.shape);
          const shape = x.shape.map((n, i) => (axes.includes(i) ? 1 : n));
          const outShape = keepDims ? shape : x.shape.filter((_, i) => !axes.includes(i));
          const dtype =
            kernelName === 'Mean' ? 'float32' : x.dtype === 'float32' ? 'float32' : 'int32';
          const out = scope.allocUninitialized(outShape, dtype);
          scope.view(out).fill(0);
          return out;
        }
        const native = k > 0 && k < x.shape.length ? nativeKernels(backend) : undefined;
        const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
        if (native === undefined || rows === 0) {
          return scope.runStock(kernelName, { x }, attrs as never);
        }
        const rest = x.shape.slice(k);
        const outShape = keepDims ? [...new Array<number>(k).fill(1), ...rest] : rest;
        const out: TensorInfo = scope.allocUninitialized(outShape, 'float32');
        const cols = rest.reduce((a, b) => a * b, 1);
        const mean = kernelName === 'Mean';
        native.sum_leading(
          heapOffset(backend, x),
          heapOffset(backend, out),
          rows,
          cols,
          mean ? 1 / rows : 1,
          mean ? 1 : 0,
        );
        return out;
      });
    },
  };
}

export const sumConfig = reduceConfig('Sum');
export const meanConfig = reduceConfig('Mean');
