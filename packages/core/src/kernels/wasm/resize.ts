/**
 * Resize gradients on WASM, from the shared implementations in `../resize_nearest_grad.ts` and
 * `../resize_bilinear_grad.ts` (one pass over dy on the heap). The stock ResizeBilinearGrad
 * ignores halfPixelCenters; the stock ResizeNearestNeighborGrad is replaced so that both
 * backends use the same, tested rule.
 */
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { resizeBilinearGradInto } from '../resize_bilinear_grad';
import { resizeNearestNeighborGradInto } from '../resize_nearest_grad';
import { withScope } from './composite';

/** A WASM kernel for `kernelName` that runs `gradInto` over dy on the heap. */
function resizeGradKernel(
  kernelName: string,
  gradInto: typeof resizeBilinearGradInto,
): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const images = inputs.images!;
      const dy = inputs.dy!;
      const { alignCorners, halfPixelCenters } = attrs as {
        alignCorners: boolean;
        halfPixelCenters?: boolean;
      };
      return withScope(backend, (scope) => {
        const dx = scope.alloc(images.shape, 'float32');
        const dxValues = scope.view(dx) as Float32Array;
        gradInto(
          scope.view(dy),
          dy.shape,
          dxValues,
          images.shape,
          alignCorners,
          halfPixelCenters ?? false,
        );
        return dx;
      });
    },
  };
}

export const resizeNearestNeighborGradConfig = resizeGradKernel(
  'ResizeNearestNeighborGrad',
  resizeNearestNeighborGradInto,
);

export const resizeBilinearGradConfig = resizeGradKernel(
  'ResizeBilinearGrad',
  resizeBilinearGradInto,
);
