/**
 * Worker-thread entry of the decode pool (built to `dist/decode-worker.{js,cjs}`). It receives a
 * list of files and the dataset's pixel options, decodes and fits each one, and sends back one
 * buffer of `[n, H, W, C]` uint8 pixels (transferred, not copied) plus the failures.
 */
import { parentPort } from 'node:worker_threads';
import { decodeFileJob, type DecodeJob } from './job';

parentPort?.on('message', (job: DecodeJob) => {
  decodeFileJob(job).then(
    (result) => parentPort?.postMessage(result, [result.pixels.buffer as ArrayBuffer]),
    (error: unknown) =>
      parentPort?.postMessage({ id: job.id, error: String((error as Error)?.message ?? error) }),
  );
});
