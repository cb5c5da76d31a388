#!/usr/bin/env node
/**
 * The `gensynth` command. Exit codes: 0 success, 1 the run failed, 2 bad usage or config.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { createLogger, isGensynthError, setLogger, type LogLevel } from '@gensynth/core';
import { runCli } from './cli';

function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof InvalidArgumentError) return 2;
  if (isGensynthError(error, 'INVALID_CONFIG') || isGensynthError(error, 'INVALID_ARGUMENT')) return 2;
  return 1;
}

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
      process.stderr.write(`gensynth: ${message}\n`);
      if (process.env['GENSYNTH_DEBUG'] && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    }
    process.exitCode = code;
  }
}

void main();
