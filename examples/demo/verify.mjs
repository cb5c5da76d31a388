// Checks that a finished run left every artifact, each valid: used by `npm run demo -- --smoke`
// (and so by CI). Returns one line per check; throws on the first failure.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { listCheckpoints, loadCheckpoint, maskedCrc32c } from '@gensynth/train';

function fail(what, detail) {
  throw new Error(`demo smoke: ${what}: ${detail}`);
}

async function readJsonLines(file) {
  const text = await fs.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line);
      } catch {
        return fail(file, `line ${i + 1} is not JSON`);
      }
    });
}

/** Walk the TFRecord framing of an event file, verifying both masked CRC32Cs of every record. */
async function countTfRecords(file) {
  const bytes = await fs.readFile(file);
  let at = 0;
  let records = 0;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) fail(file, `truncated record header at byte ${at}`);
    const header = bytes.subarray(at, at + 8);
    const length = Number(bytes.readBigUInt64LE(at));
    if (bytes.readUInt32LE(at + 8) !== maskedCrc32c(header)) fail(file, `bad length CRC at ${at}`);
    const data = bytes.subarray(at + 12, at + 12 + length);
    if (data.length !== length) fail(file, `truncated record at ${at}`);
    if (bytes.readUInt32LE(at + 12 + length) !== maskedCrc32c(data)) fail(file, `bad data CRC at ${at}`);
    at += 12 + length + 4;
    records += 1;
  }
  return records;
}

export async function verifyRun(runDir) {
  const ok = [];
  const config = JSON.parse(await fs.readFile(path.join(runDir, 'config.json'), 'utf8'));
  if (!config.extra?.experiment || !config.model?.family) fail('config.json', 'lacks the model or experiment config');
  ok.push(`config.json: ${config.model.architecture} on ${config.dataset.name}, backend ${config.backend}`);

  const metrics = await readJsonLines(path.join(runDir, 'metrics.jsonl'));
  const losses = metrics.filter((m) => typeof m['loss/d'] === 'number' && typeof m['loss/g'] === 'number');
  const evals = metrics.filter((m) => typeof m.fid === 'number');
  if (losses.length === 0) fail('metrics.jsonl', 'no loss lines');
  if (!losses.every((m) => Number.isFinite(m['loss/d']) && Number.isFinite(m['loss/g']))) fail('metrics.jsonl', 'non-finite losses');
  if (evals.length === 0 || !Number.isFinite(evals.at(-1).fid)) fail('metrics.jsonl', 'no finite FID line');
  ok.push(`metrics.jsonl: ${losses.length} loss lines, FID ${evals.at(-1).fid.toFixed(2)}`);

  const samples = (await fs.readdir(path.join(runDir, 'samples'))).filter((f) => f.endsWith('.png'));
  if (samples.length < 2) fail('samples/', `expected at least 2 grids, found ${samples.length}`);
  for (const file of samples) {
    const meta = await sharp(path.join(runDir, 'samples', file)).metadata();
    if (meta.format !== 'png' || !(meta.width > 32 && meta.height > 32)) fail(`samples/${file}`, `not a grid PNG (${meta.format} ${meta.width}x${meta.height})`);
  }
  ok.push(`samples/: ${samples.length} PNG grids decode`);

  const steps = await listCheckpoints(runDir);
  const latest = await loadCheckpoint(runDir);
  if (latest.step !== steps.at(-1)) fail('checkpoints/LATEST', `names step ${latest.step}, newest is ${steps.at(-1)}`);
  ok.push(`checkpoints/: steps ${steps.join(', ')}; LATEST (step ${latest.step}) verifies its checksums`);

  const eventFiles = (await fs.readdir(path.join(runDir, 'events'))).filter((f) => f.startsWith('events.out.tfevents.'));
  if (eventFiles.length === 0) fail('events/', 'no event file');
  let records = 0;
  for (const file of eventFiles) records += await countTfRecords(path.join(runDir, 'events', file));
  if (records < losses.length) fail('events/', `only ${records} records`);
  ok.push(`events/: ${eventFiles.length} TensorBoard file(s), ${records} records with valid CRCs`);

  const report = await fs.readFile(path.join(runDir, 'report.html'), 'utf8');
  if (!report.includes('<svg') || !report.includes('data:image/png;base64,') || !/fid/i.test(report)) {
    fail('report.html', 'lacks loss curves, sample grids or the FID');
  }
  ok.push(`report.html: ${(report.length / 1024).toFixed(0)} KiB with curves, grids and FID`);
  return ok;
}
