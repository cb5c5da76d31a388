/**
 * `UnsortedSegmentSum` on WASM: the gradient of `gather` (embeddings, class conditioning).
 *
 *   x [N0, ..., Nk-1, ...inner]   segmentIds [N0, ..., Nk-1] int32
 *   out[s, ...inner] = sum over positions p with segmentIds[p] = s of x[p, ...inner]
 *
 * Output shape [numSegments, ...inner], as in TensorFlow. Negative ids are skipped (TensorFlow's
 * rule); ids >= numSegments are refused. A single pass over x on the heap, in JavaScript.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { GensynthError } from '../../errors';
import { kernelUnsupported, withScope } from './composite';

const KERNEL = 'UnsortedSegmentSum';

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const segmentIds = inputs.segmentIds!;
    const numSegments = (attrs as { numSegments: number }).numSegments;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') {
      throw kernelUnsupported(
        KERNEL,
        "x of dtype 'float32' or 'int32'",
        `'${x.dtype}'`,
        'Cast x to float32 first.',
      );
    }
    const idsRank = segmentIds.shape.length;
    const prefixMatches = segmentIds.shape.every((n, i) => n === x.shape[i]);
    if (idsRank > x.shape.length || !prefixMatches) {
      throw new GensynthError('SHAPE_MISMATCH', {
        where: `${KERNEL} (gensynth wasm kernel)`,
        expected: 'segmentIds whose shape is a prefix of the shape of x',
        received: `x [${x.shape.join(', ')}], segmentIds [${segmentIds.shape.join(', ')}]`,
        fix: 'Pass one segment id per leading position of x.',
      });
    }
    return withScope(backend, (scope) => {
      const inner = x.shape.slice(idsRank);
      const innerSize = inner.reduce((a, b) => a * b, 1);
      const out: TensorInfo = scope.alloc([numSegments, ...inner], x.dtype);
      const ids = scope.view(segmentIds);
      const src = scope.view(x);
      const dst = scope.view(out);
      for (let p = 0; p < ids.length; p++) {
        const s = ids[p]!;
        if (s < 0) continue;
        if (s >= numSegments) {
          throw new GensynthError('INVALID_ARGUMENT', {
            where: `${KERNEL} (gensynth wasm kernel)`,
            expected: `segment ids below numSegments = ${numSegments}`,
            received: `segmentIds[${p}] = ${s}`,
            fix: 'Raise numSegments or fix the ids (for gather, the index is out of range).',
          });
        }
        const from = p * innerSize;
        const to = s * innerSize;
        for (let i = 0; i < innerSize; i++) dst[to + i] = dst[to + i]! + src[from + i]!;
      }
      return out;
    });
  },
};
