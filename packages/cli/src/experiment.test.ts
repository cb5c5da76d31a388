import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  initBackend,
  isGensynthError,
  setLogger,
  silentLogger,
  type Dataset,
} from '@gensynth/core';
import { resolveConfig } from './config';
import { buildDatasets } from './experiment';

beforeAll(async () => {
  setLogger(silentLogger);
  await initBackend({ force: 'cpu', logger: silentLogger });
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gensynth-experiment-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every image of a dataset, in order: `[N, H, W, C]` and the labels. */
async function readAll(dataset: Dataset): Promise<{ images: number[][][][]; labels: number[] }> {
  const images: number[][][][] = [];
  const labels: number[] = [];
  for await (const batch of dataset.batches({ batchSize: 1, shuffle: false, epochs: 1 })) {
    images.push(...((await batch.images.array()) as number[][][][]));
    labels.push(...(batch.labels ? Array.from(await batch.labels.data()) : []));
    tf.dispose([batch.images, batch.labels].filter((t) => t !== undefined));
  }
  return { images, labels };
}

describe('buildDatasets', () => {
  it('reads CIFAR-10 binary batches, all five train files and the test file, and splits them', async () => {
    // Records: label byte, then 1024 R, 1024 G, 1024 B bytes in row-major order. Each image is
    // black but for a red marker at row 0, column 31; record k of file f has label (f + k) % 10.
    const cifarDir = path.join(dir, 'cifar-10-batches-bin');
    fs.mkdirSync(cifarDir);
    const files = [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`).concat('test_batch.bin');
    files.forEach((name, f) => {
      const records = Buffer.alloc(2 * 3073);
      for (let k = 0; k < 2; k++) {
        records[k * 3073] = (f + k) % 10;
        records[k * 3073 + 1 + 31] = 255; // R plane, row 0, column 31
      }
      fs.writeFileSync(path.join(cifarDir, name), records);
    });
    const config = resolveConfig({
      data: { source: 'cifar10', path: cifarDir, channels: 3, validationFraction: 0.25 },
    });
    const { train, validation } = await buildDatasets(config);
    expect([train.size, validation.size]).toEqual([9, 3]);
    expect(train.imageShape).toEqual({ height: 32, width: 32, channels: 3 });
    const all = [await readAll(train), await readAll(validation)];
    const labels = all.flatMap((part) => part.labels).sort((a, b) => a - b);
    expect(labels).toEqual([0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
    for (const image of all.flatMap((part) => part.images)) {
      expect(image[0]![31]).toEqual([1, -1, -1]); // the red marker, in [-1, 1]
      expect(image[0]![30]).toEqual([-1, -1, -1]);
      expect(image[31]![31]).toEqual([-1, -1, -1]);
    }
  });

  it('reads MNIST IDX images and labels and pads 28x28 to 32x32', async () => {
    const n = 4;
    const images = Buffer.alloc(16 + n * 28 * 28);
    images.writeUInt32BE(0x00000803, 0);
    [n, 28, 28].forEach((d, i) => images.writeUInt32BE(d, 4 + 4 * i));
    for (let k = 0; k < n; k++) images[16 + k * 784] = 255; // pixel (0, 0) of every digit
    const labels = Buffer.alloc(8 + n);
    labels.writeUInt32BE(0x00000801, 0);
    labels.writeUInt32BE(n, 4);
    [7, 2, 1, 0].forEach((label, k) => (labels[8 + k] = label));
    fs.writeFileSync(path.join(dir, 'images-idx3-ubyte'), images);
    fs.writeFileSync(path.join(dir, 'labels-idx1-ubyte'), labels);
    const config = resolveConfig({
      data: {
        source: 'mnist-idx',
        path: path.join(dir, 'images-idx3-ubyte'),
        labelsPath: path.join(dir, 'labels-idx1-ubyte'),
        validationFraction: 0.25,
      },
    });
    const { train, validation } = await buildDatasets(config);
    expect([train.size, validation.size]).toEqual([3, 1]);
    const all = [await readAll(train), await readAll(validation)];
    expect(all.flatMap((part) => part.labels).sort()).toEqual([0, 1, 2, 7]);
    for (const image of all.flatMap((part) => part.images)) {
      expect(image[2]![2]).toEqual([1]); // (0, 0) of the digit, 2 pixels of padding on each side
      expect(image[0]![0]).toEqual([-1]);
      expect(image[2]![3]).toEqual([-1]);
    }
  });

  it('asks for data.path, saying what it should name, when a source needs one', async () => {
    expect.assertions(2);
    try {
      await buildDatasets(resolveConfig({ data: { source: 'cifar10', channels: 3 } }));
    } catch (e) {
      expect(isGensynthError(e, 'INVALID_CONFIG')).toBe(true);
      expect((e as Error).message).toBe(
        "config data.path: expected the cifar-10-batches-bin folder for source 'cifar10'; " +
          'received nothing. Add data.path: <the cifar-10-batches-bin folder>.',
      );
    }
  });

  it('says data.path does not exist, and where relative paths start, before reading it', async () => {
    const config = resolveConfig({ data: { source: 'folder', path: 'no/such/folder' } });
    const error = await buildDatasets(config).catch((e: unknown) => e);
    expect(isGensynthError(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toContain(
      `received "no/such/folder", which does not exist (relative paths start from ${process.cwd()})`,
    );
  });
});
