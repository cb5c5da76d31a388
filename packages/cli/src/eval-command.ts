/**
 * `gensynth eval <run-or-dir> --against <dir-or-stats>`: FID under the digit classifier's
 * features, of a run's samples or a folder of images, against a folder or saved statistics.
 */
import fs from 'node:fs';
import path from 'node:path';
import { deriveSeed, getLogger, initBackend } from '@gensynth/core';
import { imageFolder, mnistPackage } from '@gensynth/data';
import {
  computeFid,
  createDigitFeatureExtractor,
  extractStatistics,
  FeatureStats,
  type ImageSource,
} from '@gensynth/metrics';
import { loadLatestGoodCheckpoint, restoreCheckpoint } from '@gensynth/train';
import { modelFromConfig } from './experiment';
import { readStoredExperiment, selectBackend } from './stored';

export interface EvalCommandOptions {
  against: string;
  n: number;
  saveStats?: string;
  json?: boolean;
}

const isRunDir = (dir: string) => fs.existsSync(path.join(dir, 'config.json'));

/** Images of a folder, gray, at the classifier's 28x28. */
function folderImages(dir: string) {
  return imageFolder(dir, { imageSize: 28, channels: 1 });
}

export async function runEval(target: string, opts: EvalCommandOptions): Promise<void> {
  // The backend first: the extractor's weights are tensors, which need one.
  const runDir = isRunDir(target);
  if (runDir) await selectBackend(await readStoredExperiment(target));
  else await initBackend();
  const extractor = createDigitFeatureExtractor();
  let dispose = () => {};
  try {
    let fake: ImageSource;
    let what: string;
    if (runDir) {
      const checkpoint = await loadLatestGoodCheckpoint(target, getLogger());
      const model = modelFromConfig(checkpoint.state.modelConfig);
      dispose = () => model.dispose();
      await restoreCheckpoint(model, checkpoint);
      fake = (n, batch) => model.sample(n, { seed: deriveSeed(0, 7, batch) });
      what = `${opts.n} samples of ${target} at step ${checkpoint.step}`;
    } else {
      fake = await folderImages(target);
      what = `the images in ${target}`;
    }
    // All of the reference: --n limits only the generated side.
    const real = opts.against.toLowerCase().endsWith('.json')
      ? await FeatureStats.load(opts.against)
      : await extractStatistics(
          extractor,
          opts.against === 'mnist-package'
            ? mnistPackage({ imageSize: 28 })
            : await folderImages(opts.against),
          { batchSize: 100 },
        );
    const result = await computeFid({ extractor, real, fake, maxImages: opts.n, batchSize: 100 });
    if (opts.saveStats) await result.real.save(opts.saveStats);
    const report = {
      fid: result.fid,
      generated: what,
      reference: opts.against,
      extractor: extractor.name,
    };
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(report)}\n`
        : `FID ${result.fid.toFixed(3)} (${what} vs ${opts.against}, ${extractor.name} features)\n`,
    );
  } finally {
    dispose();
    extractor.dispose();
  }
}
