#!/usr/bin/env node
// Checks what users will actually install: builds every published package, packs it with
// `npm pack`, lints each tarball with publint (strict) and Are the Types Wrong, installs all
// tarballs plus the tfjs peers into a scratch project in a temp dir, then loads each package with
// ESM `import` and CJS `require`, type-checks a consumer under node16 and bundler
// resolution, and runs the `gensynth` bin.
//
// Usage: node scripts/check-packages.mjs [--no-build] [--keep] [--only core,data]
//   --no-build  use the dist/ folders as they are
//   --keep      keep the temp dir (its path is printed) to poke at the consumer project
//   --only      check only these packages (folder names under packages/)
// Exit status 0 when every check passes, 1 otherwise.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { TSC_PROJECTS, writeConsumer } from './lib/consumer.mjs';
import { manifestProblems } from './lib/manifest.mjs';
import { classifyTscErrors } from './lib/tsc-output.mjs';
import { heading, indent, run, secs } from './lib/proc.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

// Exports each package must keep: checked at runtime (ESM and CJS) and in the typed consumer.
// Add a package's main entry points here once it has them.
const KNOWN_EXPORTS = Object.freeze({
  '@gensynth/core': ['initBackend', 'GensynthError', 'isGensynthError', 'Rng', 'getLogger'],
  '@gensynth/data': ['imageFolder', 'mnistPackage', 'splitDataset'],
  '@gensynth/models-gan': ['createDCGAN', 'DCGAN_DEFAULTS'],
  '@gensynth/models-vae': ['createConvVAE'],
  '@gensynth/train': ['train', 'resume'],
  '@gensynth/metrics': ['fid', 'kid', 'inceptionScore', 'precisionRecall'],
});

// Tarball paths that must never ship, and the top-level entries expected to.
const FORBIDDEN_FILES = [/\.test\.[cm]?[jt]s$/, /^src\//, /^test\//, /tsconfig\.json$/, /^jest\./];
const EXPECTED_TOP = new Set([
  'bin',
  'dist',
  'assets',
  'package.json',
  'README.md',
  'CHANGELOG.md',
  'LICENSE',
]);

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const onlyIndex = argv.indexOf('--only');
const only = onlyIndex >= 0 ? new Set((argv[onlyIndex + 1] ?? '').split(',')) : null;

const failures = [];
const warnings = [];
const timings = [];
const fail = (pkg, message) => failures.push(`${pkg}: ${message}`);
const warn = (pkg, message) => warnings.push(`${pkg}: ${message}`);

async function timed(label, fn) {
  heading(label);
  const started = Date.now();
  const value = await fn();
  const seconds = (Date.now() - started) / 1000;
  timings.push([label, seconds]);
  process.stdout.write(`   (${secs(seconds)})\n`);
  return value;
}

function discoverPackages(all = false) {
  const dir = path.join(root, 'packages');
  return readdirSync(dir)
    .filter((folder) => existsSync(path.join(dir, folder, 'package.json')))
    .filter((folder) => all || !only || only.has(folder))
    .map((folder) => {
      const manifest = JSON.parse(readFileSync(path.join(dir, folder, 'package.json'), 'utf8'));
      return { folder, dir: path.join(dir, folder), name: manifest.name, manifest };
    })
    .filter((pkg) => !pkg.manifest.private);
}

function build(packages) {
  const filters = packages.map((pkg) => `--filter=./packages/${pkg.folder}`);
  const result = run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only', ...filters], {
    cwd: root,
    inherit: true,
  });
  if (result.status !== 0) fail('build', `turbo run build exited ${result.status}`);
  return result.status === 0;
}

function pack(pkg, destination) {
  const result = run('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: pkg.dir,
  });
  if (result.status !== 0) {
    fail(pkg.name, `npm pack exited ${result.status}:\n${indent(result.stderr)}`);
    return null;
  }
  const [info] = JSON.parse(result.stdout);
  const files = info.files.map((file) => file.path);
  for (const file of files) {
    if (FORBIDDEN_FILES.some((pattern) => pattern.test(file))) {
      fail(pkg.name, `tarball contains ${file}; users do not need it. Narrow "files".`);
    } else if (!EXPECTED_TOP.has(file.split('/')[0])) {
      warn(pkg.name, `tarball contains ${file}; is it meant to ship?`);
    }
  }
  for (const binPath of Object.values(pkg.manifest.bin ?? {})) {
    const normalized = path.posix.normalize(binPath);
    if (normalized !== binPath) {
      warn(
        pkg.name,
        `bin path "${binPath}": write "${normalized}" (npm publish rewrites it and warns)`,
      );
    }
    if (!files.includes(normalized)) fail(pkg.name, `bin ${binPath} is missing from the tarball`);
    else if (!readFileSync(path.join(pkg.dir, normalized), 'utf8').startsWith('#!')) {
      fail(pkg.name, `bin ${binPath} does not start with a #! line, so it cannot run as a command`);
    }
  }
  for (const file of files.filter((name) => /\.[cm]?js$/.test(name))) {
    if (/Copyright \d{4} Google LLC/.test(readFileSync(path.join(pkg.dir, file), 'utf8'))) {
      fail(
        pkg.name,
        `${file} carries tfjs's licence header: tfjs got bundled. Import it as a peer.`,
      );
    }
  }
  const tarball = path.join(destination, info.filename);
  process.stdout.write(
    `   ${pkg.name}: ${info.filename}, ${files.length} files, ` +
      `${(info.size / 1024).toFixed(1)} kB packed, ${(info.unpackedSize / 1024).toFixed(1)} kB unpacked\n`,
  );
  return tarball;
}

async function lintWithPublint(pkg, tarball) {
  const data = readFileSync(tarball);
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const { messages, pkg: manifest } = await publint({ pack: { tarball: buffer }, strict: true });
  for (const message of messages) {
    const text = `publint ${message.type}: ${formatMessage(message, manifest, { color: false })}`;
    if (message.type === 'suggestion') warn(pkg.name, text);
    else fail(pkg.name, text);
  }
  process.stdout.write(`   ${pkg.name}: ${messages.length === 0 ? 'clean' : messages.length}\n`);
}

function lintWithAttw(pkg, tarball) {
  const args = [tarball, '--format', 'ascii', '--no-definitely-typed', '--no-emoji', '--no-color'];
  const result = run(bin('attw'), args, { cwd: root });
  const ok = result.status === 0;
  process.stdout.write(`   ${pkg.name}: ${ok ? 'no problems' : 'PROBLEMS'}\n`);
  if (!ok) fail(pkg.name, `attw found problems:\n${indent(result.stdout + result.stderr)}`);
}

function peerVersion(name) {
  const manifest = path.join(root, 'node_modules', name, 'package.json');
  return JSON.parse(readFileSync(manifest, 'utf8')).version;
}

function installConsumer(consumerDir, packages, tarballs) {
  const dependencies = {};
  const overrides = {};
  for (const pkg of packages) {
    dependencies[pkg.name] = `file:${tarballs.get(pkg.name)}`;
    overrides[pkg.name] = `$${pkg.name}`; // siblings resolve to the tarballs, never the registry
  }
  for (const peer of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']) {
    dependencies[peer] = peerVersion(peer);
  }
  dependencies['@types/node'] = `^${peerVersion('@types/node').split('.')[0]}`;
  writeConsumer(consumerDir, {
    packages: packages.map((pkg) => pkg.name),
    knownExports: KNOWN_EXPORTS,
    dependencies,
    overrides,
  });
  const args = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
  const result = run('npm', args, { cwd: consumerDir });
  if (result.status !== 0) {
    fail('consumer', `npm install of the tarballs failed:\n${indent(result.stderr)}`);
  }
  return result.status === 0;
}

function checkRuntime(consumerDir, packages) {
  const names = JSON.stringify(packages.map((pkg) => pkg.name));
  const loaded = {};
  for (const [kind, script] of [
    ['esm', 'smoke-esm.mjs'],
    ['cjs', 'smoke-cjs.cjs'],
  ]) {
    const outFile = path.join(consumerDir, `${kind}.json`);
    const result = run('node', [script, names, outFile], { cwd: consumerDir });
    if (result.status !== 0) {
      fail('consumer', `${script} crashed:\n${indent(result.stderr)}`);
      return;
    }
    loaded[kind] = JSON.parse(readFileSync(outFile, 'utf8'));
  }
  for (const pkg of packages) {
    const esm = loaded.esm[pkg.name];
    const cjs = loaded.cjs[pkg.name];
    if (!esm.ok) fail(pkg.name, `ESM import failed:\n${indent(esm.error)}`);
    if (!cjs.ok) fail(pkg.name, `CJS require failed:\n${indent(cjs.error)}`);
    if (!esm.ok || !cjs.ok) continue;
    if (esm.keys.length === 0) fail(pkg.name, 'imports fine but exports nothing');
    const esmOnly = esm.keys.filter((key) => !cjs.keys.includes(key));
    const cjsOnly = cjs.keys.filter((key) => !esm.keys.includes(key));
    if (esmOnly.length + cjsOnly.length > 0) {
      fail(
        pkg.name,
        `ESM and CJS builds export different names: ESM only ${esmOnly}; CJS only ${cjsOnly}`,
      );
    }
    for (const name of KNOWN_EXPORTS[pkg.name] ?? []) {
      if (!esm.keys.includes(name)) fail(pkg.name, `ESM build lacks the export ${name}`);
      if (!cjs.keys.includes(name)) fail(pkg.name, `CJS build lacks the export ${name}`);
    }
    process.stdout.write(`   ${pkg.name}: esm ok, cjs ok, ${esm.keys.length} exports\n`);
  }
}

function checkTypes(consumerDir) {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const [label, project] of Object.entries(TSC_PROJECTS)) {
    const result = run('node', [tsc, '-p', project, '--pretty', 'false'], { cwd: consumerDir });
    const { ours, thirdParty } = classifyTscErrors(result.stdout + result.stderr);
    const ignored =
      thirdParty > 0 ? ` (${thirdParty} errors inside tfjs/third-party .d.ts ignored)` : '';
    process.stdout.write(`   tsc (${label}): ${ours.length === 0 ? 'ok' : 'ERRORS'}${ignored}\n`);
    if (ours.length > 0) {
      fail('types', `tsc -p ${project} failed:\n${indent(ours.join('\n'))}`);
    } else if (result.status !== 0 && thirdParty === 0) {
      fail(
        'types',
        `tsc -p ${project} exited ${result.status}:\n${indent(result.stdout + result.stderr)}`,
      );
    }
  }
}

function checkBins(consumerDir, packages) {
  for (const pkg of packages) {
    for (const command of Object.keys(pkg.manifest.bin ?? {})) {
      const file = path.join(consumerDir, 'node_modules', '.bin', command);
      if (!existsSync(file)) {
        fail(pkg.name, `installing it did not create the command ${command}`);
        continue;
      }
      const result = run(file, ['--help'], { cwd: consumerDir, timeoutMs: 60_000 });
      const output = (result.stdout + result.stderr).trim();
      if (result.status !== 0) {
        fail(pkg.name, `\`${command} --help\` exited ${result.status}:\n${indent(output)}`);
      } else if (output === '') {
        warn(pkg.name, `\`${command} --help\` runs but prints nothing yet`);
      } else {
        process.stdout.write(`   ${command} --help: ok (${output.split('\n').length} lines)\n`);
      }
    }
  }
}

async function main() {
  const packages = discoverPackages();
  if (packages.length === 0) throw new Error(`no packages to check (--only ${[...(only ?? [])]})`);
  const temp = mkdtempSync(path.join(os.tmpdir(), 'gensynth-pack-'));
  const tarballDir = path.join(temp, 'tarballs');
  const consumerDir = path.join(temp, 'consumer');
  mkdirSync(tarballDir);
  mkdirSync(consumerDir);
  process.stdout.write(`check-packages: ${packages.length} packages, temp dir ${temp}\n`);

  try {
    if (!flag('--no-build') && !(await timed('build', () => build(packages)))) return;
    const tarballs = new Map();
    const siblings = new Map(discoverPackages(true).map((pkg) => [pkg.name, pkg.manifest.version]));
    await timed('manifests and npm pack', () => {
      for (const pkg of packages) {
        for (const problem of manifestProblems(pkg.manifest, siblings)) fail(pkg.name, problem);
        const tarball = pack(pkg, tarballDir);
        if (tarball) tarballs.set(pkg.name, tarball);
      }
    });
    const packed = packages.filter((pkg) => tarballs.has(pkg.name));
    await timed('publint (strict)', async () => {
      for (const pkg of packed) await lintWithPublint(pkg, tarballs.get(pkg.name));
    });
    await timed('are the types wrong', () => {
      for (const pkg of packed) lintWithAttw(pkg, tarballs.get(pkg.name));
    });
    if (packed.length !== packages.length) return;
    const installed = await timed('install tarballs into a consumer project', () =>
      installConsumer(consumerDir, packages, tarballs),
    );
    if (!installed) return;
    await timed('import (ESM) and require (CJS)', () => checkRuntime(consumerDir, packages));
    await timed('type-check a consumer (node16, bundler)', () => checkTypes(consumerDir));
    await timed('bins', () => checkBins(consumerDir, packages));
  } finally {
    if (flag('--keep')) process.stdout.write(`\nkept ${temp}\n`);
    else rmSync(temp, { recursive: true, force: true });
  }
}

await main();
heading('summary');
for (const [label, seconds] of timings) process.stdout.write(`   ${label}: ${secs(seconds)}\n`);
for (const message of warnings) process.stdout.write(`warning: ${message}\n`);
for (const message of failures) process.stdout.write(`FAILED: ${message}\n`);
process.stdout.write(
  failures.length === 0
    ? `check-packages: all checks passed (${warnings.length} warnings)\n`
    : `check-packages: ${failures.length} failures, ${warnings.length} warnings\n`,
);
process.exitCode = failures.length === 0 ? 0 : 1;
