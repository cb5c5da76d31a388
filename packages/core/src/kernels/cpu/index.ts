/**
 * Corrections to kernels of the pure-JS CPU backend that return wrong results in tfjs 4.22.
 *
 * ResizeNearestNeighborGrad: the stock kernel reads dy at the images' batch offset
 * (b * H * W * C) instead of dy's own (b * Ho * Wo * C), so every image after the first gets
 * the gradient of the wrong pixels whenever the batch has more than one image.
 *
 * ResizeBilinearGrad: the stock kernel reports its output as [B, W, H, C] (so tf.grad throws for
 * non-square images) and ignores halfPixelCenters.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { GensynthError } from '../../errors';
import type { CpuBackend } from './backend';
import { adamUpdateCpuConfig } from '../adam';
import { leakyReluGradCpuConfig } from '../leaky_relu_grad';
import { batchNormTrainCpuConfigs } from '../batch_norm_train';
import { resizeBilinearGradInto } from '../resize_bilinear_grad';
import { resizeNearestNeighborGradInto } from '../resize_nearest_grad';

/** A CPU kernel for `kernelName` that runs `gradInto` over dy's values. */
function resizeGradKernel(
  kernelName: string,
  gradInto: typeof resizeBilinearGradInto,
): KernelConfig {
  return {
    kernelName,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const cpu = backend as CpuBackend;
      const images = inputs.images!;
      const dy = inputs.dy!;
      const { alignCorners, halfPixelCenters } = attrs as {
        alignCorners: boolean;
        halfPixelCenters?: boolean;
      };
      const dx = new Float32Array(images.shape.reduce((a, b) => a * b, 1));
      const dyValues = cpu.data.get(dy.dataId).values;
      gradInto(dyValues, dy.shape, dx, images.shape, alignCorners, halfPixelCenters ?? false);
      return cpu.makeTensorInfo(images.shape, 'float32', dx);
    },
  };
}

const resizeNearestNeighborGradConfig = resizeGradKernel(
  'ResizeNearestNeighborGrad',
  resizeNearestNeighborGradInto,
);

const resizeBilinearGradConfig = resizeGradKernel('ResizeBilinearGrad', resizeBilinearGradInto);

/**
 * Every kernel gensynth registers on 'cpu': the fixes replace stock kernels of the same name,
 * `GensynthAdamUpdate` is gensynth's own (`../adam.ts`).
 */
export const CPU_KERNEL_FIXES: readonly KernelConfig[] = Object.freeze([
  resizeNearestNeighborGradConfig,
  resizeBilinearGradConfig,
  adamUpdateCpuConfig,
  leakyReluGradCpuConfig,
  ...batchNormTrainCpuConfigs,
]);

const STOCK_KERNELS = new Map<string, KernelConfig>();

/** The stock tfjs-backend-cpu kernel that gensynth replaced under `name`, if any (for tests). */
export function stockCpuKernel(name: string): KernelConfig | undefined {
  return STOCK_KERNELS.get(name);
}

let registered = false;

/**
 * Register gensynth's CPU kernel fixes (idempotent). Call after importing
 * `@tensorflow/tfjs-backend-cpu`; `initBackend` does both.
 */
export function registerCpuKernelFixes(): void {
  if (registered) return;
  if (tf.getKernel('Add', 'cpu') === undefined) {
    throw new GensynthError('BACKEND_UNAVAILABLE', {
      where: 'registerCpuKernelFixes',
      expected: 'the stock kernels of @tensorflow/tfjs-backend-cpu to be registered',
      received: "no 'Add' kernel for backend 'cpu'",
      fix: "Import '@tensorflow/tfjs-backend-cpu' first, or call initBackend() which does both.",
    });
  }
  for (const config of CPU_KERNEL_FIXES) {
    const stock = tf.getKernel(config.kernelName, 'cpu');
    if (stock !== undefined) {
      if (!STOCK_KERNELS.has(config.kernelName)) STOCK_KERNELS.set(config.kernelName, stock);
      tf.unregisterKernel(config.kernelName, 'cpu');
    }
    tf.registerKernel(config);
  }
  registered = true;
}
