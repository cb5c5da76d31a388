#!/usr/bin/env node
// FID linear algebra at Inception width: @gensynth/metrics (float64 JS: streamed covariance, then
// pivoted Cholesky + Householder/QL eigenvalues) against numpy/scipy as pytorch-fid and
// torch-fidelity do it (shared/peers/fid2048_scipy.py), in the same run on the same machine.
//
//   node bench/fid.mjs [--n 5000] [--d 2048] [--no-peers] [--peers-dir DIR] [--python PATH]
//     [--json bench/out/fid.json]
//
// Needs @gensynth/core and @gensynth/metrics built (`npm run build`, or `npm run bench`).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from '@gensynth/core';
import { FeatureStats, frechetDistanceTerms } from '@gensynth/metrics';
import { REPO_ROOT, resolvePeers, runPeer } from './lib/peers.mjs';
import { fmt, printTable } from './lib/report.mjs';

const { values: opts } = parseArgs({
  options: {
    n: { type: 'string', default: '5000' },
    d: { type: 'string', default: '2048' },
    'no-peers': { type: 'boolean', default: false },
    'peers-dir': { type: 'string' },
    python: { type: 'string' },
    json: { type: 'string', default: path.join(REPO_ROOT, 'bench', 'out', 'fid.json') },
  },
});
const n = Number(opts.n);
const d = Number(opts.d);
if (!Number.isInteger(n) || n < 2 || !Number.isInteger(d) || d < 1) {
  process.stderr.write(
    `fid: expected --n >= 2 and --d >= 1 integers; received --n ${opts.n} --d ${opts.d}. Pass e.g. --n 5000 --d 2048.\n`,
  );
  process.exit(2);
}

// Same recipe as the peer (a ~ N(0, 1), b ~ N(0, 1) * 1.1 + 0.1), drawn with gensynth's Rng:
// the numbers differ from numpy's draw, the matrix sizes and conditioning do not.
function features(seed, scale, shift) {
  const rng = Rng.fromSeed(seed);
  const values = new Float32Array(n * d);
  for (let i = 0; i < values.length; i++) values[i] = rng.nextNormal() * scale + shift;
  return { values, rows: n, cols: d };
}

const a = features(0, 1, 0);
const b = features(1, 1.1, 0.1);
const batch = 500;
let t = performance.now();
const stats = [a, b].map((f) => {
  const s = new FeatureStats(d);
  for (let start = 0; start < n; start += batch) {
    const rows = Math.min(batch, n - start);
    s.update({ values: f.values.subarray(start * d, (start + rows) * d), rows, cols: d });
  }
  return s;
});
const covSeconds = (performance.now() - t) / 1000;
t = performance.now();
const terms = frechetDistanceTerms(stats[0], stats[1]);
const fidSeconds = (performance.now() - t) / 1000;
const rows = [
  [
    `gensynth (node ${process.version})`,
    fmt(covSeconds, 2),
    fmt(fidSeconds, 2),
    '-',
    fmt(terms.traceSqrtProduct, 4),
  ],
];

const result = {
  n,
  d,
  gensynth: { covSeconds, fidSeconds, traceSqrt: terms.traceSqrtProduct, fid: terms.fid },
};
if (!opts['no-peers']) {
  const wanted = [{ name: 'scipy', script: 'fid2048_scipy.py', module: 'scipy' }];
  const { peers, missing } = resolvePeers(wanted, {
    peersDir: opts['peers-dir'],
    python: opts.python,
  });
  for (const line of missing) process.stderr.write(`fid: skipping peer ${line}\n`);
  for (const peer of peers) {
    const out = await runPeer(peer, []);
    const match =
      /cov 2x\d+x\d+ ([\d.]+)s\s+sqrtm ([\d.]+)s\s+eigvals ([\d.]+)s\s+trace (\S+) (\S+)/.exec(out);
    if (!match) throw new Error(`fid: unexpected peer output:\n${out}`);
    const [, cov, sqrtm, eig, traceSqrtm] = match.map(Number);
    result.scipy = {
      covSeconds: cov,
      sqrtmSeconds: sqrtm,
      eigvalsSeconds: eig,
      traceSqrt: traceSqrtm,
    };
    rows.push([
      `numpy/scipy (${peer.python})`,
      fmt(cov, 2),
      fmt(sqrtm, 2),
      fmt(eig, 2),
      fmt(traceSqrtm, 4),
    ]);
  }
}

process.stdout.write(`FID at D=${d}, two sets of N=${n} features (seconds; lower is better)\n\n`);
printTable(
  ['implementation', 'covariances', 'tr sqrt (gensynth) / sqrtm', 'eigvals', 'tr sqrt(S1 S2)'],
  rows,
);
mkdirSync(path.dirname(opts.json), { recursive: true });
writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
