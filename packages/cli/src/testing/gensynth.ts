/**
 * Test support: run the `gensynth` command in-process and capture what it prints.
 */
import { Command } from 'commander';
import { exitCodeOf, runCli } from '../cli';

/** Run `gensynth ...args`; resolves to the exit code and everything it printed. */
export async function gensynth(...args: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => (
    chunks.push(String(chunk)),
    true
  )) as typeof process.stdout.write;
  const program = new Command().configureOutput({
    writeOut: (s) => chunks.push(s),
    writeErr: (s) => chunks.push(s),
  });
  try {
    await runCli(program, ['node', 'gensynth', ...args]);
    return { code: 0, out: chunks.join('') };
  } catch (error) {
    return { code: exitCodeOf(error), out: `${chunks.join('')}${(error as Error).message}` };
  } finally {
    process.stdout.write = write;
  }
}
