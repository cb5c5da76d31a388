#!/usr/bin/env node
/**
 * The `gensynth` command. Exit codes: 0 success, 1 the run failed, 2 bad usage or config.
 */
import { Command, CommanderError } from 'commander';
import { createLogger, setLogger, type LogLevel } from '@gensynth/core';
import { exitCodeOf, runCli } from './cli';

async function main(): Promise<void> {
  const level = (process.env['GENSYNTH_LOG_LEVEL'] as LogLevel | undefined) ?? 'info';
  setLogger(createLogger(level));
  const program = new Command();
  try {
    await runCli(program, process.argv);
  } catch (error) {
    const code = exitCodeOf(error);
    if (!(error instanceof CommanderError)) {
      const message = error instanceof Error ? error.message : String(error);
      // Messages that already name the command (`gensynth train: ...`) are printed as they are.
      process.stderr.write(
        message.startsWith('gensynth') ? `${message}\n` : `gensynth: ${message}\n`,
      );
      if (process.env['GENSYNTH_DEBUG'] && error instanceof Error)
        process.stderr.write(`${error.stack}\n`);
    }
    process.exitCode = code;
  }
}

void main();
