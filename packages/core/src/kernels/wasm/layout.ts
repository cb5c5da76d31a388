/**
 * Memory-layout helpers for composite WASM kernels that work on heap views directly, avoiding
 * the full copy that the stock `Slice` kernel makes of its input.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelScope } from './composite';

/** `x[b0:b0+s0, b1:b1+s1, b2:b2+s2, b3:b3+s3]` of a rank-4 tensor, copied row by row. */
export function crop4d(
  scope: KernelScope,
  x: TensorInfo,
  begin: number[],
  size: number[],
): TensorInfo {
  const [n0, n1, n2, n3] = x.shape as [number, number, number, number];
  const [b0, b1, b2, b3] = begin as [number, number, number, number];
  const [s0, s1, s2, s3] = size as [number, number, number, number];
  if (
    b0 === 0 &&
    b1 === 0 &&
    b2 === 0 &&
    b3 === 0 &&
    s0 === n0 &&
    s1 === n1 &&
    s2 === n2 &&
    s3 === n3
  ) {
    return x;
  }
  const out = scope.allocUninitialized(size, x.dtype);
  const src = scope.view(x);
  const dst = scope.view(out);
  let o = 0;
  if (s3 === n3) {
    // Whole rows of the last axis are contiguous: copy s2 * n3 values at a time.
    const run = s2 * n3;
    for (let i = 0; i < s0; i++) {
      for (let j = 0; j < s1; j++) {
        const start = (((b0 + i) * n1 + b1 + j) * n2 + b2) * n3;
        dst.set(src.subarray(start, start + run), o);
        o += run;
      }
    }
    return out;
  }
  for (let i = 0; i < s0; i++) {
    for (let j = 0; j < s1; j++) {
      for (let k = 0; k < s2; k++) {
        const start = (((b0 + i) * n1 + b1 + j) * n2 + b2 + k) * n3 + b3;
        dst.set(src.subarray(start, start + s3), o);
        o += s3;
      }
    }
  }
  return out;
}
