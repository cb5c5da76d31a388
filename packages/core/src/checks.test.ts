import * as tf from '@tensorflow/tfjs-core';
import { checkImageBatch, checkLive } from './checks';
import { initBackend } from './backend';
import { isGensynthError } from './errors';
import { silentLogger } from './logger';

beforeAll(async () => {
  await initBackend({ force: 'cpu', logger: silentLogger });
});

describe('checkImageBatch', () => {
  const shape = { height: 8, width: 8, channels: 1 } as const;

  it('accepts any batch size of the model image shape', () => {
    const images = tf.zeros([3, 8, 8, 1]);
    expect(() => checkImageBatch('M.f(images)', images, shape)).not.toThrow();
    images.dispose();
  });

  it('names the call, the expected shape and the received shape when they differ', () => {
    const images = tf.zeros([2, 16, 16, 1]);
    expect.assertions(2);
    try {
      checkImageBatch('M.f(images)', images, shape);
    } catch (e) {
      expect(isGensynthError(e, 'INVALID_ARGUMENT')).toBe(true);
      expect((e as Error).message).toBe(
        'M.f(images): expected a [B, 8, 8, 1] tensor; received shape [2, 16, 16, 1]. ' +
          'Resize or convert the images to the model imageShape.',
      );
    }
    images.dispose();
  });
});

describe('checkLive', () => {
  it('passes a live model and names the call on a disposed one', () => {
    expect(() => checkLive('M.sample', false)).not.toThrow();
    expect(() => checkLive('M.sample', true)).toThrow(
      'M.sample: expected a live model; received a disposed model. Create a new model; dispose() freed its weights.',
    );
  });
});
