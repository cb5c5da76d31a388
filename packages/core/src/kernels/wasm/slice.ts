/**
 * `Slice` on WASM. The stock kernel first copies the whole input out of the heap (`readSync`)
 * and then copies the slice back in, so slicing a few channels of a large tensor costs a full
 * copy of it (5 ms for half the channels of [16, 32, 32, 64], 25x a plain copy). `split`,
 * `concat` gradients and layers' cropping all go through it. Here the slice is copied directly
 * between heap views, in runs of the longest contiguous span.
 *
 *   x [d0, ..., dk] -> out [s0, ..., sk], out[i] = x[begin + i]
 */
import { slice_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { withScope } from './composite';

export const sliceConfig: KernelConfig = {
  kernelName: 'Slice',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const a = attrs as { begin: number | number[]; size: number | number[] };
    if (x.dtype === 'string') {
      return withScope(backend, (scope) => scope.runStock('Slice', { x }, a));
    }
    const [begin, size] = slice_util.parseSliceParams(x as never, a.begin, a.size) as [
      number[],
      number[],
    ];
    return withScope(backend, (scope): TensorInfo => {
      const out = scope.allocUninitialized(size, x.dtype);
      const total = size.reduce((p, n) => p * n, 1);
      if (total === 0) return out;
      const rank = x.shape.length;
      // Merge trailing axes taken whole into one contiguous run.
      let inner = rank - 1;
      let run = size[inner] ?? 1;
      while (inner > 0 && size[inner] === x.shape[inner]) {
        inner--;
        run *= size[inner]!;
      }
      const strides = new Array<number>(rank).fill(1);
      for (let k = rank - 2; k >= 0; k--) strides[k] = strides[k + 1]! * x.shape[k + 1]!;
      const src = scope.view(x);
      const dst = scope.view(out);
      const index = new Array<number>(Math.max(inner, 0)).fill(0);
      let o = 0;
      for (;;) {
        let start = 0;
        for (let k = 0; k < rank; k++)
          start += ((k < inner ? index[k]! : 0) + begin[k]!) * strides[k]!;
        dst.set(src.subarray(start, start + run), o);
        o += run;
        // Advance the odometer over the outer axes [0, inner).
        let k = inner - 1;
        while (k >= 0) {
          index[k] = index[k]! + 1;
          if (index[k]! < size[k]!) break;
          index[k] = 0;
          k--;
        }
        if (k < 0) break;
      }
      return out;
    });
  },
};
