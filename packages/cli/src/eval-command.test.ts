import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { setLogger, silentLogger } from '@gensynth/core';
import { loadMnistPackage } from '@gensynth/data';
import { runEval } from './eval-command';

async function writeDigits(dir: string, count: number, shade: number): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i += 1) {
    const pixels = Buffer.alloc(28 * 28, (shade + i * 29) % 256);
    await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(path.join(dir, `digit-${i}.png`));
  }
}

describe('runEval', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gensynth-eval-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Its own test file, so no backend is active yet, as in a fresh `gensynth eval` process.
  it('scores a folder against a folder when no backend was active before', async () => {
    setLogger(silentLogger);
    await writeDigits(path.join(dir, 'fake'), 6, 10);
    await writeDigits(path.join(dir, 'real'), 6, 90);
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (
      chunks.push(String(chunk)),
      true
    )) as typeof process.stdout.write;
    try {
      await runEval(path.join(dir, 'fake'), { against: path.join(dir, 'real'), n: 6, json: true });
    } finally {
      process.stdout.write = write;
    }
    const report = JSON.parse(chunks.join(''));
    expect(Number.isFinite(report.fid)).toBe(true);
    expect(report.generated).toBe(`the images in ${path.join(dir, 'fake')}`);
  });

  it('scores against the digits of the mnist package: real digits far better than flat images', async () => {
    const { pixels } = loadMnistPackage();
    const realDir = path.join(dir, 'mnist-real');
    fs.mkdirSync(realDir);
    for (let i = 0; i < 100; i += 1) {
      const digit = Buffer.from(pixels.subarray(i * 100 * 784, i * 100 * 784 + 784)); // every 100th
      await sharp(digit, { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toFile(path.join(realDir, `digit-${i}.png`));
    }
    await writeDigits(path.join(dir, 'flat'), 100, 10);
    const fidOf = async (folder: string) => {
      const chunks: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string) => (
        chunks.push(String(chunk)),
        true
      )) as typeof process.stdout.write;
      try {
        await runEval(folder, { against: 'mnist-package', n: 100, json: true });
      } finally {
        process.stdout.write = write;
      }
      const report = JSON.parse(chunks.join(''));
      expect(report.reference).toBe('mnist-package');
      return report.fid as number;
    };
    const [real, flat] = [await fidOf(realDir), await fidOf(path.join(dir, 'flat'))];
    expect(real).toBeLessThan(flat / 5);
  });
});
