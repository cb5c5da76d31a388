/**
 * A small cache of filters derived from a layer's weights (for example the sub-pixel layout of a
 * transposed convolution's filter), keyed by the weights' data id.
 *
 * Why: XNNPACK packs a convolution's filter when it first meets it and caches the packed form
 * by tensor id. A derived filter rebuilt on every call is a new tensor each time, so it is
 * repacked each time; reusing one derived filter per weights tensor lets XNNPACK's cache hit,
 * e.g. when a generator runs twice per training step or a discriminator sees a real and a fake
 * batch. tfjs tensors are immutable (assigning a variable gives it a new data id), so an entry
 * stays valid while its source data id is alive. Reshapes share a data id, so keys must include
 * the source's shape.
 *
 * Memory: entries whose source was disposed are freed at the next lookup; at most
 * `MAX_ENTRIES` are kept, least recently used first out.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackend } from './composite';

const MAX_ENTRIES = 64;

interface Entry {
  source: object;
  key: string;
  filter: TensorInfo;
}

export class DerivedFilterCache {
  private readonly entries: Entry[] = [];

  /**
   * The filter derived from `source` under `key`; `build` makes it on a miss and must return a
   * heap tensor that the cache then owns (not one owned by a KernelScope).
   */
  get(backend: WasmBackend, source: TensorInfo, key: string, build: () => TensorInfo): TensorInfo {
    this.sweep(backend);
    const index = this.entries.findIndex((e) => e.source === source.dataId && e.key === key);
    if (index >= 0) {
      const [entry] = this.entries.splice(index, 1);
      this.entries.push(entry!);
      return entry!.filter;
    }
    const filter = build();
    this.entries.push({ source: source.dataId, key, filter });
    if (this.entries.length > MAX_ENTRIES) {
      backend.disposeData(this.entries.shift()!.filter.dataId);
    }
    return filter;
  }

  /** Free entries whose source tensor no longer exists. */
  private sweep(backend: WasmBackend): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i]!;
      if (!backend.dataIdMap.has(entry.source)) {
        backend.disposeData(entry.filter.dataId);
        this.entries.splice(i, 1);
      }
    }
  }

  /** Free every entry (for tests and backend shutdown). */
  clear(backend: WasmBackend): void {
    for (const entry of this.entries) backend.disposeData(entry.filter.dataId);
    this.entries.length = 0;
  }

  get size(): number {
    return this.entries.length;
  }
}
