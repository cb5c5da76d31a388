// Small process and timing helpers shared by the repository scripts.
import { spawnSync } from 'node:child_process';

/**
 * Runs a command and returns its exit status and output; never throws on a non-zero exit.
 * `inherit: true` streams output to this process instead of capturing it.
 */
export function run(command, args, { cwd, env, inherit = false, timeoutMs } = {}) {
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd,
    env: env ?? process.env,
    encoding: 'utf8',
    stdio: inherit ? 'inherit' : 'pipe',
    maxBuffer: 64 * 1024 * 1024,
    timeout: timeoutMs,
  });
  return {
    status: result.error ? 1 : (result.status ?? 1),
    stdout: result.stdout ?? '',
    stderr: result.error ? String(result.error) : (result.stderr ?? ''),
    seconds: (Date.now() - started) / 1000,
  };
}

/** Formats seconds as `12.3 s`. */
export function secs(seconds) {
  return `${seconds.toFixed(1)} s`;
}

/** Prints a step heading in CI logs. */
export function heading(text) {
  process.stdout.write(`\n== ${text}\n`);
}

/** Indents every line of `text` (for nested tool output). */
export function indent(text, prefix = '    ') {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}
