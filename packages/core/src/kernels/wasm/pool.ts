/**
 * `MaxPoolGrad` on WASM. The stock kernel of tfjs-backend-wasm 4.22 starts each window's running
 * maximum at 0, so a window whose values are all negative passes no gradient at all.
 *
 *   dy [B, Ho, Wo, C], input [B, H, W, C] -> dx [B, H, W, C]
 *   dx[b, y, x, c] = sum of dy[b, oy, ox, c] over the windows (oy, ox) whose maximum is at (y, x)
 *
 * Ties go to the first position in row-major window order, as on tfjs's CPU backend. Padded
 * positions never win. One pass in JavaScript over heap views.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { withScope } from './composite';

interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const dy = inputs.dy!;
    const input = inputs.input!;
    const a = attrs as unknown as MaxPoolGradAttrs;
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      a.filterSize,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
    const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
    const pt = info.padInfo.top;
    const pl = info.padInfo.left;
    return withScope(backend, (scope) => {
      const dx = scope.alloc(input.shape, 'float32');
      const xs = scope.view(input);
      const dys = scope.view(dy);
      const dxs = scope.view(dx);
      const best = new Float32Array(channels);
      const where = new Int32Array(channels);
      for (let b = 0; b < batchSize; b++) {
        for (let oy = 0; oy < outHeight; oy++) {
          const y0 = Math.max(0, oy * strideHeight - pt);
          const y1 = Math.min(inHeight, oy * strideHeight - pt + filterHeight);
          for (let ox = 0; ox < outWidth; ox++) {
            const x0 = Math.max(0, ox * strideWidth - pl);
            const x1 = Math.min(inWidth, ox * strideWidth - pl + filterWidth);
            best.fill(Number.NEGATIVE_INFINITY);
            where.fill(-1);
            for (let y = y0; y < y1; y++) {
              for (let x = x0; x < x1; x++) {
                const base = ((b * inHeight + y) * inWidth + x) * channels;
                for (let c = 0; c < channels; c++) {
                  const v = xs[base + c]!;
                  if (v > best[c]! || where[c] === -1) {
                    best[c] = v;
                    where[c] = base + c;
                  }
                }
              }
            }
            const dyBase = ((b * outHeight + oy) * outWidth + ox) * channels;
            for (let c = 0; c < channels; c++) {
              const target = where[c]!;
              if (target >= 0) dxs[target] = dxs[target]! + dys[dyBase + c]!;
            }
          }
        }
      }
      return dx;
    });
  },
};
