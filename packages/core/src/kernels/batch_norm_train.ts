/**
 * Batch normalisation in training as three kernels of gensynth's own, registered on 'wasm' and
 * 'cpu', with a gradient in tfjs's registry. tfjs-layers computes it from tfjs ops: moments
 * (Mean, Sub, Square, Mean), FusedBatchNorm and the moving-average updates forward, and their
 * gradients backward: about 40 kernel calls per layer and training step, most of them passes
 * over the whole activation. These kernels make two passes forward and three backward.
 *
 *   GensynthBatchNormTrain      x [..., C], scale [C], offset [C]; attrs epsilon
 *                               -> [y, mean [C], variance [C]] with the batch's statistics
 *                               (variance over the batch, as tfjs's moments: divided by R)
 *   GensynthBatchNormGradSums   dy, x, mean, variance; epsilon -> [dscale, doffset]
 *   GensynthBatchNormGradInput  dy, x, scale, mean, variance, dscale, doffset; epsilon -> dx
 *
 * With R the number of rows (all axes but the last), rs = 1 / sqrt(variance + epsilon) and
 * xhat = (x - mean) * rs: y = xhat * scale + offset, doffset = sum dy, dscale = sum dy * xhat,
 * dx = scale * rs * (dy - doffset / R - xhat * dscale / R) (the gradient through the
 * statistics included). Sums are taken in float64. The gradient computes the two sums always
 * (they are small and dx needs them) and dx only when x needs it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { GensynthError } from '../errors';
import type { CpuBackend } from './cpu/backend';
import type { WasmBackend } from './wasm/composite';
import { heapOffset, nativeKernels } from './wasm/native/module';

export const BN_TRAIN_KERNEL = 'GensynthBatchNormTrain';
export const BN_GRAD_SUMS_KERNEL = 'GensynthBatchNormGradSums';
export const BN_GRAD_INPUT_KERNEL = 'GensynthBatchNormGradInput';

const size = tf.util.sizeFromShape;

/** Rows and channels of x, after checking every input against it. */
function layout(
  kernel: string,
  inputs: Record<string, TensorInfo | undefined>,
  names: string[],
): { rows: number; channels: number } {
  const x = inputs.x;
  const channels = x?.shape.at(-1) ?? 0;
  for (const name of names) {
    const t = inputs[name];
    const full = name === 'x' || name === 'dy';
    const expected = full ? JSON.stringify(x?.shape) : `[${channels}]`;
    const ok =
      t !== undefined &&
      t.dtype === 'float32' &&
      (full ? JSON.stringify(t.shape) === JSON.stringify(x?.shape) : size(t.shape) === channels);
    if (!ok || x === undefined || x.shape.length < 2) {
      throw new GensynthError('INVALID_ARGUMENT', {
        where: `${kernel} input '${name}'`,
        expected: `a float32 tensor of shape ${expected} (x of rank 2 or more, channels last)`,
        received: t === undefined ? 'nothing' : `${t.dtype} ${JSON.stringify(t.shape)}`,
        fix: 'Pass x [..., C] and per-channel tensors of C values.',
      });
    }
  }
  return { rows: size(x!.shape) / channels, channels };
}

type Values = ArrayLike<number>;

/** The three kernels in plain JavaScript (the CPU backend, and WASM without gensynth's module). */
export function batchNormTrainReference(
  x: Values,
  scale: Values,
  offset: Values,
  rows: number,
  channels: number,
  epsilon: number,
) {
  const mean = new Float32Array(channels);
  const variance = new Float32Array(channels);
  const acc = new Float64Array(channels);
  for (let k = 0; k < rows * channels; k++) acc[k % channels]! += x[k]!;
  for (let c = 0; c < channels; c++) mean[c] = acc[c]! / rows;
  acc.fill(0);
  for (let k = 0; k < rows * channels; k++) {
    const d = x[k]! - mean[k % channels]!;
    acc[k % channels]! += d * d;
  }
  for (let c = 0; c < channels; c++) variance[c] = acc[c]! / rows;
  const f = Math.fround;
  const factor = Float32Array.from(scale, (s, c) =>
    f(s / f(Math.sqrt(f(variance[c]! + f(epsilon))))),
  );
  const y = new Float32Array(rows * channels);
  for (let k = 0; k < y.length; k++) {
    const c = k % channels;
    y[k] = f(f(f(x[k]! - mean[c]!) * factor[c]!) + offset[c]!);
  }
  return { y, mean, variance };
}

export function batchNormGradSumsReference(
  dy: Values,
  x: Values,
  mean: Values,
  variance: Values,
  rows: number,
  channels: number,
  epsilon: number,
) {
  const sdy = new Float64Array(channels);
  const sdyx = new Float64Array(channels);
  for (let k = 0; k < rows * channels; k++) {
    const c = k % channels;
    sdy[c]! += dy[k]!;
    sdyx[c]! += dy[k]! * (x[k]! - mean[c]!);
  }
  const f32 = Math.fround;
  const doffset = Float32Array.from(sdy);
  const dscale = Float32Array.from(sdyx, (s, c) => s / Math.sqrt(variance[c]! + f32(epsilon)));
  return { dscale, doffset };
}

export function batchNormGradInputReference(
  dy: Values,
  x: Values,
  scale: Values,
  mean: Values,
  variance: Values,
  dscale: Values,
  doffset: Values,
  rows: number,
  channels: number,
  epsilon: number,
): Float32Array {
  const f = Math.fround;
  const k = new Float32Array(channels);
  const a = new Float32Array(channels);
  const b = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const rs = 1 / Math.sqrt(variance[c]! + f(epsilon));
    k[c] = scale[c]! * rs;
    a[c] = doffset[c]! / rows;
    b[c] = (rs * dscale[c]!) / rows;
  }
  const dx = new Float32Array(rows * channels);
  for (let i = 0; i < dx.length; i++) {
    const c = i % channels;
    dx[i] = f(k[c]! * f(f(dy[i]! - a[c]!) - f(f(x[i]! - mean[c]!) * b[c]!)));
  }
  return dx;
}

type Attrs = { epsilon: number };

/** Run `js` on the inputs' values and return its arrays as tensors of the given shapes. */
function viaJs(
  backend: object,
  backendName: 'cpu' | 'wasm',
  inputs: TensorInfo[],
  shapes: number[][],
  js: (...values: Values[]) => Float32Array[],
): TensorInfo[] {
  if (backendName === 'cpu') {
    const cpu = backend as CpuBackend;
    const outs = js(...inputs.map((t) => cpu.data.get(t.dataId).values));
    return outs.map((values, i) => cpu.makeTensorInfo(shapes[i]!, 'float32', values));
  }
  const wasm = backend as WasmBackend;
  const outs = js(...inputs.map((t) => wasm.typedArrayFromHeap(t).slice()));
  return outs.map((values, i) => {
    const out = wasm.makeOutput(shapes[i]!, 'float32');
    wasm.typedArrayFromHeap(out).set(values);
    return out;
  });
}

function trainConfig(backendName: 'cpu' | 'wasm'): KernelConfig {
  return {
    kernelName: BN_TRAIN_KERNEL,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { rows, channels } = layout(BN_TRAIN_KERNEL, inputs, ['x', 'scale', 'offset']);
      const { x, scale, offset } = inputs as Record<string, TensorInfo>;
      const { epsilon } = attrs as unknown as Attrs;
      const shapes = [x!.shape, [channels], [channels]];
      const native =
        backendName === 'wasm' && channels % 4 === 0 ? nativeKernels(backend) : undefined;
      if (native === undefined) {
        return viaJs(backend, backendName, [x!, scale!, offset!], shapes, (xv, s, o) => {
          const r = batchNormTrainReference(xv!, s!, o!, rows, channels, epsilon);
          return [r.y, r.mean, r.variance];
        });
      }
      const wasm = backend as unknown as WasmBackend;
      const outs = shapes.map((shape) => wasm.makeOutput(shape, 'float32'));
      const scratch = wasm.makeOutput([2 * channels], 'float32'); // C doubles, then C factors
      const at = (t: TensorInfo) => heapOffset(backend, t);
      const [y, mean, variance] = outs as [TensorInfo, TensorInfo, TensorInfo];
      native.bn_moments(at(x!), at(mean), at(variance), at(scratch), rows, channels);
      native.batch_norm_f32(
        at(x!),
        at(mean),
        at(variance),
        at(scale!),
        at(offset!),
        at(scratch),
        at(y),
        rows,
        channels,
        epsilon,
      );
      wasm.disposeData(scratch.dataId);
      return outs;
    },
  };
}

function gradSumsConfig(backendName: 'cpu' | 'wasm'): KernelConfig {
  return {
    kernelName: BN_GRAD_SUMS_KERNEL,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const names = ['dy', 'x', 'mean', 'variance'];
      const { rows, channels } = layout(BN_GRAD_SUMS_KERNEL, inputs, names);
      const tensors = names.map((n) => inputs[n]!);
      const { epsilon } = attrs as unknown as Attrs;
      const shapes = [[channels], [channels]];
      const native = backendName === 'wasm' ? nativeKernels(backend) : undefined;
      if (native === undefined) {
        return viaJs(backend, backendName, tensors, shapes, (dy, x, m, v) => {
          const r = batchNormGradSumsReference(dy!, x!, m!, v!, rows, channels, epsilon);
          return [r.dscale, r.doffset];
        });
      }
      const wasm = backend as unknown as WasmBackend;
      const [dscale, doffset] = shapes.map((shape) => wasm.makeOutput(shape, 'float32')) as [
        TensorInfo,
        TensorInfo,
      ];
      const scratch = wasm.makeOutput([4 * channels], 'float32'); // 2C doubles
      const [dy, x, mean, variance] = tensors.map((t) => heapOffset(backend, t));
      const at = (t: TensorInfo) => heapOffset(backend, t);
      native.bn_grad_sums(
        dy!,
        x!,
        mean!,
        variance!,
        at(dscale),
        at(doffset),
        at(scratch),
        rows,
        channels,
        epsilon,
      );
      wasm.disposeData(scratch.dataId);
      return [dscale, doffset];
    },
  };
}

function gradInputConfig(backendName: 'cpu' | 'wasm'): KernelConfig {
  return {
    kernelName: BN_GRAD_INPUT_KERNEL,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const names = ['dy', 'x', 'scale', 'mean', 'variance', 'dscale', 'doffset'];
      const { rows, channels } = layout(BN_GRAD_INPUT_KERNEL, inputs, names);
      const tensors = names.map((n) => inputs[n]!);
      const { epsilon } = attrs as unknown as Attrs;
      const native = backendName === 'wasm' ? nativeKernels(backend) : undefined;
      if (native === undefined) {
        return viaJs(backend, backendName, tensors, [inputs.x!.shape], (...v) => [
          batchNormGradInputReference(
            v[0]!,
            v[1]!,
            v[2]!,
            v[3]!,
            v[4]!,
            v[5]!,
            v[6]!,
            rows,
            channels,
            epsilon,
          ),
        ])[0]!;
      }
      const wasm = backend as unknown as WasmBackend;
      const dx = wasm.makeOutput(inputs.x!.shape, 'float32');
      const coef = wasm.makeOutput([3 * channels], 'float32');
      const p = tensors.map((t) => heapOffset(backend, t));
      native.bn_grad_input(
        p[0]!,
        p[1]!,
        p[2]!,
        p[3]!,
        p[4]!,
        p[5]!,
        p[6]!,
        heapOffset(backend, dx),
        heapOffset(backend, coef),
        rows,
        channels,
        epsilon,
      );
      wasm.disposeData(coef.dataId);
      return dx;
    },
  };
}

export const batchNormTrainCpuConfigs: KernelConfig[] = [
  trainConfig('cpu'),
  gradSumsConfig('cpu'),
  gradInputConfig('cpu'),
];
export const batchNormTrainWasmConfigs: KernelConfig[] = [
  trainConfig('wasm'),
  gradSumsConfig('wasm'),
  gradInputConfig('wasm'),
];

/**
 * The gradient of GensynthBatchNormTrain. A gradient reaching the mean or variance outputs (a
 * loss that uses the statistics themselves) is passed on to x as well.
 */
export const batchNormTrainGradConfig: GradConfig = {
  kernelName: BN_TRAIN_KERNEL,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [false, true, true],
  gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: NamedAttrMap) => {
    const [x, scale, mean, variance] = saved as tf.Tensor[];
    const [dyOut, dMean, dVariance] = (Array.isArray(dys) ? dys : [dys]) as (tf.Tensor | null)[];
    const { epsilon } = attrs as unknown as Attrs;
    const dy = dyOut ?? tf.zerosLike(x!);
    const [dscale, doffset] = tf
      .engine()
      .runKernel(
        BN_GRAD_SUMS_KERNEL,
        { dy, x: x!, mean: mean!, variance: variance! },
        { epsilon },
      ) as tf.Tensor[];
    return {
      x: () => {
        let dx = tf.engine().runKernel(
          BN_GRAD_INPUT_KERNEL,
          {
            dy,
            x: x!,
            scale: scale!,
            mean: mean!,
            variance: variance!,
            dscale: dscale!,
            doffset: doffset!,
          },
          { epsilon },
        ) as tf.Tensor;
        const rows = size(x!.shape) / x!.shape.at(-1)!;
        if (dMean != null) dx = tf.add(dx, tf.div(dMean, rows));
        if (dVariance != null)
          dx = tf.add(dx, tf.mul(tf.sub(x!, mean!), tf.div(tf.mul(dVariance, 2), rows)));
        return dx;
      },
      scale: () => dscale!,
      offset: () => doffset!,
    };
  },
};
