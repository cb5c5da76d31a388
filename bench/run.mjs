#!/usr/bin/env node
// Run gensynth's benchmarks one after another (`npm run bench` builds the packages first).
//
//   node bench/run.mjs [dcgan32] [conv] [decode] [fid] [-- ARGS for each benchmark]
//
// With no names, runs every benchmark whose script exists. Each one runs in its own Node process
// (a benchmark picks its tfjs backend once per process) and prints its own table; see
// BENCHMARKS.md for what each measures.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const BENCH_DIR = path.dirname(new URL(import.meta.url).pathname);

/** Known benchmarks in run order; a missing script is skipped with a note. */
const BENCHMARKS = Object.freeze([
  { name: 'dcgan32', script: 'dcgan32.mjs', what: 'DCGAN-32 training step vs PyTorch/TensorFlow' },
  { name: 'conv', script: 'conv-kernels.mjs', what: "DCGAN-32's convolution kernels, one by one" },
  { name: 'decode', script: 'decode.mjs', what: 'image decoding and resizing vs torchvision' },
  { name: 'fid', script: 'fid.mjs', what: 'FID linear algebra vs numpy/scipy' },
]);

const argv = process.argv.slice(2);
if (argv[0] === '--help' || argv[0] === '-h') {
  process.stdout.write('usage: npm run bench -- [name ...] [-- ARGS for each benchmark]\n\n');
  for (const b of BENCHMARKS) process.stdout.write(`  ${b.name.padEnd(8)} ${b.what}\n`);
  process.stdout.write('\nEach script takes --help too, e.g. `node bench/dcgan32.mjs --help`.\n');
  process.exit(0);
}
const split = argv.indexOf('--');
const names = split === -1 ? argv : argv.slice(0, split);
const passThrough = split === -1 ? [] : argv.slice(split + 1);

for (const name of names) {
  if (!BENCHMARKS.some((b) => b.name === name)) {
    const known = BENCHMARKS.map((b) => b.name).join(', ');
    process.stderr.write(`bench/run: expected benchmark names from ${known}; received '${name}'. `);
    process.stderr.write('Pass arguments for the benchmarks after --.\n');
    process.exit(2);
  }
}

const chosen = BENCHMARKS.filter((b) => names.length === 0 || names.includes(b.name));
let failed = 0;
for (const bench of chosen) {
  const script = path.join(BENCH_DIR, bench.script);
  if (!existsSync(script)) {
    process.stdout.write(`\n== ${bench.name}: skipped (${bench.script} does not exist yet)\n`);
    continue;
  }
  process.stdout.write(`\n== ${bench.name}: ${bench.what}\n`);
  const started = Date.now();
  const result = spawnSync(process.execPath, [script, ...passThrough], { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const status = result.status ?? result.signal;
  process.stdout.write(`== ${bench.name}: exit ${status} after ${seconds} s\n`);
  if (result.status !== 0) failed += 1;
}
process.exitCode = failed === 0 ? 0 : 1;
