/**
 * Leak checks. Every training step must leave `tf.memory().numTensors` unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GensynthError } from './errors';
import { getLogger, type Logger } from './logger';

/**
 * Run `fn` and throw a `MEMORY_LEAK` error if it leaves more live tensors than it found.
 * Tensors that `fn` returns are counted as leaks unless `allowReturned` says how many to allow.
 */
export async function expectNoLeaks<T>(
  fn: () => T | Promise<T>,
  options: { where?: string; allowReturned?: number } = {},
): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  const allowed = options.allowReturned ?? 0;
  if (after - before > allowed) {
    throw new GensynthError('MEMORY_LEAK', {
      where: options.where ?? 'expectNoLeaks',
      expected: `at most ${allowed} new live tensors`,
      received: `${after - before} (numTensors ${before} -> ${after})`,
      fix: 'Wrap synchronous tensor work in tf.tidy and dispose intermediate tensors in finally.',
    });
  }
  return result;
}

export interface MemoryWatchdogOptions {
  /** Called when the live tensor count grew since the baseline. Default: logs a warning. */
  onGrowth?: (report: {
    step: number;
    baseline: number;
    numTensors: number;
    growth: number;
  }) => void;
  /** Growth tolerated before reporting (default 0). */
  tolerance?: number;
  logger?: Logger;
}

/**
 * Watches `tf.memory().numTensors` across training steps. Call `check(step)` after each step;
 * the first call sets the baseline, later calls report growth beyond `tolerance`.
 */
export function memoryWatchdog(options: MemoryWatchdogOptions = {}) {
  const tolerance = options.tolerance ?? 0;
  let baseline: number | undefined;
  let lastReported = -1;
  const onGrowth =
    options.onGrowth ??
    ((r) =>
      (options.logger ?? getLogger()).warn(
        `memory: ${r.growth} more live tensors at step ${r.step} than at the first checked step ` +
          `(${r.baseline} -> ${r.numTensors}); a training step leaks tensors`,
      ));
  return {
    check(step: number): number {
      const numTensors = tf.memory().numTensors;
      if (baseline === undefined) {
        baseline = numTensors;
        return 0;
      }
      const growth = numTensors - baseline;
      if (growth > tolerance && numTensors !== lastReported) {
        lastReported = numTensors;
        onGrowth({ step, baseline, numTensors, growth });
      }
      return growth;
    },
    reset(): void {
      baseline = undefined;
      lastReported = -1;
    },
  };
}
