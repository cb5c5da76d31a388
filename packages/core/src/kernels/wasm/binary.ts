/**
 * `Add`, `Sub`, `Multiply` and `RealDiv` on WASM for float32 with the broadcasts that bias,
 * normalisation and optimizer arithmetic use: equal shapes, one value against a tensor, and a
 * tensor against the trailing axes of another ([B, H, W, C] with [C] or [1, 1, 1, C]).
 * gensynth's SIMD kernel (`binary_f32` in `wasm/kernels.c`) runs them on the calling thread; the
 * stock kernels hand every call, however small, to XNNPACK. Float32 arithmetic is exact to the
 * operation, so the results are the stock kernels'. Other dtypes and broadcasts go to the stock
 * kernels.
 */
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { withScope } from './composite';
import { heapOffset, nativeKernels } from './native/module';

const OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 } as const;
type BinaryKernel = keyof typeof OPS;

const size = util.sizeFromShape;

/** Whether `small`, without leading 1s, is the trailing part of `shape`. */
function isTrailing(small: number[], shape: number[]): boolean {
  let first = 0;
  while (first < small.length && small[first] === 1) first++;
  const rest = small.slice(first);
  if (rest.length > shape.length) return false;
  const tail = shape.slice(shape.length - rest.length);
  return rest.every((n, i) => n === tail[i]);
}

/** [mode, rows, cols] of `binary_f32` for these shapes, or undefined for another broadcast. */
function layout(a: number[], b: number[], out: number[]): [number, number, number] | undefined {
  const n = size(out);
  const sameA = a.length === out.length && a.every((d, i) => d === out[i]);
  const sameB = b.length === out.length && b.every((d, i) => d === out[i]);
  if (sameA && sameB) return [0, 1, n];
  if (sameA && size(b) === 1) return [3, 1, n];
  if (sameB && size(a) === 1) return [4, 1, n];
  if (sameA && isTrailing(b, out)) return [1, n / size(b), size(b)];
  if (sameB && isTrailing(a, out)) return [2, n / size(a), size(a)];
  return undefined;
}

function binaryConfig(kernelName: BinaryKernel): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const a = inputs.a!;
      const b = inputs.b!;
      return withScope(backend, (scope) => {
        const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
        const plan =
          a.dtype === 'float32' && b.dtype === 'float32' && size(outShape) > 0
            ? layout(a.shape, b.shape, outShape)
            : undefined;
        const native = plan === undefined ? undefined : nativeKernels(backend);
        if (native === undefined || plan === undefined) {
          return scope.runStock(kernelName, inputs as Record<string, TensorInfo>);
        }
        const out = scope.allocUninitialized(outShape, 'float32');
        const [mode, rows, cols] = plan;
        native.binary_f32(
          heapOffset(backend, a),
          heapOffset(backend, b),
          heapOffset(backend, out),
          rows,
          cols,
          OPS[kernelName],
          mode,
        );
        return out;
      });
    },
  };
}

export const addConfig = binaryConfig('Add');
export const subConfig = binaryConfig('Sub');
export const multiplyConfig = binaryConfig('Multiply');
export const realDivConfig = binaryConfig('RealDiv');
