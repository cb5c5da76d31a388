#!/usr/bin/env node
// `npm run demo [-- args]`: builds the packages the demo imports, then runs
// `examples/demo/demo.mjs` from the repository root, passing every argument through, e.g.
// `npm run demo -- --smoke`.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demoDir = path.join(root, 'examples', 'demo');
const manifest = JSON.parse(readFileSync(path.join(demoDir, 'package.json'), 'utf8'));

function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// Build only the demo and the workspace packages it depends on (turbo caches unchanged ones).
run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only', `--filter=${manifest.name}...`]);
// From the root, so the run directory (runs/demo) and the commands the demo prints are relative
// to where the user typed `npm run demo`.
run(process.execPath, [path.join(demoDir, 'demo.mjs'), ...process.argv.slice(2)]);
