/**
 * Building blocks for kernels that gensynth composes from kernels the WASM backend already has.
 *
 * A composite kernel calls the backend's own kernel functions directly (no engine, no tape), so
 * every intermediate it makes is a backend-level `TensorInfo` that the engine never sees.
 * `KernelScope` tracks those and frees them, so a composite kernel leaves the WASM heap as it
 * found it apart from its one output.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {
  DataType,
  KernelConfig,
  NamedAttrMap,
  TensorInfo,
  backend_util,
} from '@tensorflow/tfjs-core';
import { GensynthError } from '../../errors';

/** The parts of tfjs-backend-wasm's `BackendWasm` that composite kernels use. */
export interface WasmBackend {
  incRef(dataId: object): void;
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(
    shape: number[],
    dtype: DataType,
    memoryOffset?: number,
    values?: ArrayLike<number>,
  ): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  numDataIds(): number;
  dataIdMap: { has(dataId: object): boolean };
  wasm: { HEAPU8: Uint8Array };
}

type Inputs = Record<string, TensorInfo>;

/** Stock kernels that gensynth replaced, by name, so replacements can still call them. */
const STOCK_KERNELS = new Map<string, KernelConfig>();

/** Remember the stock kernel `config` before gensynth replaces it. */
export function rememberStockKernel(config: KernelConfig): void {
  if (!STOCK_KERNELS.has(config.kernelName)) STOCK_KERNELS.set(config.kernelName, config);
}

/** The stock tfjs-backend-wasm kernel that gensynth replaced under `name`, if any. */
export function stockWasmKernel(name: string): KernelConfig | undefined {
  return STOCK_KERNELS.get(name);
}

/** The kernel function registered on 'wasm' under `name` (gensynth's when it replaced one). */
function wasmKernel(name: string, stock = false) {
  const config = stock
    ? (STOCK_KERNELS.get(name) ?? tf.getKernel(name, 'wasm'))
    : tf.getKernel(name, 'wasm');
  if (config === undefined) {
    throw new GensynthError('BACKEND_UNAVAILABLE', {
      where: `gensynth wasm kernel (needs '${name}')`,
      expected: `the '${name}' kernel of @tensorflow/tfjs-backend-wasm to be registered`,
      received: 'no such kernel',
      fix: 'Import @tensorflow/tfjs-backend-wasm before registerWasmTrainingKernels(), or use initBackend().',
    });
  }
  return config.kernelFunc;
}

/** Runs backend kernels and frees every intermediate they produce when disposed. */
export class KernelScope {
  private readonly owned: TensorInfo[] = [];

  constructor(readonly backend: WasmBackend) {}

  /** Run the wasm kernel `name`; its output is freed by `dispose()` unless `keep`-ed. */
  run(name: string, inputs: Inputs, attrs: NamedAttrMap = {}): TensorInfo {
    const out = wasmKernel(name)({ inputs, backend: this.backend, attrs }) as TensorInfo;
    this.owned.push(out);
    return out;
  }

  /** Like `run`, but always the stock kernel (for replacements that delegate to it). */
  runStock(name: string, inputs: Inputs, attrs: NamedAttrMap = {}): TensorInfo {
    const out = wasmKernel(name, true)({ inputs, backend: this.backend, attrs }) as TensorInfo;
    this.owned.push(out);
    return out;
  }

  /** Allocate a zero-filled heap tensor. */
  alloc(shape: number[], dtype: DataType = 'float32'): TensorInfo {
    const out = this.allocUninitialized(shape, dtype);
    this.view(out).fill(0);
    return out;
  }

  /** Allocate a heap tensor whose contents the caller overwrites completely. */
  allocUninitialized(shape: number[], dtype: DataType = 'float32'): TensorInfo {
    const out = this.backend.makeOutput(shape, dtype);
    this.owned.push(out);
    return out;
  }

  /** A typed view of a tensor's heap memory; invalid after the next allocation. */
  view(info: TensorInfo): Float32Array | Int32Array | Uint8Array {
    return this.backend.typedArrayFromHeap(info);
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    const whole = begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i]);
    return whole ? x : this.run('Slice', { x }, { begin, size });
  }

  /** Hand `info` to the caller: it is no longer freed by `dispose()`. */
  keep(info: TensorInfo): TensorInfo {
    const index = this.owned.lastIndexOf(info);
    if (index >= 0) {
      this.owned.splice(index, 1);
      return info;
    }
    // Not made here (e.g. an input returned unchanged): the output needs its own reference.
    this.backend.incRef(info.dataId);
    return { dataId: info.dataId, shape: info.shape, dtype: info.dtype };
  }

  dispose(): void {
    for (const info of this.owned) this.backend.disposeData(info.dataId);
    this.owned.length = 0;
  }
}

/**
 * `x` as float32: convolution kernels compute in float32 whatever their inputs' dtype (as the
 * CPU backend does), and gensynth's read their operands' memory as float32.
 */
export function asFloat32(scope: KernelScope, x: TensorInfo): TensorInfo {
  return x.dtype === 'float32' ? x : scope.run('Cast', { x }, { dtype: 'float32' });
}

/** Run `body` with a fresh scope, freeing its intermediates even when it throws. */
export function withScope(backend: object, body: (scope: KernelScope) => TensorInfo): TensorInfo {
  const scope = new KernelScope(backend as WasmBackend);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}

/**
 * Throw unless `dy` has the shape the convolution described by `info` outputs. tfjs does not
 * check it; the CPU backend then reads dy by its own strides (NaN beyond its end) and gensynth's
 * kernels would read past it, so a clear error is better than either.
 */
export function checkOutputGradient(
  kernel: string,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  nhwc: boolean,
): void {
  const expected = nhwc
    ? [info.batchSize, info.outHeight, info.outWidth, info.outChannels]
    : [info.batchSize, info.outChannels, info.outHeight, info.outWidth];
  if (dy.shape.length === 4 && dy.shape.every((n, i) => n === expected[i])) return;
  throw new GensynthError('SHAPE_MISMATCH', {
    where: `${kernel} (gensynth wasm kernel) input 'dy'`,
    expected: `the convolution's output shape [${expected.join(', ')}] for its input shape, filter, strides and padding`,
    received: `[${dy.shape.join(', ')}]`,
    fix: 'Pass the output gradient of that convolution, or the input shape (conv2dTranspose: outputShape) that dy comes from.',
  });
}

/**
 * Apply the fused activation of a `_FusedMatMul` or `FusedConv2D` call with its own kernel
 * (`leakyreluAlpha` and `prelu` as the fused kernel takes them).
 */
export function applyActivation(
  scope: KernelScope,
  x: TensorInfo,
  kernel: string,
  activation: string | undefined,
  leakyreluAlpha: number | undefined,
  prelu: TensorInfo | undefined,
): TensorInfo {
  switch (activation ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return scope.run('Relu', { x });
    case 'relu6':
      return scope.run('Relu6', { x });
    case 'elu':
      return scope.run('Elu', { x });
    case 'sigmoid':
      return scope.run('Sigmoid', { x });
    case 'leakyrelu':
      return scope.run('LeakyRelu', { x }, { alpha: leakyreluAlpha ?? 0.2 });
    case 'prelu':
      return scope.run('Prelu', { x, alpha: prelu! });
    default:
      throw kernelUnsupported(
        kernel,
        "activation 'linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu' or 'prelu'",
        `'${String(activation)}'`,
        'Apply that activation as a separate op after the product or convolution.',
      );
  }
}

/** The `KERNEL_UNSUPPORTED` error of a gensynth kernel. */
export function kernelUnsupported(
  kernel: string,
  expected: string,
  received: string,
  fix: string,
): GensynthError {
  return new GensynthError('KERNEL_UNSUPPORTED', {
    where: `${kernel} (gensynth wasm kernel)`,
    expected,
    received,
    fix,
  });
}
