// The demo's run from code: a DCGAN learns the 10,000 real MNIST digits and is scored with FID
// against held-out digits. The root README shows this file from its first import on; a test
// checks that the two agree and runs it for a few steps.
//
//   npm start -w examples/programmatic            # 1500 steps, FID on 2000 samples
//   npm start -w examples/programmatic -- 20 200  # 20 steps, FID on 200 samples
import { initBackend } from '@gensynth/core';
import { mnistPackage, splitDataset } from '@gensynth/data';
import { computeFid, createDigitFeatureExtractor } from '@gensynth/metrics';
import { createDCGAN } from '@gensynth/models-gan';
import { train } from '@gensynth/train';

const [steps = 1500, fidSamples = 2000] = process.argv.slice(2).map(Number);
await initBackend(); // tfjs-node if installed, else WebAssembly with gensynth's kernels, else CPU
const digits = mnistPackage({ imageSize: 32 }); // [32, 32, 1] images in [-1, 1], labels 0-9
const split = splitDataset(digits, { seed: 42, fractions: { train: 0.9, validation: 0.1 } });
const model = createDCGAN({
  imageShape: digits.imageShape,
  latentDim: 64,
  generatorFilters: 32,
  discriminatorFilters: 32,
  seed: 42,
});
const extractor = createDigitFeatureExtractor(); // the small digit classifier shipped for FID
const result = await train({
  model,
  dataset: split.train,
  runDir: `runs/programmatic-${Date.now()}`,
  steps,
  seed: 42,
  evaluate: async (gan) => {
    const fake = (n: number, batch: number) => gan.sample(n, { seed: batch });
    const { fid } = await computeFid({
      extractor,
      real: split.validation,
      fake,
      maxImages: fidSamples,
    });
    return { fid };
  },
});
console.log(`step ${result.step}: FID ${result.metrics['fid']?.toFixed(1)} in ${result.runDir}`);
model.dispose();
extractor.dispose();
