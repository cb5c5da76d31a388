import { createLogger } from '@gensynth/core';
import { resolveConfig } from './config';
import { selectBackend } from './stored';

const installed = (name: string) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
};

describe('selectBackend', () => {
  const itWithoutNodeGpu = installed('@tensorflow/tfjs-node-gpu') ? it.skip : it;

  itWithoutNodeGpu(
    'names --backend auto, not the library option, when a forced one is missing',
    async () => {
      const config = resolveConfig({ backend: 'node-gpu', data: { source: 'mnist-package' } });
      const error = await selectBackend(config, createLogger('silent')).catch((e: unknown) => e);
      expect((error as Error).message).toContain('@tensorflow/tfjs-node-gpu is not installed');
      expect((error as Error).message).toContain(
        'pass --backend auto (or set backend: auto in the config)',
      );
      expect((error as Error).message).not.toContain("drop 'force'");
    },
  );
});
