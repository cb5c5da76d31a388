/**
 * `GensynthLeakyReluGrad`: LeakyReLU's gradient, dx = x > 0 ? dy : alpha * dy, as one kernel of
 * gensynth's own on 'wasm' and 'cpu' (tfjs-core's gradient runs Greater, Multiply and Select;
 * the composite in `gradients.ts` runs Step and Multiply). A NaN x takes alpha * dy, as in
 * tfjs-core.
 *
 *   inputs  dy, x (float32, one shape);  attrs  alpha;  output  dx
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { GensynthError } from '../errors';
import type { CpuBackend } from './cpu/backend';

export const LEAKY_RELU_GRAD_KERNEL = 'GensynthLeakyReluGrad';

export function checkLeakyReluGradInputs(inputs: Record<string, TensorInfo | undefined>): {
  dy: TensorInfo;
  x: TensorInfo;
} {
  const { dy, x } = inputs;
  for (const [name, t] of [
    ['dy', dy],
    ['x', x],
  ] as const) {
    if (
      t === undefined ||
      t.dtype !== 'float32' ||
      JSON.stringify(t.shape) !== JSON.stringify(x?.shape)
    ) {
      throw new GensynthError('INVALID_ARGUMENT', {
        where: `${LEAKY_RELU_GRAD_KERNEL} input '${name}'`,
        expected: `a float32 tensor of x's shape ${JSON.stringify(x?.shape)}`,
        received: t === undefined ? 'nothing' : `${t.dtype} ${JSON.stringify(t.shape)}`,
        fix: 'Pass the output gradient dy and the LeakyReLU input x, both float32, of one shape.',
      });
    }
  }
  return { dy: dy!, x: x! };
}

export function leakyReluGradReference(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  alpha: number,
): Float32Array {
  const out = new Float32Array(x.length);
  const a = Math.fround(alpha);
  for (let k = 0; k < out.length; k++) out[k] = x[k]! > 0 ? dy[k]! : a * dy[k]!;
  return out;
}

export const leakyReluGradCpuConfig: KernelConfig = {
  kernelName: LEAKY_RELU_GRAD_KERNEL,
  backendName: 'cpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const cpu = backend as unknown as CpuBackend;
    const { dy, x } = checkLeakyReluGradInputs(inputs);
    const { alpha } = attrs as { alpha: number };
    const values = leakyReluGradReference(
      cpu.data.get(dy.dataId).values,
      cpu.data.get(x.dataId).values,
      alpha,
    );
    return cpu.makeTensorInfo(x.shape, 'float32', values);
  },
};
