#!/usr/bin/env node
// Sums the jest results every workspace's `test` script writes (`jest --json
// --outputFile=.jest-results.json`) and prints one line: `N passed, N failed`.
// A test suite that could not run (syntax error, import failure) counts as one failed test; a
// package under packages/ with a test script but no results file (jest crashed, or its build
// failed so turbo never ran it) counts as one failed test too. Details go to stderr.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let passed = 0;
let failed = 0;

function workspaces(folder) {
  const dir = path.join(root, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => path.join(dir, name))
    .filter((pkgDir) => existsSync(path.join(pkgDir, 'package.json')));
}

for (const [folder, required] of [
  ['packages', true],
  ['examples', false],
]) {
  for (const pkgDir of workspaces(folder)) {
    const manifest = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
    const resultsFile = path.join(pkgDir, '.jest-results.json');
    const label = path.relative(root, pkgDir);
    if (!existsSync(resultsFile)) {
      if (required && manifest.scripts?.test) {
        failed += 1;
        process.stderr.write(`${label}: no .jest-results.json (its tests did not run)\n`);
      }
      continue;
    }
    const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
    const brokenSuites = results.numRuntimeErrorTestSuites ?? 0;
    passed += results.numPassedTests ?? 0;
    failed += (results.numFailedTests ?? 0) + brokenSuites;
    process.stderr.write(
      `${label}: ${results.numPassedTests} passed, ${results.numFailedTests} failed` +
        (brokenSuites > 0 ? `, ${brokenSuites} suites failed to run` : '') +
        ` (${results.numTotalTestSuites} suites)\n`,
    );
  }
}

process.stdout.write(`${passed} passed, ${failed} failed\n`);
