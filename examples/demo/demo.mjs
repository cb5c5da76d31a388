// The main gensynth demo: a DCGAN learns to draw handwritten digits from 10,000 real MNIST
// images, on the fastest backend present (WebAssembly with gensynth's training kernels when no
// native TensorFlow is installed), in a few minutes on two CPU cores.
//
//   npm run demo                      # the full run (see demo.yaml for every setting)
//   npm run demo -- --steps 3000      # longer
//   npm run demo -- --smoke           # a seconds-long run that also checks every artifact (CI)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger, setLogger } from '@gensynth/core';
import {
  buildDatasets,
  fidFloor,
  formatRunSummary,
  loadConfigFile,
  resolveConfig,
  runExperiment,
} from '@gensynth/cli';
import { verifyRun } from './verify.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

// 1. Hyperparameters: demo.yaml, with a few command-line overrides.
const { values: flags } = parseArgs({
  options: {
    steps: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    'run-dir': { type: 'string' },
    backend: { type: 'string' },
    progress: { type: 'string', default: 'auto' },
    quiet: { type: 'boolean', default: false },
  },
});
setLogger(createLogger(flags.quiet ? 'warn' : 'info'));

const base = loadConfigFile(path.join(here, 'demo.yaml'));
const smoke = flags.smoke
  ? {
      name: 'demo-smoke',
      train: { ...base.train, steps: 12, logEvery: 3, sampleEvery: 6, checkpointEvery: 6 },
      eval: { fid: true, numSamples: 128 },
    }
  : {};
const config = resolveConfig({
  ...base,
  ...smoke,
  runDir: path.resolve(flags['run-dir'] ?? (flags.smoke ? 'runs/demo-smoke' : base.runDir)),
  ...(flags.backend ? { backend: flags.backend } : {}),
  ...(flags.steps ? { train: { ...base.train, ...smoke.train, steps: Number(flags.steps) } } : {}),
});

const { train, data, model } = config;
process.stdout.write(
  `gensynth demo: DCGAN (z=${model.latentDim}, ${model.loss} loss, Adam ${model.learningRate}) on ` +
    `${data.source} digits at ${data.imageSize}x${data.imageSize}, ${train.steps} steps of ` +
    `${train.batchSize}, run directory ${path.relative(process.cwd(), config.runDir)}\n`,
);

// 2-5. Data, model, training loop, samples, checkpoints, FID and the report, in one call.
const result = await runExperiment(config, { progress: flags.progress });
process.stdout.write(`${formatRunSummary(result)}\n`);
result.model.dispose();

// 6. The floor: FID of as many real training digits against the same validation digits.
if (config.eval.fid) {
  const { train: trainSet, validation } = await buildDatasets(config);
  const floor = await fidFloor(trainSet, validation, config.eval.numSamples);
  process.stdout.write(
    `\nFID floor ${floor.toFixed(3)}: ${config.eval.numSamples} real training digits scored ` +
      `against the ${validation.size} validation digits the same way (a perfect generator's FID)\n`,
  );
}

// CI's smoke run also checks that every artifact exists and is valid.
if (flags.smoke) {
  const checks = await verifyRun(config.runDir);
  for (const line of checks) process.stdout.write(`  ok  ${line}\n`);
  process.stdout.write(`demo smoke: ${checks.length} artifact checks passed\n`);
}
