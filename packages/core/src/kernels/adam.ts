/**
 * `GensynthAdamUpdate`: one fused Adam step (Kingma & Ba 2015, arXiv:1412.6980) for one variable,
 * registered on 'wasm' and 'cpu'. tfjs's AdamOptimizer spends 11 kernel calls and 8 intermediate
 * tensors per variable and step; this kernel reads the variable, its two moments and its
 * gradient once and writes the three new tensors, with the same float32 operations in the same
 * order (`adamStep` below), so its results equal the stock optimizer's.
 *
 *   inputs  value, m, v, gradient (float32, one shape)
 *   attrs   beta1, beta2, epsilon, learningRate, accBeta1 (= beta1^t), accBeta2 (= beta2^t)
 *   outputs [value', m', v']
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { GensynthError } from '../errors';
import type { CpuBackend } from './cpu/backend';
import type { WasmBackend } from './wasm/composite';
import { heapOffset, nativeKernels } from './wasm/native/module';

export const ADAM_UPDATE_KERNEL = 'GensynthAdamUpdate';

export interface AdamUpdateAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  accBeta1: number;
  accBeta2: number;
}

/** The float32 constants of one step, rounded as tfjs rounds its scalar operands. */
function constants(a: AdamUpdateAttrs) {
  const f = Math.fround;
  return {
    b1: f(a.beta1),
    ob1: f(1 - a.beta1),
    b2: f(a.beta2),
    ob2: f(1 - a.beta2),
    c1: f(1 - f(a.accBeta1)),
    c2: f(1 - f(a.accBeta2)),
    eps: f(a.epsilon),
    negLr: f(-a.learningRate),
  };
}

function checkInputs(inputs: Record<string, TensorInfo | undefined>): TensorInfo[] {
  const list = ['value', 'm', 'v', 'gradient'].map((name) => inputs[name]);
  const shape = JSON.stringify(list[0]?.shape);
  list.forEach((t, i) => {
    if (t === undefined || t.dtype !== 'float32' || JSON.stringify(t.shape) !== shape) {
      throw new GensynthError('INVALID_ARGUMENT', {
        where: `${ADAM_UPDATE_KERNEL} input '${['value', 'm', 'v', 'gradient'][i]}'`,
        expected: `a float32 tensor of the variable's shape ${shape}`,
        received: t === undefined ? 'nothing' : `${t.dtype} ${JSON.stringify(t.shape)}`,
        fix: 'Pass the variable, its two Adam moments and a gradient of the same shape.',
      });
    }
  });
  return list as TensorInfo[];
}

/** The update in plain JavaScript, every operation rounded to float32. */
export function adamStep(
  w: ArrayLike<number>,
  m: ArrayLike<number>,
  v: ArrayLike<number>,
  g: ArrayLike<number>,
  attrs: AdamUpdateAttrs,
): [Float32Array, Float32Array, Float32Array] {
  const { b1, ob1, b2, ob2, c1, c2, eps, negLr } = constants(attrs);
  const f = Math.fround;
  const n = w.length;
  const wOut = new Float32Array(n);
  const mOut = new Float32Array(n);
  const vOut = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const gk = g[k]!;
    const mn = f(f(m[k]! * b1) + f(gk * ob1));
    const vn = f(f(v[k]! * b2) + f(f(gk * gk) * ob2));
    const den = f(f(Math.sqrt(f(vn / c2))) + eps);
    wOut[k] = f(f(f(f(mn / c1) / den) * negLr) + w[k]!);
    mOut[k] = mn;
    vOut[k] = vn;
  }
  return [wOut, mOut, vOut];
}

export const adamUpdateCpuConfig: KernelConfig = {
  kernelName: ADAM_UPDATE_KERNEL,
  backendName: 'cpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const cpu = backend as unknown as CpuBackend;
    const tensors = checkInputs(inputs);
    const [w, m, v, g] = tensors.map((t) => cpu.data.get(t.dataId).values);
    const outs = adamStep(w!, m!, v!, g!, attrs as unknown as AdamUpdateAttrs);
    return outs.map((values) => cpu.makeTensorInfo(tensors[0]!.shape, 'float32', values));
  },
};

export const adamUpdateWasmConfig: KernelConfig = {
  kernelName: ADAM_UPDATE_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackend;
    const tensors = checkInputs(inputs);
    const shape = tensors[0]!.shape;
    const outs = [0, 1, 2].map(() => wasm.makeOutput(shape, 'float32'));
    const native = nativeKernels(backend);
    const a = attrs as unknown as AdamUpdateAttrs;
    if (native !== undefined) {
      const { b1, ob1, b2, ob2, c1, c2, eps, negLr } = constants(a);
      const [w, m, v, g] = tensors.map((t) => heapOffset(backend, t));
      const [wo, mo, vo] = outs.map((t) => heapOffset(backend, t));
      const n = shape.reduce((x, y) => x * y, 1);
      native.adam_update(w!, m!, v!, g!, wo!, mo!, vo!, n, b1, ob1, b2, ob2, c1, c2, eps, negLr);
      return outs;
    }
    const [w, m, v, g] = tensors.map((t) => wasm.typedArrayFromHeap(t).slice());
    const results = adamStep(w!, m!, v!, g!, a);
    outs.forEach((t, i) => wasm.typedArrayFromHeap(t).set(results[i]!));
    return outs;
  },
};
