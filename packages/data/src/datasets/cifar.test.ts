import * as path from 'node:path';
import { isGensynthError } from '@gensynth/core';
import { tmpDir, write } from '../testing/tmp';
import { CIFAR_RECORD_BYTES, cifar10 } from './cifar';

/** A CIFAR-10 record: label, then R, G, B planes of 32x32. `marker` sets one pixel's RGB. */
function record(
  label: number,
  fill: [number, number, number],
  marker?: { row: number; col: number; rgb: [number, number, number] },
): Buffer {
  const bytes = Buffer.alloc(CIFAR_RECORD_BYTES);
  bytes[0] = label;
  for (let c = 0; c < 3; c++) bytes.fill(fill[c]!, 1 + c * 1024, 1 + (c + 1) * 1024);
  if (marker)
    for (let c = 0; c < 3; c++) bytes[1 + c * 1024 + marker.row * 32 + marker.col] = marker.rgb[c]!;
  return bytes;
}

describe('cifar10', () => {
  const dir = tmpDir('cifar');
  const names = [
    'airplane',
    'automobile',
    'bird',
    'cat',
    'deer',
    'dog',
    'frog',
    'horse',
    'ship',
    'truck',
  ];
  write(path.join(dir, 'batches.meta.txt'), `${names.join('\n')}\n\n`);
  for (let k = 1; k <= 5; k++)
    write(
      path.join(dir, `data_batch_${k}.bin`),
      Buffer.concat([record(k, [10 * k, 0, 0]), record(9, [0, 0, 0])]),
    );
  const marker = { row: 0, col: 31, rgb: [250, 125, 5] as [number, number, number] };
  write(path.join(dir, 'test_batch.bin'), Buffer.concat([record(3, [1, 2, 3], marker)]));

  it('reads the marker pixel of a record back at row 0, column 31', async () => {
    const ds = cifar10(dir, { split: 'test' });
    expect(ds.size).toBe(1);
    expect(ds.imageShape).toEqual({ height: 32, width: 32, channels: 3 });
    const { pixels, labels } = await ds.read([0]);
    expect(Array.from(pixels.subarray(31 * 3, 32 * 3))).toEqual([250, 125, 5]);
    expect(Array.from(pixels.subarray(30 * 3, 31 * 3))).toEqual([1, 2, 3]);
    expect(Array.from(pixels.subarray(32 * 3, 33 * 3))).toEqual([1, 2, 3]); // row 1, column 0
    expect(Array.from(labels!)).toEqual([3]);
  });

  it('concatenates the five training batches in order, with class names from batches.meta.txt', async () => {
    const ds = cifar10(dir);
    expect(ds.size).toBe(10);
    expect(ds.classNames).toEqual(names);
    expect(Array.from(ds.labels!)).toEqual([1, 9, 2, 9, 3, 9, 4, 9, 5, 9]);
    const { pixels } = await ds.read([4]);
    expect(Array.from(pixels.subarray(0, 3))).toEqual([30, 0, 0]);
  });

  it('converts to gray with the 601 luma weights', async () => {
    const ds = cifar10(dir, { split: 'test', channels: 1 });
    const { pixels } = await ds.read([0]);
    // (19595 * 250 + 38470 * 125 + 7471 * 5 + 32768) >> 16 = 149
    expect(pixels[31]).toBe(149);
  });

  const bad = tmpDir('cifar-bad');

  it('names a batch file whose size is not a multiple of 3073 bytes', () => {
    for (let k = 1; k <= 5; k++) write(path.join(bad, `data_batch_${k}.bin`), record(0, [0, 0, 0]));
    write(
      path.join(bad, 'data_batch_3.bin'),
      Buffer.concat([record(0, [0, 0, 0]), Buffer.alloc(100)]),
    );
    try {
      cifar10(bad);
      throw new Error('expected an error');
    } catch (error) {
      expect(isGensynthError(error, 'DATA_FORMAT')).toBe(true);
      expect((error as Error).message).toContain('data_batch_3.bin');
      expect((error as Error).message).toContain('3173 bytes');
      expect((error as Error).message).toMatch(
        /data_batch_3\.bin: expected a size that is a multiple of the 3073-byte CIFAR-10 record; received 3173 bytes \(1 records and 100 bytes over\)\. The file is truncated/,
      );
    }
  });

  const empty = tmpDir('cifar-empty');
  const hundred = tmpDir('cifar-100');

  it('names an empty batch file and labels beyond the class names', () => {
    write(path.join(empty, 'test_batch.bin'), Buffer.alloc(0));
    expect(() => cifar10(empty, { split: 'test' })).toThrow(
      /test_batch\.bin: expected .*; received 0 bytes/,
    );
    write(path.join(hundred, 'batches.meta.txt'), 'a\nb\n');
    write(path.join(hundred, 'test_batch.bin'), record(57, [0, 0, 0]));
    expect(() => cifar10(hundred, { split: 'test' })).toThrow(
      /cifar10: expected labels below 2 \(the class names in batches\.meta\.txt\); received label 57/,
    );
  });
});
