/**
 * The commands of `gensynth`. Each is a thin layer over the libraries: parse, validate, call,
 * print where the results are.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CommanderError, InvalidArgumentError, Option, type Command } from 'commander';
import { getLogger, invalidArgument, isGensynthError } from '@gensynth/core';
import {
  loadLatestGoodCheckpoint,
  PROGRESS_MODES,
  restoreCheckpoint,
  writeImageGrid,
  type ProgressMode,
} from '@gensynth/train';
import { loadConfigFile, resolveConfig, type ExperimentConfig } from './config';
import {
  modelFromConfig,
  resumeExperiment,
  runDirOf,
  runExperiment,
  type ExperimentResult,
} from './experiment';
import { runInspect, SOURCE_KINDS, type InspectCommandOptions } from './inspect';
import { runEval } from './eval-command';
import { formatRunSummary } from './summary';
import { readStoredExperiment, selectBackend } from './stored';

/** The version in this package's package.json (`src/` and `dist/` both sit one level below it). */
export const VERSION: string = (createRequire(__filename)('../package.json') as { version: string })
  .version;

/** 0 success (and --help), 2 bad usage or config, 1 anything else. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof InvalidArgumentError) return 2;
  if (isGensynthError(error, 'INVALID_CONFIG') || isGensynthError(error, 'INVALID_ARGUMENT'))
    return 2;
  return 1;
}

function integer(name: string, min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}; received ${value}.`);
    }
    return n;
  };
}

const progressOption = () =>
  new Option('--progress <mode>', "progress output ('plain' is 'lines')")
    .choices([...PROGRESS_MODES])
    .default('auto');

/** The config file of `gensynth train`: `--config <file>` or the first argument, not both. */
function configFileOf(positional: string | undefined, flag: string | undefined): string {
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw invalidArgument(
      'gensynth train',
      'one config file',
      `${positional} (argument) and ${flag} (--config)`,
      'Pass the config once: gensynth train --config <file>.',
    );
  }
  const file = flag ?? positional;
  if (file === undefined) {
    throw invalidArgument(
      'gensynth train',
      'a config file: gensynth train --config <file> (or gensynth train <file>)',
      'none',
      'Pass a YAML or JSON config; examples/demo/demo.yaml is a working one.',
    );
  }
  return file;
}

/** Refuse a run directory that already holds a run, with the command that continues it. */
function requireNewRunDir(config: ExperimentConfig): void {
  const runDir = runDirOf(config);
  if (!fs.existsSync(path.join(runDir, 'config.json'))) return;
  const relative = path.relative(process.cwd(), runDir);
  const shown = relative === '' ? '.' : relative.startsWith('..') ? runDir : relative;
  throw invalidArgument(
    'gensynth train',
    'a new or empty run directory',
    `${shown}, which already holds a run (config.json)`,
    `Continue it with \`npx gensynth resume ${shown}\`, or train into another one with --run-dir <dir>.`,
  );
}

/** Print where a run's results are; a run stopped by Ctrl-C exits 130. */
function printSummary(result: ExperimentResult): void {
  process.stdout.write(`${formatRunSummary(result)}\n`);
  if (result.stopped === 'aborted') process.exitCode = 130;
}

/**
 * Run `body` with Ctrl-C (SIGINT) wired to its abort signal: the first stops training at the
 * current step with a checkpoint there, a second exits at once.
 */
export async function withInterrupt<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(
      '\ngensynth: interrupted; saving a checkpoint at the current step (Ctrl-C again to quit without one)\n',
    );
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  try {
    return await body(controller.signal);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

/** Register the commands on `program` and run it with `argv`. */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  program
    .name('gensynth')
    .description('Train, evaluate and sample generative image models on TensorFlow.js.')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('train')
    .description('train the experiment a YAML or JSON config describes')
    .argument('[config]', 'config file, the same as --config')
    .option('--config <file>', 'YAML or JSON config file (see examples/demo/demo.yaml)')
    .option('--steps <n>', 'override train.steps', integer('--steps'))
    .option('--run-dir <dir>', 'override runDir')
    .addOption(
      new Option('--backend <name>', 'override backend').choices([
        'auto',
        'node-gpu',
        'node',
        'wasm',
        'cpu',
      ]),
    )
    .addOption(progressOption())
    .action(
      async (
        positional: string | undefined,
        opts: {
          config?: string;
          steps?: number;
          runDir?: string;
          backend?: string;
          progress: ProgressMode;
        },
      ) => {
        const loaded = loadConfigFile(configFileOf(positional, opts.config));
        const config = resolveConfig({
          ...loaded,
          ...(opts.runDir ? { runDir: opts.runDir } : {}),
          ...(opts.backend ? { backend: opts.backend } : {}),
        });
        requireNewRunDir(config);
        const result = await withInterrupt((signal) =>
          runExperiment(config, {
            progress: opts.progress,
            signal,
            ...(opts.steps !== undefined ? { steps: opts.steps } : {}),
          }),
        );
        printSummary(result);
        result.model.dispose();
      },
    );

  program
    .command('resume')
    .description('continue a run from its latest good checkpoint')
    .argument('<run-dir>', 'run directory written by `gensynth train`')
    .option('--steps <n>', "new total step count (default: the run's own)", integer('--steps'))
    .addOption(progressOption())
    .action(async (runDir: string, opts: { steps?: number; progress: ProgressMode }) => {
      const result = await withInterrupt((signal) =>
        resumeExperiment(runDir, {
          progress: opts.progress,
          signal,
          ...(opts.steps !== undefined ? { steps: opts.steps } : {}),
        }),
      );
      printSummary(result);
      result.model.dispose();
    });

  program
    .command('sample')
    .description('draw images from a trained run into a PNG grid')
    .argument('<run-dir>', 'run directory')
    .option('--n <count>', 'number of images', integer('--n'), 64)
    .option('--out <file>', 'output PNG', 'samples.png')
    .option('--seed <seed>', 'seed of the latent noise', integer('--seed', 0), 0)
    .action(async (runDir: string, opts: { n: number; out: string; seed: number }) => {
      const config = await readStoredExperiment(runDir);
      await selectBackend(config);
      const checkpoint = await loadLatestGoodCheckpoint(runDir, getLogger());
      const model = modelFromConfig(checkpoint.state.modelConfig);
      try {
        await restoreCheckpoint(model, checkpoint);
        const images = model.sample(opts.n, { seed: opts.seed });
        try {
          await writeImageGrid(opts.out, images);
        } finally {
          images.dispose();
        }
      } finally {
        model.dispose();
      }
      process.stdout.write(
        `wrote ${opts.n} samples from step ${checkpoint.step} to ${path.resolve(opts.out)}\n`,
      );
    });

  program
    .command('eval')
    .description(
      "FID of a run's samples (or a folder of images) against a folder or saved statistics",
    )
    .argument('<run-or-dir>', 'run directory, or a folder of images')
    .requiredOption(
      '--against <dir-or-stats>',
      'folder of reference images, a statistics JSON file, or mnist-package (its 10,000 digits)',
    )
    .option('--n <count>', 'images to generate from a run', integer('--n'), 2000)
    .option('--save-stats <file>', 'also save the reference statistics here')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        target: string,
        opts: { against: string; n: number; saveStats?: string; json?: boolean },
      ) => {
        await runEval(target, opts);
      },
    );

  const data = program.command('data').description('inspect datasets');
  data
    .command('inspect')
    .description('count, image shape, classes and skipped files of a source')
    .argument(
      '<source>',
      'image folder, CIFAR-10 folder, MNIST IDX file, CelebA folder, LSUN LMDB, or "mnist-package"',
    )
    .addOption(
      new Option('--type <kind>', 'source kind (default: detected)').choices([...SOURCE_KINDS]),
    )
    .option('--json', 'print JSON')
    .option('--full', 'decode every image, so truncated and corrupt files are listed too')
    .option('--labels <file>', 'IDX labels file, for an MNIST images file')
    .option(
      '--split <name>',
      'CIFAR-10 split (train, test, all) or CelebA split (train, validation, test, all)',
    )
    .action(async (source: string, opts: InspectCommandOptions) => {
      await runInspect(source, opts);
    });

  await program.parseAsync(argv);
}
