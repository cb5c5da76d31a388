/**
 * `OneHot` on WASM. The stock kernel of tfjs-backend-wasm 4.22 writes int32 values whatever the
 * requested dtype, so `tf.oneHot(indices, depth, 1, 0, 'float32')` reads back as 1.4e-45 (the
 * float32 with bit pattern 1) instead of 1.
 *
 *   indices [...S] int32 -> out [...S, depth] of `dtype`; out[..., k] = onValue if k = index
 *   else offValue. Indices outside [0, depth) give a row of offValue, as in TensorFlow.
 */
import type { DataType, KernelConfig } from '@tensorflow/tfjs-core';
import { withScope } from './composite';

interface OneHotAttrs {
  depth: number;
  onValue: number;
  offValue: number;
  dtype: DataType;
}

export const oneHotConfig: KernelConfig = {
  kernelName: 'OneHot',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const indices = inputs.indices!;
    const { depth, onValue, offValue, dtype } = attrs as unknown as OneHotAttrs;
    return withScope(backend, (scope) => {
      const out = scope.allocUninitialized([...indices.shape, depth], dtype);
      const ids = scope.view(indices);
      const values = scope.view(out);
      values.fill(offValue);
      for (let i = 0; i < ids.length; i++) {
        const k = ids[i]!;
        if (k >= 0 && k < depth) values[i * depth + k] = onValue;
      }
      return out;
    });
  },
};
