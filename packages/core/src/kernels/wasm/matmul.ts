/**
 * `BatchMatMul` and `_FusedMatMul` on WASM.
 *
 * Speed: the stock kernels reach XNNPACK only when neither operand is transposed; with
 * transposeA or transposeB they fall back to a scalar loop that runs 10-40x slower (measured: a
 * [64, 100]^T x [64, 2048] product, the weight gradient of a dense layer, took 32 ms instead of
 * 0.8 ms). Here a transposed operand is materialised with `Transpose` first (memory-bound and
 * cheap next to the product), then the stock kernel runs untransposed.
 *
 * Where both operands are single matrices, N is a multiple of 4 and the activation is linear or
 * ReLU, gensynth's SIMD kernel (`matmul` in `wasm/kernels.c`) runs instead, rows split across
 * the kernel threads; it reads a transposed right operand through its packing (no transpose).
 *
 * Correctness: the stock `_FusedMatMul` adds the bias wrongly when the output has more than one
 * batch matrix ([B, M, N] with B > 1 came out 34% off), and throws on a bias of rank other than
 * 1 ([1, N], [M, N], a scalar). Such products run as BatchMatMul, then Add of the bias, then the
 * activation's own kernel.
 */
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { type KernelScope, applyActivation, withScope } from './composite';
import { heapOffset, nativeKernels, runNative } from './native/module';
import { packedFrom } from './native/packed';

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}

/** Swap the last two axes: [...batch, r, c] -> [...batch, c, r]. */
function swapLastTwo(scope: KernelScope, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return scope.transpose(x, perm);
}

const size = util.sizeFromShape;

/** The product on gensynth's kernel, or undefined where it does not apply (see the header). */
function nativeProduct(
  scope: KernelScope,
  inputs: Record<string, TensorInfo>,
  attrs: MatMulAttrs,
): TensorInfo | undefined {
  const { a: left, b: right, bias } = inputs as Record<string, TensorInfo | undefined>;
  const rank = left!.shape.length;
  const activation = attrs.activation ?? 'linear';
  const n = right!.shape[attrs.transposeB ? rank - 2 : rank - 1]!;
  if (
    rank !== right!.shape.length ||
    size(left!.shape.slice(0, -2)) !== 1 ||
    size(right!.shape.slice(0, -2)) !== 1 ||
    n % 4 !== 0 ||
    (activation !== 'linear' && activation !== 'relu') ||
    inputs.preluActivationWeights !== undefined ||
    (bias !== undefined &&
      (bias.dtype !== 'float32' || size(bias.shape) !== n || bias.shape.at(-1) !== n))
  ) {
    return undefined;
  }
  const backend = scope.backend;
  const native = nativeKernels(backend);
  if (native === undefined) return undefined;
  const k = left!.shape[attrs.transposeA ? rank - 2 : rank - 1]!;
  const m = left!.shape[attrs.transposeA ? rank - 1 : rank - 2]!;
  if (k === 0 || m === 0 || n === 0) return undefined; // empty products: the stock kernel
  const lhs = attrs.transposeA ? swapLastTwo(scope, left!) : left!; // [.., M, K]
  const out = scope.allocUninitialized([...lhs.shape.slice(0, -2), m, n]);
  // element (k, n) of the right operand: [K, N] row-major, or [N, K] when transposed.
  const [ks, ns] = attrs.transposeB ? [1, k] : [n, 1];
  const bp = packedFrom(backend, right!, `matmul:${attrs.transposeB}`, k * n, (dst) =>
    native.pack_weights(heapOffset(backend, right!), dst, 1, k, n, 0, ks, ns),
  );
  const ap = heapOffset(backend, lhs);
  const op = heapOffset(backend, out);
  const biasp = bias === undefined ? 0 : heapOffset(backend, bias);
  const relu = activation === 'relu' ? 1 : 0;
  runNative(backend, native, 'matmul', m, m * k * n, [ap, bp, biasp, op, m, k, n, relu]);
  return out;
}

function matMulConfig(kernelName: 'BatchMatMul' | '_FusedMatMul'): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      // BatchMatMul has no activation, whatever attributes it is handed.
      const a = {
        ...(attrs as unknown as MatMulAttrs & NamedAttrMap),
        ...(kernelName === 'BatchMatMul' ? { activation: 'linear' } : {}),
      };
      const left = inputs.a!;
      const right = inputs.b!;
      if (left.dtype !== 'float32' || right.dtype !== 'float32') {
        return withScope(backend, (scope) => scope.runStock(kernelName, inputs as never, a));
      }
      return withScope(backend, (scope) => {
        // The fused kernel's bias and activation, by their own kernels.
        const biasThenActivate = (product: TensorInfo): TensorInfo =>
          applyActivation(
            scope,
            inputs.bias ? scope.run('Add', { a: product, b: inputs.bias }) : product,
            kernelName,
            a.activation,
            a.leakyreluAlpha,
            inputs.preluActivationWeights,
          );
        const rank = left.shape.length;
        const inner = left.shape[a.transposeA ? rank - 2 : rank - 1]!;
        if (inner === 0) {
          // An empty inner dimension: the product is zeros (the stock kernels returned
          // uninitialised memory; found by fuzzing), then the bias and activation.
          const m = left.shape[a.transposeA ? rank - 1 : rank - 2]!;
          const n = right.shape[a.transposeB ? rank - 2 : rank - 1]!;
          const batch = backend_util.assertAndGetBroadcastShape(
            left.shape.slice(0, -2),
            right.shape.slice(0, -2),
          );
          const zeros = scope.alloc([...batch, m, n]);
          if (kernelName === 'BatchMatMul') return zeros;
          return biasThenActivate(zeros);
        }
        const native = nativeProduct(scope, inputs as Record<string, TensorInfo>, a);
        if (native !== undefined) return native;
        const lhs = a.transposeA ? swapLastTwo(scope, left) : left;
        const rhs = a.transposeB ? swapLastTwo(scope, right) : right;
        const plain = { ...a, transposeA: false, transposeB: false };
        const batches = Math.max(
          left.shape.slice(0, -2).reduce((p, n) => p * n, 1),
          right.shape.slice(0, -2).reduce((p, n) => p * n, 1),
        );
        // The stock fused kernel takes only a rank-1 bias (and adds it wrongly across batches).
        const rank1Bias = inputs.bias === undefined || inputs.bias.shape.length === 1;
        if (kernelName === 'BatchMatMul' || (batches === 1 && rank1Bias)) {
          return scope.runStock(kernelName, { ...inputs, a: lhs, b: rhs } as never, plain);
        }
        const product = scope.run(
          'BatchMatMul',
          { a: lhs, b: rhs },
          { transposeA: false, transposeB: false }, // no activation: it comes after the bias
        );
        return biasThenActivate(product);
      });
    },
  };
}

export const batchMatMulConfig = matMulConfig('BatchMatMul');
export const fusedMatMulConfig = matMulConfig('_FusedMatMul');
