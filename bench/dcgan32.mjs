#!/usr/bin/env node
// DCGAN-32 training throughput: gensynth's tfjs backend against PyTorch and TensorFlow on the same
// network and step (shared/peers/dcgan32_torch.py, dcgan32_tf.py). Rounds alternate js, torch, tf,
// js, torch, tf, ... so that load from other processes lands on every side alike.
//
//   node bench/dcgan32.mjs [--backend wasm|cpu|node|node-gpu] [--steps 20] [--warmup 3]
//     [--batch 64] [--rounds 3] [--threads 2] [--no-peers] [--peers torch,tf] [--peers-dir DIR]
//     [--python PATH] [--profile] [--profile-steps 1] [--top 15] [--json bench/out/dcgan32.json]
//     [--also-threads 1,...]
//
// The in-process tfjs side uses initBackend's WASM thread count (GENSYNTH_WASM_THREADS, else the
// number of cores); --also-threads adds one side per listed count, each run per round in a child
// process of this script (so it alternates with the others), for a thread-count comparison.
// Needs @gensynth/core built (`cd packages/core && npx tsup`, or `npm run bench`).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createLogger, initBackend } from '@gensynth/core';
import { createDcgan32 } from './lib/dcgan32-net.mjs';
import { REPO_ROOT, parseStepLine, resolvePeers, runPeer } from './lib/peers.mjs';
import { profileKernels } from './lib/profile.mjs';
import { fmt, median, printTable } from './lib/report.mjs';

const PEERS = Object.freeze([
  { name: 'torch', script: 'dcgan32_torch.py', module: 'torch' },
  { name: 'tf', script: 'dcgan32_tf.py', module: 'tensorflow' },
]);
const PEER_BATCH = 64; // fixed inside the peer scripts

const { values: opts } = parseArgs({
  options: {
    backend: { type: 'string' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    batch: { type: 'string', default: String(PEER_BATCH) },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    peers: { type: 'string', default: PEERS.map((p) => p.name).join(',') },
    'no-peers': { type: 'boolean', default: false },
    'peers-dir': { type: 'string' },
    python: { type: 'string' },
    profile: { type: 'boolean', default: false },
    top: { type: 'string', default: '15' },
    'profile-steps': { type: 'string', default: '1' },
    'also-threads': { type: 'string', default: '' },
    json: { type: 'string', default: path.join(REPO_ROOT, 'bench', 'out', 'dcgan32.json') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (opts.help) {
  const usage = readFileSync(new URL(import.meta.url), 'utf8')
    .split('\n')
    .slice(5, 10);
  process.stdout.write(`${usage.map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`);
  process.exit(0);
}

function positiveInt(name, allowZero = false) {
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    process.stderr.write(`dcgan32: expected --${name} to be an integer >= ${allowZero ? 0 : 1}; `);
    process.stderr.write(`received ${JSON.stringify(opts[name])}. Pass e.g. --${name} 20.\n`);
    process.exit(2);
  }
  return n;
}

const steps = positiveInt('steps');
const warmup = positiveInt('warmup', true);
const batch = positiveInt('batch');
const rounds = positiveInt('rounds');
const threads = positiveInt('threads');
const top = positiveInt('top');
const profileSteps = positiveInt('profile-steps');

// 1. Backend and environment.
const logger = createLogger('info', (level, message) =>
  process.stderr.write(`[${level}] ${message}\n`),
);
const choice = await initBackend(opts.backend ? { force: opts.backend, logger } : { logger });
const env = await describeEnvironment(choice);
process.stdout.write(`dcgan32 on ${env.backendLabel}\n`);
process.stdout.write(`machine: ${env.nproc} cpus, ${env.cpuModel}; node ${env.node}; `);
process.stdout.write(`tfjs-core ${env.tfjsCore}, tfjs-layers ${env.tfjsLayers}\n`);

// 2. Network and FLOP count.
const net = createDcgan32({ batch });
const { perStep, gForward, dForward } = net.flops;
process.stdout.write(
  `FLOP per step: ${fmt(perStep / 1e9, 2)} GFLOP = ${batch} x (4 x G ${fmt(gForward.total / 1e6, 2)} ` +
    `+ 9 x D ${fmt(dForward.total / 1e6, 2)}) MFLOP/img forward (backward = 2x forward)\n`,
);

async function runSteps(n) {
  for (let i = 0; i < n; i++) {
    const { lossD, lossG } = net.step();
    await lossD.data();
    await lossG.data();
    lossD.dispose();
    lossG.dispose();
  }
}

const warmStarted = performance.now();
await runSteps(warmup);
const warmMs = performance.now() - warmStarted;
process.stdout.write(`warmup: ${warmup} steps in ${fmt(warmMs / 1000, 1)} s\n`);

// 3. --profile: one step, kernel by kernel, then stop.
if (opts.profile) {
  const prof = await profileKernels(() => net.step(), { repeats: profileSteps });
  printProfile(prof);
  net.dispose();
  process.exit(0);
}

// 4. Peers, then the alternating rounds.
let peers = [];
if (!opts['no-peers']) {
  const wanted = opts.peers.split(',').map((name) => {
    const peer = PEERS.find((p) => p.name === name.trim());
    if (!peer) {
      process.stderr.write(`dcgan32: expected --peers from torch,tf; received '${name}'.\n`);
      process.exit(2);
    }
    return peer;
  });
  const found = resolvePeers(wanted, { peersDir: opts['peers-dir'], python: opts.python });
  peers = found.peers;
  for (const line of found.missing) process.stdout.write(`peer skipped: ${line}\n`);
  if (peers.length > 0 && batch !== PEER_BATCH) {
    process.stdout.write(`note: peers always use batch ${PEER_BATCH}; js uses --batch ${batch}\n`);
  }
}

const alsoThreads = opts['also-threads']
  .split(',')
  .filter((t) => t.trim() !== '')
  .map((t) => {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 1) {
      process.stderr.write(`dcgan32: expected --also-threads as integers >= 1; received '${t}'.\n`);
      process.exit(2);
    }
    return n;
  });
const sides = [
  { name: `tfjs ${choice.name}`, threads: env.jsThreads, rounds: [] },
  ...alsoThreads.map((n) => ({ name: `tfjs ${choice.name}`, child: n, threads: n, rounds: [] })),
  ...peers.map((p) => ({ name: p.name, peer: p, rounds: [] })),
];
const loads = [os.loadavg()[0]];
const tensorsBefore = tf.memory().numTensors;
for (let r = 1; r <= rounds; r++) {
  const parts = [];
  for (const side of sides) {
    if (side.peer) {
      const result = parseStepLine(await runPeer(side.peer, [String(threads)]));
      side.version = result.version;
      side.framework = result.framework;
      side.threads = result.threads;
      side.rounds.push({ msPerStep: result.msPerStep, batch: PEER_BATCH, steps: 20 });
      parts.push(`${side.name} ${fmt(result.msPerStep, 1)}`);
    } else if (side.child) {
      const result = await runChildRound(side.child);
      side.threads = result.threads;
      side.rounds.push({ ...result, batch, steps });
      parts.push(`${side.name} (${side.threads} thr) ${fmt(result.msPerStep, 1)}`);
    } else {
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      await runSteps(steps);
      const msPerStep = (performance.now() - started) / steps;
      const cpu = process.cpuUsage(cpuStarted);
      const cpuMsPerStep = (cpu.user + cpu.system) / 1000 / steps;
      side.rounds.push({ msPerStep, cpuMsPerStep, batch, steps });
      parts.push(`${side.name} ${fmt(msPerStep, 1)}`);
    }
  }
  const load = os.loadavg()[0];
  loads.push(load);
  process.stdout.write(
    `round ${r}/${rounds} ms/step: ${parts.join(' | ')} (load ${fmt(load, 1)})\n`,
  );
}
const tensorsAfter = tf.memory().numTensors;
const leaked = tensorsAfter - tensorsBefore;
process.stdout.write(
  `tensors: ${tensorsBefore} before the timed steps, ${tensorsAfter} after ` +
    `(${leaked === 0 ? 'no leak' : `LEAK: ${leaked} tensors over ${rounds * steps} steps`})\n`,
);

// 5. Summary table: median over rounds; img/s relative to PyTorch.
const rows = sides.map((side) => {
  const ms = median(side.rounds.map((x) => x.msPerStep));
  const b = side.rounds[0].batch;
  const flops = net.flops.perStep * (b / batch);
  return {
    side: side.peer ? `${side.framework} ${side.version}` : side.name,
    cpuMsPerStep: side.peer ? undefined : median(side.rounds.map((x) => x.cpuMsPerStep)),
    threads: side.threads,
    msPerStep: ms,
    range: [
      Math.min(...side.rounds.map((x) => x.msPerStep)),
      Math.max(...side.rounds.map((x) => x.msPerStep)),
    ],
    imgPerSec: (b * 1000) / ms,
    gflops: flops / (ms / 1000) / 1e9,
  };
});
const torchRow = rows.find((row, i) => sides[i].peer?.name === 'torch');
printTable(
  [
    'side',
    'threads',
    'ms/step (median)',
    'min-max',
    'CPU ms/step',
    'img/s',
    'GFLOP/s',
    'img/s vs PyTorch',
  ],
  rows.map((row) => [
    row.side,
    String(row.threads),
    fmt(row.msPerStep, 1),
    `${fmt(row.range[0], 1)}-${fmt(row.range[1], 1)}`,
    fmt(row.cpuMsPerStep, 1),
    fmt(row.imgPerSec, 1),
    fmt(row.gflops, 2),
    torchRow ? `${fmt(row.imgPerSec / torchRow.imgPerSec, 3)}x` : 'n/a',
  ]),
);
const jsCpu = median(sides[0].rounds.map((x) => x.cpuMsPerStep));
process.stdout.write(
  `tfjs CPU time: ${fmt(jsCpu, 1)} ms/step (median; wall ${fmt(rows[0].msPerStep, 1)}); ` +
    `1-min load average over the run ${fmt(Math.min(...loads), 1)}-${fmt(Math.max(...loads), 1)} ` +
    `on ${env.nproc} cpus\n`,
);

mkdirSync(path.dirname(opts.json), { recursive: true });
writeFileSync(
  opts.json,
  JSON.stringify(
    {
      env,
      batch,
      steps,
      warmup,
      rounds,
      flopsPerStep: perStep,
      loads,
      tensorsBefore,
      tensorsAfter,
      rows,
      sides: sides.map(({ peer, ...s }) => ({ ...s, python: peer?.python })),
    },
    null,
    2,
  ),
);
process.stdout.write(`results: ${path.relative(process.cwd(), opts.json)}\n`);
net.dispose();
if (leaked !== 0) process.exitCode = 1;

/** One timed round of the tfjs side in a child process with `threads` WASM threads. */
function runChildRound(threads) {
  const json = `${opts.json}.child-${threads}.json`;
  const args = [
    ...[fileURLToPath(import.meta.url), '--no-peers', '--rounds', '1'],
    ...['--steps', String(steps), '--warmup', String(warmup), '--batch', String(batch)],
    ...['--json', json],
  ];
  if (opts.backend) args.push('--backend', opts.backend);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, GENSYNTH_WASM_THREADS: String(threads) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`tfjs child (${threads} threads) exited ${code}:\n${stderr.slice(-800)}`));
        return;
      }
      const result = JSON.parse(readFileSync(json, 'utf8'));
      rmSync(json, { force: true });
      const round = result.sides[0].rounds[0];
      resolve({
        msPerStep: round.msPerStep,
        cpuMsPerStep: round.cpuMsPerStep,
        threads: result.env.jsThreads,
      });
    });
  });
}

async function describeEnvironment(chosen) {
  let cpuModel = 'unknown CPU';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) cpuModel = line.split(':')[1].trim();
  } catch {
    cpuModel = os.cpus()[0]?.model ?? cpuModel;
  }
  let jsThreads = 1;
  let backendLabel = `tfjs '${chosen.tfBackend}' (gensynth backend '${chosen.name}')`;
  if (chosen.tfBackend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    jsThreads = chosen.threads ?? wasm.getThreadsCount();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    backendLabel += `, ${simd ? 'SIMD' : 'no SIMD'}, ${jsThreads} thread(s)`;
  } else if (chosen.tfBackend === 'tensorflow') {
    jsThreads = os.availableParallelism();
  }
  return {
    backend: chosen.name,
    backendLabel,
    jsThreads,
    nproc: os.availableParallelism(),
    cpuModel,
    node: process.version,
    tfjsCore: tf.version_core,
    tfjsLayers: tfl.version_layers,
  };
}

function printProfile(prof) {
  process.stdout.write(
    `profile of one step (median of ${prof.repeats}): ${fmt(prof.wallMs, 1)} ms wall, ${fmt(prof.kernelMs, 1)} ms in ` +
      `${prof.calls} kernel calls, ${fmt(prof.wallMs - prof.kernelMs, 1)} ms outside kernels` +
      (prof.tfProfileMs === null
        ? ''
        : `; tf.profile kernelMs sum ${fmt(prof.tfProfileMs, 1)} ms`) +
      '\n',
  );
  printTable(
    ['kernel', 'calls', 'self ms', 'share'],
    prof.byName
      .slice(0, top)
      .map((k) => [
        k.name,
        String(k.calls),
        fmt(k.ms, 1),
        `${fmt((100 * k.ms) / prof.wallMs, 1)}%`,
      ]),
  );
  printTable(
    ['kernel', 'input shapes', 'calls', 'self ms'],
    prof.byCall.slice(0, top).map((k) => [k.name, k.shapes, String(k.calls), fmt(k.ms, 1)]),
  );
}
