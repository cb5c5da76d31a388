#!/usr/bin/env node
// `npm run demo [-- args]`: builds the packages the demo imports, then runs `examples/demo`
// (its `start` script), passing every argument through, e.g. `npm run demo -- --smoke`.
// Until that example exists it says what the demo will do and exits 1.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demoDir = path.join(root, 'examples', 'demo');
const demoManifest = path.join(demoDir, 'package.json');
const args = process.argv.slice(2);

if (!existsSync(demoManifest)) {
  process.stderr.write(
    [
      'gensynth demo: not available yet (examples/demo/package.json does not exist).',
      'When it lands, `npm run demo` will build the @gensynth packages, train a small generative',
      'model on real MNIST digits with the fastest backend present (WASM by default), sample a',
      'grid of images, score them, and print where it wrote the run. `npm run demo -- --smoke`',
      'will run a seconds-long version of the same steps, as CI does.',
      '',
    ].join('\n'),
  );
  process.exit(1);
}

const manifest = JSON.parse(readFileSync(demoManifest, 'utf8'));
if (!manifest.scripts?.start) {
  process.stderr.write(
    'gensynth demo: expected examples/demo/package.json to have a "start" script; received ' +
      `scripts ${JSON.stringify(Object.keys(manifest.scripts ?? {}))}. Add "start" to run it.\n`,
  );
  process.exit(1);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// Build only the demo and the workspace packages it depends on (turbo caches unchanged ones).
run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only', `--filter=${manifest.name}...`]);
run(npm, ['run', 'start', '--silent', '-w', 'examples/demo', '--', ...args]);
