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

export const resizeNearestNeighborGradConfig: KernelConfig = {
  kernelName: 'ResizeNearestNeighborGrad',
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
      const dyValues = scope.view(dy);
      const dxValues = scope.view(dx) as Float32Array;
      resizeNearestNeighborGradInto(
        dyValues,
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

export const resizeBilinearGradConfig: KernelConfig = {
  kernelName: 'ResizeBilinearGrad',
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
      const dyValues = scope.view(dy);
      const dxValues = scope.view(dx) as Float32Array;
      resizeBilinearGradInto(
        dyValues,
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
