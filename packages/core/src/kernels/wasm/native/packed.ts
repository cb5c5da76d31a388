/**
 * Packed weights for the native convolutions and products, cached per weights tensor.
 *
 * A layer's weights tensor is read by several calls per training step (a discriminator's
 * filters by its forward pass on the real and on the fake batch and by the input gradients), and
 * tfjs tensors never change, so each packing (`pack_weights` in `wasm/kernels.c`) is made once
 * per weights tensor and layout and kept until that tensor is disposed (`DerivedFilterCache`).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackend } from '../composite';
import { DerivedFilterCache } from '../filter_cache';
import { heapOffset } from './module';

const cache = new DerivedFilterCache();

/**
 * The heap offset of `size` floats derived from `source` under `key`; `fill(dst)` writes them at
 * heap offset `dst` on a miss.
 */
export function packedFrom(
  backend: object,
  source: TensorInfo,
  key: string,
  size: number,
  fill: (dst: number) => void,
): number {
  const wasm = backend as WasmBackend;
  const packed = cache.get(wasm, source, `${key}:${source.shape.join('x')}`, () => {
    const out = wasm.makeOutput([size], 'float32');
    fill(heapOffset(backend, out));
    return out;
  });
  return heapOffset(backend, packed);
}

/** Free every cached packing (tests). */
export function clearPackedWeights(backend: object): void {
  cache.clear(backend as WasmBackend);
}
