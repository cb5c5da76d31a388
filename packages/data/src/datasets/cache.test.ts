import * as fs from 'node:fs';
import * as path from 'node:path';
import { isGensynthError } from '@gensynth/core';
import { tmpDir } from '../testing/tmp';
import { fromArrays } from './arrays';
import { openShard, withCache, writeShard } from './cache';
import { ImageDataset, type ExampleSource } from './dataset';

/** Three 1x2 gray images: pixels (10, 11), (20, 21), (30, 31); labels 2, 0, 1. */
const three = () =>
  fromArrays(Uint8Array.from([10, 11, 20, 21, 30, 31]), [3, 1, 2, 1], [2, 0, 1], {
    classNames: ['a', 'b', 'c'],
  });

describe('shard files', () => {
  const dir = tmpDir('cache');

  it('follow the documented layout: magic, header length, JSON, int32 labels, pixels', async () => {
    const file = path.join(dir, 'three.bin');
    await writeShard(three(), file, 'fingerprint');
    const bytes = fs.readFileSync(file);
    expect(bytes.toString('latin1', 0, 8)).toBe('GSYNSHD1');
    const length = bytes.readUInt32LE(8);
    const header = JSON.parse(bytes.toString('utf8', 12, 12 + length));
    expect(header).toMatchObject({
      version: 1,
      size: 3,
      imageShape: { height: 1, width: 2, channels: 1 },
      labelled: true,
      classNames: ['a', 'b', 'c'],
    });
    const labelsAt = 12 + length;
    expect([0, 1, 2].map((k) => bytes.readInt32LE(labelsAt + 4 * k))).toEqual([2, 0, 1]);
    expect(Array.from(bytes.subarray(labelsAt + 12))).toEqual([10, 11, 20, 21, 30, 31]);
  });

  it('read back the same pixels, labels and class names', async () => {
    const file = path.join(dir, 'round.bin');
    await writeShard(three(), file);
    const shard = openShard(file);
    expect(shard.size).toBe(3);
    expect(shard.classNames).toEqual(['a', 'b', 'c']);
    const { pixels, labels } = await shard.read([2, 0]);
    expect(Array.from(pixels)).toEqual([30, 31, 10, 11]);
    expect(Array.from(labels!)).toEqual([1, 2]);
  });

  it('name a truncated shard with the sizes', async () => {
    const file = path.join(dir, 'cut.bin');
    await writeShard(three(), file);
    fs.truncateSync(file, fs.statSync(file).size - 1);
    let error: unknown;
    try {
      openShard(file);
    } catch (e) {
      error = e;
    }
    expect(isGensynthError(error, 'DATA_FORMAT')).toBe(true);
    expect((error as Error).message).toContain(`${file}: expected`);
    expect((error as Error).message).toMatch(/received \d+ bytes\. Delete the truncated shard/);
  });

  it('are rebuilt when the fingerprint changes and reused when it does not', async () => {
    const file = path.join(dir, 'fp.bin');
    const reads: number[] = [];
    const counted = () => {
      const inner = three();
      const source: ExampleSource = {
        size: inner.size,
        imageShape: inner.imageShape,
        ...(inner.labels ? { labels: inner.labels } : {}),
        read: (indices, out) => {
          reads.push(indices.length);
          return inner.source.read(indices, out);
        },
      };
      return new ImageDataset(source, { name: 'counted' });
    };
    await withCache(counted(), file, 'one');
    await withCache(counted(), file, 'one');
    expect(reads).toEqual([3]); // written once, reused once
    await withCache(counted(), file, 'two');
    expect(reads).toEqual([3, 3]);
  });
});

describe("cache: 'memory'", () => {
  it('reads each example from the source once', async () => {
    const reads: number[][] = [];
    const inner = three();
    const source: ExampleSource = {
      size: inner.size,
      imageShape: inner.imageShape,
      read: (indices, out) => {
        reads.push(Array.from(indices));
        return inner.source.read(indices, out);
      },
    };
    const cached = await withCache(new ImageDataset(source, { name: 'm' }), 'memory', '');
    expect(Array.from((await cached.read([1, 2])).pixels)).toEqual([20, 21, 30, 31]);
    expect(Array.from((await cached.read([2, 0, 1])).pixels)).toEqual([30, 31, 10, 11, 20, 21]);
    expect(reads).toEqual([[1, 2], [0]]);
  });
});
