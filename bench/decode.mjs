#!/usr/bin/env node
// Data decoding throughput: decode + composite onto white + resize to 32x32 + normalise to
// [-1, 1] over the 3,786 Noto emoji PNGs (64x64 RGBA) of emoji-datasource-google, against the
// PIL + torch DataLoader peer (shared/peers/decode_torchvision.py) on the same folder, in the
// same run. Rounds alternate gensynth and peer so load from other processes lands on both.
//
//   node bench/decode.mjs [--rounds 3] [--workers N] [--no-peers] [--python PATH]
//     [--peers-dir DIR] [--json bench/out/decode.json] [--write]
//
// --write appends (or replaces) the "Data decoding" section of BENCHMARKS.md under
// `flock /tmp/bench-md.lock`, leaving every other section alone.
// Needs @gensynth/core and @gensynth/data built (`npm run build`, or `npx tsup` in each).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import sharp from 'sharp';
import { REPO_ROOT, resolvePeers, runPeer } from './lib/peers.mjs';
import { fmt, median, printTable } from './lib/report.mjs';

const FOLDER = path.join(
  REPO_ROOT,
  'node_modules',
  'emoji-datasource-google',
  'img',
  'google',
  '64',
);
const SIZE = 32;
const BATCH = 64;
// DCGAN-32 training consumes 64 images per ~100-200 ms step (BENCHMARKS.md, DCGAN-32): at most
// 640 img/s. The target is 5x that.
const DCGAN_CONSUMPTION = 640;
const SECTION = '## Data decoding';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    workers: { type: 'string' },
    'no-peers': { type: 'boolean', default: false },
    python: { type: 'string' },
    'peers-dir': { type: 'string' },
    json: { type: 'string', default: path.join(REPO_ROOT, 'bench', 'out', 'decode.json') },
    write: { type: 'boolean', default: false },
    'write-section': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

/** Replace or append our section of BENCHMARKS.md; run under the lock by --write. */
function writeSection(sectionFile) {
  const file = path.join(REPO_ROOT, 'BENCHMARKS.md');
  const section = readFileSync(sectionFile, 'utf8').trimEnd();
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = text.indexOf(`\n${SECTION}\n`);
  let next;
  if (start >= 0) {
    const after = text.indexOf('\n## ', start + SECTION.length + 1);
    next = text.slice(0, start + 1) + section + '\n' + (after >= 0 ? text.slice(after) : '');
  } else {
    next = `${text.trimEnd()}\n\n${section}\n`;
  }
  writeFileSync(file, next);
}

if (opts.help) {
  process.stdout.write(
    readFileSync(new URL(import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('//'))
      .join('\n') + '\n',
  );
  process.exit(0);
}
if (opts['write-section']) {
  writeSection(opts['write-section']);
  process.exit(0);
}

let data;
try {
  data = await import('@gensynth/data');
} catch (error) {
  process.stderr.write(
    `cannot load @gensynth/data (${error.message}); build it first: npm run build\n`,
  );
  process.exit(1);
}
if (!existsSync(FOLDER)) {
  process.stderr.write(`${FOLDER} not found: npm install emoji-datasource-google\n`);
  process.exit(1);
}
await tf.setBackend('cpu');
tf.env().set('PROD', true);
const files = readdirSync(FOLDER)
  .filter((f) => f.toLowerCase().endsWith('.png'))
  .sort()
  .map((f) => path.join(FOLDER, f));

/**
 * Two epochs of [64, 32, 32, 3] float32 batches in [-1, 1] without a cache: img/s of the first
 * (includes starting worker threads) and of the second (steady state of a training run).
 */
async function twoEpochs(dataset) {
  const first = await epoch(dataset);
  return [first, await epoch(dataset)];
}

/** One epoch of [64, 32, 32, 3] float32 batches in [-1, 1]; returns img/s. */
async function epoch(dataset) {
  const started = performance.now();
  let n = 0;
  for await (const batch of dataset.batches({
    batchSize: BATCH,
    epochs: 1,
    dropRemainder: false,
    shuffle: false,
    prefetch: 4,
  })) {
    n += batch.images.shape[0];
    batch.images.dispose();
  }
  if (n !== files.length) throw new Error(`epoch saw ${n} of ${files.length} images`);
  return n / ((performance.now() - started) / 1000);
}

/** Pillow and torch versions of a peer interpreter, for the report. */
function peerVersions(python) {
  const code = [
    'import importlib.util as u, PIL',
    'torch = __import__("torch").__version__ if u.find_spec("torch") else "none"',
    'print(f"Pillow {PIL.__version__}, torch {torch}")',
  ].join('; ');
  try {
    return execFileSync(python, ['-c', code], { encoding: 'utf8' }).trim();
  } catch {
    return 'versions unknown';
  }
}

/** The plain sharp pipeline the fast path replaces: one libvips call per image, 8 in flight. */
async function plainSharp() {
  const started = performance.now();
  let next = 0;
  const pixels = new Uint8Array(files.length * SIZE * SIZE * 3);
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const raw = await sharp(files[i])
        .flatten({ background: '#ffffff' })
        .resize(SIZE, SIZE, { kernel: 'linear' })
        .raw()
        .toBuffer();
      pixels.set(raw, i * SIZE * SIZE * 3);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  for (let at = 0; at < files.length; at += BATCH) {
    const n = Math.min(BATCH, files.length - at);
    data
      .bytesToImages(pixels.subarray(at * SIZE * SIZE * 3, (at + n) * SIZE * SIZE * 3), [
        n,
        SIZE,
        SIZE,
        3,
      ])
      .dispose();
  }
  return files.length / ((performance.now() - started) / 1000);
}

const workers = opts.workers === undefined ? undefined : Number(opts.workers);
const autoWorkers = Math.min(4, os.availableParallelism?.() ?? os.cpus().length);
const variants = [
  {
    name: `gensynth fast PNG path, ${workers ?? autoWorkers} worker threads`,
    run: async () =>
      twoEpochs(await data.emojiDataset({ imageSize: SIZE, verify: 'none', workers })),
  },
  {
    name: 'gensynth fast PNG path, in-thread',
    run: async () =>
      twoEpochs(await data.emojiDataset({ imageSize: SIZE, verify: 'none', workers: 0 })),
  },
  {
    name: 'gensynth decoded uint8 cache (epoch 2+)',
    run: async () => {
      const cached = await data.emojiDataset({ imageSize: SIZE, verify: 'none', cache: 'memory' });
      await epoch(cached);
      return epoch(cached);
    },
  },
  { name: 'plain sharp, 1 call per image, 8 in flight', run: plainSharp },
];

const { peers, missing } = opts['no-peers']
  ? { peers: [], missing: ['skipped (--no-peers)'] }
  : resolvePeers([{ name: 'torchvision', script: 'decode_torchvision.py', module: 'PIL' }], {
      peersDir: opts['peers-dir'],
      python: opts.python,
    });
const peerRuns = peers.flatMap((peer) => [
  { peer, args: [FOLDER, '2'] },
  { peer, args: [FOLDER, '0'] },
]);

const results = new Map();
const record = (name, value) => results.set(name, [...(results.get(name) ?? []), value]);
const rounds = Number(opts.rounds);
for (let round = 0; round < rounds; round++) {
  for (const v of variants) {
    const rate = await v.run();
    const [first, steady] = Array.isArray(rate) ? rate : [undefined, rate];
    if (first !== undefined) record(`${v.name}, epoch 1`, first);
    record(Array.isArray(rate) ? `${v.name}, epoch 2+` : v.name, steady);
    process.stderr.write(`round ${round + 1}/${rounds} ${v.name}: ${fmt(steady, 0)} img/s\n`);
  }
  for (const { peer, args } of peerRuns) {
    try {
      const out = await runPeer(peer, args);
      const match = /decode\+resize32 (.+): (\d+) images in ([\d.]+)s = (\d+) img\/s/.exec(out);
      if (!match) throw new Error(`unexpected peer output: ${out}`);
      record(`peer: ${match[1]}`, Number(match[4]));
      process.stderr.write(`round ${round + 1}/${rounds} peer ${match[1]}: ${match[4]} img/s\n`);
    } catch (error) {
      missing.push(`${peer.name} ${args[1]} workers: ${error.message.split('\n')[0]}`);
    }
  }
}

const best = Math.max(
  ...[...results].filter(([k]) => k.includes('fast PNG path')).map(([, v]) => median(v)),
);
const peerBest = Math.max(
  0,
  ...[...results].filter(([k]) => k.startsWith('peer')).map(([, v]) => median(v)),
);
const rows = [...results].map(([name, rates]) => [
  name,
  fmt(median(rates), 0),
  fmt(Math.min(...rates), 0),
  fmt(Math.max(...rates), 0),
  fmt(median(rates) / DCGAN_CONSUMPTION, 1),
]);
const header = [
  'pipeline (3,786 emoji PNGs 64x64 RGBA -> [B, 32, 32, 3] in [-1, 1])',
  'img/s (median)',
  'min',
  'max',
  'x DCGAN-32 need',
];
printTable(header, rows);

const load = os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(', ');
const machine = `${os.cpus()[0]?.model ?? 'cpu'} x ${os.cpus().length}, Node ${process.version}, load average ${load}`;
const tableLines = [];
printTable(header, rows, { write: (s) => tableLines.push(s) });
const verdictPeer =
  peerBest > 0
    ? `${fmt(best / peerBest, 2)}x the best peer run (${fmt(peerBest, 0)} img/s)`
    : 'no peer result (see below)';
const section = [
  SECTION,
  '',
  `\`node bench/decode.mjs --rounds ${rounds}\` on ${new Date().toISOString().slice(0, 10)}: ${machine}.`,
  'Each pipeline reads the 3,786 PNGs of `emoji-datasource-google/img/google/64`, composites alpha onto white, resizes to 32x32 bilinearly (antialiased, like PIL) and yields float32 batches of 64 in [-1, 1]. Peer: `shared/peers/decode_torchvision.py` (PIL + torch DataLoader, or PIL in one process without torch) on the same folder, alternating rounds with ours.',
  '',
  tableLines.join('').trimEnd(),
  '',
  `Best gensynth decoding path (no cache): ${fmt(best, 0)} img/s = ${verdictPeer}; ${fmt(best / DCGAN_CONSUMPTION, 1)}x what DCGAN-32 training consumes (64 images per ~100-200 ms step, at most ${DCGAN_CONSUMPTION} img/s; target 5x).`,
  ...peers.map(
    (p) =>
      `Peer interpreter: \`${p.python}\`${process.env.PYTHONPATH ? ` with PYTHONPATH=\`${process.env.PYTHONPATH}\`` : ''} (${peerVersions(p.python)}).`,
  ),
  'The machine is shared with other jobs (load average above): every pipeline slows down alike, so compare rows of one run; worker threads and DataLoader workers gain only when a core is free.',
  ...(missing.length > 0 ? ['', `Not run: ${missing.join('; ')}.`] : []),
  '',
  "The fast path: Node zlib inflates each PNG and gensynth undoes the row filters itself (checked against sharp for every PNG kind in `packages/data/src/decode/decode.test.ts`), composites and resizes on typed arrays, with many images per worker message; anything unusual (interlaced, ICC profile, JPEG, WebP) falls back to sharp. The uint8 cache keeps decoded, resized images for later epochs (`cache: 'memory'` or a shard file).",
].join('\n');
process.stdout.write(`\n${section}\n`);

mkdirSync(path.dirname(opts.json), { recursive: true });
writeFileSync(
  opts.json,
  JSON.stringify({ machine, rounds, results: Object.fromEntries(results), missing }, null, 2),
);
if (opts.write) {
  const sectionFile = path.join(path.dirname(opts.json), 'decode-section.md');
  writeFileSync(sectionFile, section);
  execFileSync(
    'flock',
    [
      '/tmp/bench-md.lock',
      process.execPath,
      new URL(import.meta.url).pathname,
      '--write-section',
      sectionFile,
    ],
    { stdio: 'inherit' },
  );
}
process.exit(0);
