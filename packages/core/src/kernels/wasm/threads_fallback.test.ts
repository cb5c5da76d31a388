/**
 * When the threaded WASM build cannot start, initBackend still gives a working single-threaded
 * 'wasm' backend and logs why. A file of its own: the build can start only once per process.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as wasmPackage from '@tensorflow/tfjs-backend-wasm';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../backend';
import { createLogger } from '../../logger';
import { startThreadedWasm, threadedWasmThreads } from './threads';

describe('initBackend with threads it cannot start', () => {
  const lines: string[] = [];
  const logger = createLogger('debug', (level, m) => lines.push(`${level} ${m}`));
  const savedTmp = process.env.TMPDIR;
  afterAll(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });

  it('refuses a worker folder that others can write to', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'gensynth-threads-test-'));
    const uid = process.getuid?.() ?? 'user';
    const shared = path.join(tmp, `gensynth-tfjs-wasm-${wasmPackage.version_wasm}-${uid}`);
    mkdirSync(shared);
    chmodSync(shared, 0o757); // others may write
    process.env.TMPDIR = tmp;
    try {
      await expect(startThreadedWasm(wasmPackage, 2)).rejects.toThrow(
        'belongs to another user or is open to others',
      );
    } finally {
      process.env.TMPDIR = savedTmp;
      rmSync(tmp, { recursive: true, force: true });
    }
    expect(threadedWasmThreads()).toBeUndefined();
  });

  it('falls back to one thread with a logged reason when the worker script cannot be written', async () => {
    process.env.TMPDIR = '/dev/null/not-a-directory';
    const choice = await initBackend({ force: 'wasm', threads: 2, logger });
    process.env.TMPDIR = savedTmp;
    expect(choice.name).toBe('wasm');
    expect(getThreadsCount()).toBe(1);
    expect(threadedWasmThreads()).toBeUndefined();
    const warning = lines.find((l) => l.startsWith('warn '));
    expect(warning).toMatch(
      /^warn backend: multi-threaded WebAssembly could not start \(.*not-a-directory.*\); using 1 thread$/,
    );
    const y = tf.conv2d(
      tf.ones([2, 4, 4, 3]) as tf.Tensor4D,
      tf.ones([3, 3, 3, 2]) as tf.Tensor4D,
      1,
      'same',
    );
    expect(Array.from(await y.data()).slice(0, 2)).toEqual([12, 12]);
  });

  it('says so when asked for threads after wasm already started single-threaded', async () => {
    lines.length = 0;
    const choice = await initBackend({ force: 'wasm', threads: 2, logger });
    expect(choice.name).toBe('wasm');
    expect(getThreadsCount()).toBe(1);
    expect(lines).toContain(
      "warn backend: multi-threaded WebAssembly could not start (the 'wasm' backend was already started single-threaded); using 1 thread",
    );
  });
});
