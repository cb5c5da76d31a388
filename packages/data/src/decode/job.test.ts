import * as path from 'node:path';
import { encodePng } from '../testing/png-writer';
import { tmpDir, write } from '../testing/tmp';
import { decodeFileJob } from './job';

describe('decodeFileJob (the work of one pool worker)', () => {
  const dir = tmpDir('job');
  const good = write(
    path.join(dir, 'good.png'),
    encodePng({
      width: 2,
      height: 2,
      colorType: 6,
      bitDepth: 8,
      samples: [1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255, 0, 0, 0, 0],
    }),
  );
  const bad = write(path.join(dir, 'bad.png'), 'not an image');

  it('decodes many files into one buffer and reports failures by index', async () => {
    const result = await decodeFileJob({
      id: 7,
      files: [good, bad, path.join(dir, 'missing.png')],
      imageShape: { height: 2, width: 2, channels: 3 },
      fit: {},
    });
    expect(result.id).toBe(7);
    expect(Array.from(result.pixels.subarray(0, 12))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 255, 255, 255,
    ]);
    expect(result.failures).toEqual([
      { index: 1, reason: 'not-an-image', detail: expect.any(String) },
      { index: 2, reason: 'unreadable', detail: expect.any(String) },
    ]);
  });
});
