#!/usr/bin/env node
// `npm run bench [-- args]`: builds the packages, then runs the benchmarks in bench/ with the
// arguments passed through. bench/run.mjs, when present, decides what runs; otherwise every
// top-level bench/*.mjs runs in name order, e.g. `npm run bench -- --steps 5 --no-peers`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = path.join(root, 'bench');
const args = process.argv.slice(2);

function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

const entry = path.join(benchDir, 'run.mjs');
const scripts = existsSync(entry)
  ? [entry]
  : existsSync(benchDir)
    ? readdirSync(benchDir)
        .filter((name) => name.endsWith('.mjs'))
        .sort()
        .map((name) => path.join(benchDir, name))
    : [];
if (scripts.length === 0) {
  process.stderr.write('gensynth bench: expected bench/run.mjs or bench/*.mjs; found none.\n');
  process.exit(1);
}

const built = run('npx', [
  'turbo',
  'run',
  'build',
  '--output-logs=errors-only',
  '--filter=./packages/*',
]);
if (built !== 0) process.exit(built);

let status = 0;
for (const script of scripts) {
  process.stdout.write(`\n== ${path.relative(root, script)} ${args.join(' ')}\n`);
  status = run(process.execPath, [script, ...args]) || status;
}
process.exit(status);
