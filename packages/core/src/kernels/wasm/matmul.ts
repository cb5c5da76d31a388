/**
 * `BatchMatMul` and `_FusedMatMul` on WASM, routed to XNNPACK's fast path.
 *
 * The stock kernels reach XNNPACK only when neither operand is transposed; with transposeA or
 * transposeB they fall back to a scalar loop that runs 10-40x slower (measured: a
 * [64, 100]^T x [64, 2048] product, the weight gradient of a dense layer, took 32 ms instead of
 * 0.8 ms). Here a transposed operand is materialised with `Transpose` first (memory-bound and
 * cheap next to the product), then the stock kernel runs untransposed.
 */
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelScope, withScope } from './composite';

/** Swap the last two axes: [...batch, r, c] -> [...batch, c, r]. */
function swapLastTwo(scope: KernelScope, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return scope.transpose(x, perm);
}

function untransposed(kernelName: 'BatchMatMul' | '_FusedMatMul'): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const a = attrs as unknown as { transposeA: boolean; transposeB: boolean } & NamedAttrMap;
      const float = inputs.a!.dtype === 'float32' && inputs.b!.dtype === 'float32';
      if (!float || (!a.transposeA && !a.transposeB)) {
        return withScope(backend, (scope) => scope.runStock(kernelName, inputs as never, a));
      }
      return withScope(backend, (scope) => {
        const left = a.transposeA ? swapLastTwo(scope, inputs.a!) : inputs.a!;
        const right = a.transposeB ? swapLastTwo(scope, inputs.b!) : inputs.b!;
        const rest = { ...inputs, a: left, b: right };
        return scope.runStock(kernelName, rest as never, { ...a, transposeA: false, transposeB: false });
      });
    },
  };
}

export const batchMatMulConfig = untransposed('BatchMatMul');
export const fusedMatMulConfig = untransposed('_FusedMatMul');
