import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend';
import { createLogger } from './logger';
import { isGensynthError } from './errors';

function notInstalled(name: string) {
  return async () => {
    const e = new Error(`Cannot find module '${name}'`) as Error & { code: string };
    e.code = 'MODULE_NOT_FOUND';
    throw e;
  };
}

describe('initBackend', () => {
  const lines: string[] = [];
  const logger = createLogger('debug', (level, m) => lines.push(`${level} ${m}`));
  beforeEach(() => (lines.length = 0));

  it('falls back past missing native packages to the next backend and logs why', async () => {
    const choice = await initBackend({
      logger,
      loaders: {
        'node-gpu': notInstalled('@tensorflow/tfjs-node-gpu'),
        node: notInstalled('@tensorflow/tfjs-node'),
      },
    });
    expect(choice.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.skipped.map((s) => s.name)).toEqual(['node-gpu', 'node']);
    expect(choice.skipped[0]!.reason).toBe('@tensorflow/tfjs-node-gpu is not installed');
    expect(lines.some((l) => l.startsWith('info backend: using wasm'))).toBe(true);
  });

  it('falls back to cpu when wasm fails to load', async () => {
    const choice = await initBackend({
      logger,
      loaders: {
        'node-gpu': notInstalled('a'),
        node: notInstalled('b'),
        wasm: async () => {
          throw new Error('simulated wasm failure');
        },
      },
    });
    expect(choice.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(choice.skipped[2]).toEqual({
      name: 'wasm',
      reason: 'failed to load: simulated wasm failure',
    });
  });

  it('honours force, and fails clearly when the forced backend is missing', async () => {
    expect((await initBackend({ force: 'cpu', logger })).name).toBe('cpu');
    expect((await initBackend({ force: 'wasm', logger })).name).toBe('wasm');
    await expect(
      initBackend({
        force: 'node',
        logger,
        loaders: { node: notInstalled('@tensorflow/tfjs-node') },
      }),
    ).rejects.toThrow(
      "initBackend(force: 'node'): expected a tfjs backend that loads; received node (@tensorflow/tfjs-node is not installed). Install @tensorflow/tfjs-node",
    );
  });

  it('tries preferred backends first', async () => {
    const choice = await initBackend({ prefer: ['cpu'], logger });
    expect(choice.name).toBe('cpu');
    expect(choice.skipped).toEqual([]);
  });

  it('rejects an unknown backend name', async () => {
    const err = await initBackend({ force: 'webgpu' as never }).catch((e: unknown) => e);
    expect(isGensynthError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toContain("expected one of 'node-gpu', 'node', 'wasm', 'cpu'");
  });
});
