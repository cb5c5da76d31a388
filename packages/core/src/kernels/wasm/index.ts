/**
 * Training kernels that stock tfjs-backend-wasm 4.22 lacks, runs slowly or gets wrong. Registered
 * by `initBackend` after `@tensorflow/tfjs-backend-wasm` is imported and before 'wasm' is active.
 *
 * Missing:  Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropInput,
 *           DepthwiseConv2dNativeBackpropFilter, UnsortedSegmentSum (gradient of gather).
 * Slow:     Conv2DBackpropInput (a scalar loop; also the forward pass of conv2dTranspose),
 *           BatchMatMul and _FusedMatMul with a transposed operand, Tile, Slice, LeakyRelu,
 *           Sum and Mean over leading axes, Tanh, Conv2D and FusedConv2D (XNNPACK repacks
 *           the filter on every new weights tensor: gensynth's direct SIMD convolution),
 *           FusedBatchNorm, Identity and same-dtype Cast (copied their input), Add, Sub, Multiply and RealDiv (each
 *           call went through XNNPACK's thread pool).
 * Wrong:    MaxPoolGrad (drops windows whose values are all negative), OneHot with dtype float32
 *           (writes int32 bit patterns), ResizeBilinearGrad (ignores halfPixelCenters).
 * Also replaces slow gradients (global, same values): see `../gradients.ts`.
 * Own:      GensynthAdamUpdate, one fused Adam step per variable (`../adam.ts`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { GensynthError } from '../../errors';
import { adamUpdateWasmConfig } from '../adam';
import { batchNormTrainWasmConfigs } from '../batch_norm_train';
import { registerGradientReplacements } from '../gradients';
import { rememberStockKernel } from './composite';
import { conv2dConfig, fusedConv2dConfig } from './conv2d';
import { conv2dBackpropFilterConfig } from './conv2d_backprop_filter';
import { conv2dBackpropInputConfig } from './conv2d_backprop_input';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise';
import { fusedBatchNormConfig } from './batch_norm';
import { addConfig, multiplyConfig, realDivConfig, subConfig } from './binary';
import {
  castConfig,
  identityConfig,
  leakyReluConfig,
  leakyReluGradWasmConfig,
  tanhConfig,
} from './elementwise';
import { oneHotConfig } from './one_hot';
import { maxPoolGradConfig } from './pool';
import { resizeBilinearGradConfig, resizeNearestNeighborGradConfig } from './resize';
import { unsortedSegmentSumConfig } from './segment';
import { batchMatMulConfig, fusedMatMulConfig } from './matmul';
import { meanConfig, sumConfig } from './reduce';
import { sliceConfig } from './slice';
import { tileConfig } from './tile';

/**
 * Every kernel gensynth registers on 'wasm', replacing a stock one of the same name, and
 * gensynth's own `GensynthAdamUpdate` (`../adam.ts`).
 */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = Object.freeze([
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  depthwiseBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  unsortedSegmentSumConfig,
  maxPoolGradConfig,
  oneHotConfig,
  resizeNearestNeighborGradConfig,
  resizeBilinearGradConfig,
  batchMatMulConfig,
  fusedMatMulConfig,
  tileConfig,
  sliceConfig,
  leakyReluConfig,
  leakyReluGradWasmConfig,
  conv2dConfig,
  fusedConv2dConfig,
  sumConfig,
  meanConfig,
  tanhConfig,
  identityConfig,
  castConfig,
  fusedBatchNormConfig,
  addConfig,
  subConfig,
  multiplyConfig,
  realDivConfig,
  adamUpdateWasmConfig,
  ...batchNormTrainWasmConfigs,
]);

export { stockWasmKernel } from './composite';

let registered = false;

/**
 * Register gensynth's WASM training kernels (idempotent). Call after importing
 * `@tensorflow/tfjs-backend-wasm` (its stock kernels must be registered first, or they would
 * replace these when it loads); `initBackend` does both.
 */
export function registerWasmTrainingKernels(): void {
  // Gradients are global and may be registered after the first call (tfjs-layers imported late).
  if (tf.getGradient('LeakyRelu') !== undefined) registerGradientReplacements();
  if (registered) return;
  if (tf.getKernel('Conv2D', 'wasm') === undefined) {
    throw new GensynthError('BACKEND_UNAVAILABLE', {
      where: 'registerWasmTrainingKernels',
      expected: 'the stock kernels of @tensorflow/tfjs-backend-wasm to be registered',
      received: "no 'Conv2D' kernel for backend 'wasm'",
      fix: "Import '@tensorflow/tfjs-backend-wasm' first, or call initBackend() which does both.",
    });
  }
  for (const config of WASM_TRAINING_KERNELS) {
    const stock = tf.getKernel(config.kernelName, 'wasm');
    if (stock !== undefined) {
      rememberStockKernel(stock);
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    // The stock kernel's setup (binding its WASM function) must still run at backend start,
    // because replacements may delegate to it.
    tf.registerKernel({ ...config, setupFunc: config.setupFunc ?? stock?.setupFunc });
  }
  registered = true;
}
