import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-cpu's `MathBackendCPU` that gensynth's CPU kernels use. */
export interface CpuBackend {
  data: { get(dataId: object): { values: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: DataType, values: Float32Array): TensorInfo;
}
