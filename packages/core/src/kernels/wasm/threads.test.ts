/**
 * The threaded WASM build: it starts under Node with the thread count asked for, the kernels a
 * DCGAN step runs match the CPU backend on it, nothing leaks across many calls, a process that
 * trained on it exits by itself, and initBackend falls back to one thread when it cannot start.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../backend';
import { createLogger, silentLogger } from '../../logger';
import { onBothBackends, relativeError, seeded } from '../testing';
import { nativeKernelThreads } from './native/module';
import { resolveWasmThreads, threadedWasmThreads } from './threads';

interface WasmBackendView {
  numDataIds(): number;
  wasm: { HEAPU8: Uint8Array };
}

const lines: string[] = [];

beforeAll(async () => {
  await initBackend({ force: 'cpu', logger: silentLogger });
  const logger = createLogger('debug', (level, m) => lines.push(`${level} ${m}`));
  await initBackend({ force: 'wasm', threads: 2, logger });
});

/** Every output of `fn` on WASM (2 threads) within 1e-4 of the CPU backend, relative to scale. */
async function expectMatchesCpu(fn: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const { wasm, cpu } = await onBothBackends(fn);
  expect(wasm.map((r) => r.shape)).toEqual(cpu.map((r) => r.shape));
  wasm.forEach((r, i) => expect(relativeError(r.values, cpu[i]!.values)).toBeLessThan(1e-4));
}

describe('threaded WASM backend', () => {
  it('runs the number of threads asked for and logs it', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(threadedWasmThreads()).toBe(2);
    // gensynth's kernel module computes on 2 threads; XNNPACK keeps 1 for the small kernels.
    expect(nativeKernelThreads(tf.backend())).toBe(2);
    expect(getThreadsCount()).toBe(1);
    expect(lines).toContain(
      "info backend: using wasm (tfjs 'wasm', 2 thread(s), fused multiply-add)",
    );
  });

  it('matches the CPU backend on the convolutions of a DCGAN step', async () => {
    const x = seeded([4, 16, 16, 32], 1) as tf.Tensor4D; // [B, H, W, C]
    const w = seeded([4, 4, 32, 64], 2) as tf.Tensor4D;
    const bias = seeded([64], 3) as tf.Tensor1D;
    const dy = seeded([4, 8, 8, 64], 4) as tf.Tensor4D;
    const e = tf.engine();
    const conv = { strides: 2, pad: 'same', dataFormat: 'NHWC' };
    await expectMatchesCpu(() =>
      tf.fused.conv2d({ x, filter: w, strides: 2, pad: 'same', bias, activation: 'relu' }),
    );
    await expectMatchesCpu(
      () =>
        e.runKernel(
          'Conv2DBackpropInput',
          { dy, filter: w },
          { ...conv, inputShape: x.shape },
        ) as tf.Tensor,
    );
    await expectMatchesCpu(
      () =>
        e.runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { ...conv, filterShape: w.shape },
        ) as tf.Tensor,
    );
    tf.dispose([x, w, bias, dy]);
  });

  it('matches the CPU backend on the gradients of a conv, batch-norm and dense stack', async () => {
    const images = seeded([16, 8, 8, 3], 5) as tf.Tensor4D; // [B, H, W, C]
    const filter = tf.mul(seeded([4, 4, 3, 16], 6), 0.1) as tf.Tensor4D;
    const dense = tf.mul(seeded([4 * 4 * 16, 1], 7), 0.05) as tf.Tensor2D;
    const loss = (f: tf.Tensor, d: tf.Tensor) => {
      const h = tf.leakyRelu(tf.conv2d(images, f as tf.Tensor4D, 2, 'same'), 0.2); // [B, 4, 4, 16]
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      const [beta, gamma] = [tf.fill([16], 0.1), tf.fill([16], 1.5)];
      const normed = tf.batchNorm(h, mean, variance, beta, gamma, 1e-3);
      return tf.mean(tf.sigmoid(tf.matMul(tf.reshape(normed, [16, -1]), d as tf.Tensor2D)));
    };
    await expectMatchesCpu(() => tf.grads(loss)([filter, dense]));
    tf.dispose([images, filter, dense]);
  });

  it('leaks no tensors, data ids or heap across 300 training-size calls', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as WasmBackendView;
    const x = seeded([16, 16, 16, 32], 8) as tf.Tensor4D;
    const w = seeded([4, 4, 32, 64], 9) as tf.Tensor4D;
    const step = () =>
      tf.tidy(() => {
        const grad = tf.grad((input) =>
          tf.sum(tf.square(tf.conv2d(input as tf.Tensor4D, w, 2, 'same'))),
        );
        return tf.sum(grad(x));
      });
    tf.dispose(step()); // warm-up: operator caches and the heap reach their steady state
    const before = { ...tf.memory(), ids: backend.numDataIds(), heap: backend.wasm.HEAPU8.length };
    for (let i = 0; i < 300; i++) tf.dispose(step());
    const after = { ...tf.memory(), ids: backend.numDataIds(), heap: backend.wasm.HEAPU8.length };
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.ids).toBe(before.ids);
    expect(after.heap).toBe(before.heap);
    tf.dispose([x, w]);
  });

  it('lets a process that trained on 2 threads exit by itself', () => {
    // A child process compiles the sources with SWC (as jest does) and runs a few gradient steps.
    const hook = [
      "const fs = require('node:fs'); const swc = require('@swc/core');",
      "require.extensions['.ts'] = (m, f) => m._compile(swc.transformSync(fs.readFileSync(f, 'utf8'),",
      "  { filename: f, jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }).code, f);",
    ].join('\n');
    const script = [
      hook,
      `const { initBackend } = require(${JSON.stringify(path.join(__dirname, '../../backend.ts'))});`,
      `const { nativeKernelThreads } = require(${JSON.stringify(path.join(__dirname, 'native/module.ts'))});`,
      'const { silentLogger } = require(${LOGGER});',
      "const tf = require('@tensorflow/tfjs-core'); const wasm = require('@tensorflow/tfjs-backend-wasm');",
      'initBackend({ force: "wasm", threads: 2, logger: silentLogger }).then(() => {',
      // Large enough (2.4M multiply-adds) that the kernel threads share each call.
      '  const x = tf.ones([8, 16, 16, 8]); const w = tf.variable(tf.ones([3, 3, 8, 16]));',
      '  for (let i = 0; i < 3; i++) tf.dispose(tf.variableGrads(() => tf.sum(tf.conv2d(x, w, 1, "same"))));',
      '  process.stdout.write(`threads ${nativeKernelThreads(tf.backend())} xnnpack ${wasm.getThreadsCount()}\\n`);',
      '});',
    ]
      .join('\n')
      .replace('${LOGGER}', JSON.stringify(path.join(__dirname, '../../logger.ts')));
    const child = spawnSync(process.execPath, ['-e', script], {
      cwd: __dirname,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, GENSYNTH_WASM_THREADS: '' },
    });
    expect(child.error).toBeUndefined(); // a timeout (a worker keeping it alive) sets this
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('threads 2 xnnpack 1\n');
    expect(child.status).toBe(0);
  });
});

describe('threaded WASM backend after tf.engine().reset()', () => {
  it('starts a fresh threaded module when tfjs creates the backend again', async () => {
    tf.engine().reset(); // disposes the backend, whose dispose() ends the module's threads
    await initBackend({ force: 'wasm', threads: 2, logger: silentLogger });
    expect(nativeKernelThreads(tf.backend())).toBe(2);
    const x = tf.ones([2, 6, 6, 3]) as tf.Tensor4D;
    const y = tf.conv2d(x, tf.ones([3, 3, 3, 2]) as tf.Tensor4D, 1, 'valid');
    expect(Array.from(await y.data())).toEqual(new Array(2 * 4 * 4 * 2).fill(27));
    // A call big enough for both kernel threads: every output is the sum of 3 * 3 * 8 ones.
    const big = tf.conv2d(
      tf.ones([8, 16, 16, 8]) as tf.Tensor4D,
      tf.ones([3, 3, 8, 16]) as tf.Tensor4D,
      1,
      'valid',
    );
    expect(new Set(await big.data())).toEqual(new Set([72]));
  });
});

describe('resolveWasmThreads', () => {
  const saved = process.env.GENSYNTH_WASM_THREADS;
  afterEach(() => {
    if (saved === undefined) delete process.env.GENSYNTH_WASM_THREADS;
    else process.env.GENSYNTH_WASM_THREADS = saved;
  });

  it('takes the option first, then GENSYNTH_WASM_THREADS, capped at 8', async () => {
    const warnings: string[] = [];
    process.env.GENSYNTH_WASM_THREADS = '3';
    expect(await resolveWasmThreads(5, (m) => warnings.push(m))).toBe(5);
    expect(await resolveWasmThreads(undefined, (m) => warnings.push(m))).toBe(3);
    expect(await resolveWasmThreads(64, (m) => warnings.push(m))).toBe(8);
    expect(warnings).toEqual([]);
  });

  it('warns about a bad GENSYNTH_WASM_THREADS; initBackend rejects a bad option', async () => {
    const warnings: string[] = [];
    process.env.GENSYNTH_WASM_THREADS = 'many';
    const threads = await resolveWasmThreads(undefined, (m) => warnings.push(m));
    expect(threads).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toMatch(/^backend: ignoring GENSYNTH_WASM_THREADS="many"/);
    await expect(initBackend({ threads: 0, logger: silentLogger })).rejects.toThrow(
      'initBackend(threads): expected an integer >= 1; received 0. Pass the number of cores',
    );
  });
});
