// Checks that a finished run left every artifact, each valid: used by `npm run demo -- --smoke`
// (and so by CI). Returns one line per check; throws on the first failure.
//
// Event files are read here with a small decoder of their own (TFRecord framing, then the
// protobuf wire format of tensorflow/core/util/event.proto and framework/summary.proto), so the
// check does not trust the writer's encoder.
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

/** The records of an event file, verifying both masked CRC-32Cs of each. */
async function readTfRecords(file) {
  const bytes = await fs.readFile(file);
  const records = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) fail(file, `truncated record header at byte ${at}`);
    const header = bytes.subarray(at, at + 8);
    const length = Number(bytes.readBigUInt64LE(at));
    if (bytes.readUInt32LE(at + 8) !== maskedCrc32c(header)) fail(file, `bad length CRC at ${at}`);
    const data = bytes.subarray(at + 12, at + 12 + length);
    if (data.length !== length || at + 16 + length > bytes.length) {
      fail(file, `truncated record at ${at}`);
    }
    if (bytes.readUInt32LE(at + 12 + length) !== maskedCrc32c(data)) {
      fail(file, `bad data CRC at ${at}`);
    }
    records.push(data);
    at += 12 + length + 4;
  }
  return records;
}

/** Protobuf message -> Map(field number -> [varint (BigInt) | Buffer]). */
function decodeProto(buf) {
  const fields = new Map();
  let at = 0;
  const varint = () => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= buf.length) throw new Error('truncated varint');
      const byte = buf[at++];
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const wire = key & 7;
    let value;
    if (wire === 0) value = varint();
    else if (wire === 1) value = buf.subarray(at, (at += 8));
    else if (wire === 5) value = buf.subarray(at, (at += 4));
    else if (wire === 2) {
      const length = Number(varint());
      value = buf.subarray(at, (at += length));
    } else throw new Error(`wire type ${wire}`);
    fields.set(key >>> 3, [...(fields.get(key >>> 3) ?? []), value]);
  }
  return fields;
}

/** Event -> { step, fileVersion, scalars: [{ tag, value }], images: [{ tag, png }] }. */
function decodeEvent(record) {
  const event = decodeProto(record);
  const summary = event.get(5)?.[0];
  const values = summary ? (decodeProto(summary).get(1) ?? []).map(decodeProto) : [];
  const tagOf = (v) => v.get(1)?.[0]?.toString('utf8');
  return {
    step: Number(event.get(2)?.[0] ?? 0n),
    fileVersion: event.get(3)?.[0]?.toString('utf8'),
    scalars: values
      .filter((v) => v.has(2))
      .map((v) => ({ tag: tagOf(v), value: v.get(2)[0].readFloatLE(0) })),
    images: values
      .filter((v) => v.has(4))
      .map((v) => ({ tag: tagOf(v), png: decodeProto(v.get(4)[0]).get(4)?.[0] })),
  };
}

/** What the report prints for a metric value (see formatNumber in @gensynth/train's report). */
function reportNumber(value) {
  const abs = Math.abs(value);
  if (value === 0) return '0';
  return abs >= 1e4 || abs < 1e-3 ? value.toExponential(3) : value.toPrecision(5);
}

export async function verifyRun(runDir) {
  const ok = [];
  const config = JSON.parse(await fs.readFile(path.join(runDir, 'config.json'), 'utf8'));
  if (config.format !== 'gensynth-run' || !config.model?.family || !config.extra?.experiment) {
    fail('config.json', 'lacks the format, the model config or the experiment config');
  }
  if (!config.dataset?.sha256 || !config.backend || !config.versions?.['@tensorflow/tfjs-core']) {
    fail('config.json', 'lacks the dataset fingerprint, the backend or the package versions');
  }
  const steps = config.train.steps;
  ok.push(
    `config.json: ${config.model.architecture} on ${config.dataset.name} ` +
      `(${config.dataset.size} images), ${steps} steps, backend ${config.backend}`,
  );

  const metrics = await readJsonLines(path.join(runDir, 'metrics.jsonl'));
  const losses = metrics.filter((m) => 'loss/d' in m || 'loss/g' in m);
  const evals = metrics.filter((m) => 'fid' in m);
  if (losses.length === 0) fail('metrics.jsonl', 'no loss lines');
  for (const m of metrics) {
    if (!Number.isInteger(m.step) || typeof m.time !== 'number') {
      fail('metrics.jsonl', `line without an integer step and a time: ${JSON.stringify(m)}`);
    }
  }
  for (const m of losses) {
    if (!Number.isFinite(m['loss/d']) || !Number.isFinite(m['loss/g'])) {
      fail('metrics.jsonl', `non-finite or missing losses at step ${m.step}`);
    }
  }
  const lossSteps = losses.map((m) => m.step);
  if (lossSteps.some((s, i) => i > 0 && s <= lossSteps[i - 1]) || lossSteps.at(-1) !== steps) {
    fail('metrics.jsonl', `loss steps ${lossSteps.join(', ')} do not rise to step ${steps}`);
  }
  const fid = evals.at(-1)?.fid;
  if (!Number.isFinite(fid) || fid < 0) fail('metrics.jsonl', `no finite FID line (${fid})`);
  ok.push(`metrics.jsonl: ${metrics.length} lines parse, ${losses.length} loss lines, FID ${fid}`);

  const samplesDir = path.join(runDir, 'samples');
  const samples = (await fs.readdir(samplesDir)).filter((f) => f.endsWith('.png')).sort();
  if (samples.length < 2) fail('samples/', `expected at least 2 grids, found ${samples.length}`);
  const samplePngs = new Map();
  for (const file of samples) {
    const png = await fs.readFile(path.join(samplesDir, file));
    const { data, info } = await sharp(png)
      .raw()
      .toBuffer({ resolveWithObject: true })
      .catch((error) => fail(`samples/${file}`, `does not decode: ${error.message}`));
    if (!(info.width > 32 && info.height > 32)) {
      fail(`samples/${file}`, `not a grid (${info.width}x${info.height})`);
    }
    if (data.every((byte) => byte === data[0])) fail(`samples/${file}`, 'every pixel is the same');
    samplePngs.set(Number(/step-(\d+)\.png$/.exec(file)?.[1]), png);
  }
  ok.push(`samples/: ${samples.length} PNG grids decode and are not blank`);

  const checkpointSteps = await listCheckpoints(runDir);
  const latest = await loadCheckpoint(runDir);
  if (latest.step !== checkpointSteps.at(-1) || latest.step !== steps) {
    fail('checkpoints/LATEST', `names step ${latest.step}; newest ${checkpointSteps.at(-1)}`);
  }
  for (const step of checkpointSteps) {
    const checkpoint = await loadCheckpoint(runDir, { step });
    const groups = new Set(checkpoint.tensors.map((t) => t.group));
    if (!groups.has('network') || !groups.has('optimizer') || !checkpoint.state.cursor) {
      fail(`checkpoints/step ${step}`, 'lacks weights, optimizer state or the data cursor');
    }
  }
  ok.push(
    `checkpoints/: steps ${checkpointSteps.join(', ')} all verify their checksums; ` +
      `LATEST is step ${latest.step}`,
  );

  const eventsDir = path.join(runDir, 'events');
  const eventFiles = (await fs.readdir(eventsDir)).filter((f) => f.startsWith('events.out.'));
  if (eventFiles.length === 0) fail('events/', 'no event file');
  const events = [];
  for (const file of eventFiles) {
    const decoded = (await readTfRecords(path.join(eventsDir, file))).map(decodeEvent);
    if (decoded[0]?.fileVersion !== 'brain.Event:2') fail(`events/${file}`, 'no file version');
    events.push(...decoded);
  }
  const scalarSteps = (tag) =>
    events.flatMap((e) => e.scalars.filter((s) => s.tag === tag).map(() => e.step));
  for (const tag of ['loss/d', 'loss/g']) {
    if (scalarSteps(tag).join() !== lossSteps.join()) {
      fail(
        'events/',
        `${tag} at steps ${scalarSteps(tag).join(', ')}; metrics.jsonl has ${lossSteps}`,
      );
    }
  }
  const lastFid = events.flatMap((e) => e.scalars.filter((s) => s.tag === 'fid')).at(-1);
  if (lastFid?.value !== Math.fround(fid))
    fail('events/', `fid ${lastFid?.value}, expected ${fid}`);
  const images = events.flatMap((e) => e.images.map((i) => ({ ...i, step: e.step })));
  for (const [step, png] of samplePngs) {
    if (!images.some((i) => i.tag === 'samples' && i.step === step && i.png?.equals(png))) {
      fail('events/', `no 'samples' image at step ${step} equal to samples/ PNG`);
    }
  }
  ok.push(
    `events/: ${eventFiles.length} file(s), ${events.length} records with valid CRCs; ` +
      `losses, FID and ${samplePngs.size} sample images at their steps`,
  );

  const report = await fs.readFile(path.join(runDir, 'report.html'), 'utf8');
  if (!report.includes('<svg')) fail('report.html', 'no loss curves');
  if (!report.includes(`<td>fid</td><td>${reportNumber(fid)}</td>`)) {
    fail('report.html', `no FID ${reportNumber(fid)} in the metrics table`);
  }
  for (const [step, png] of samplePngs) {
    const img = `<img alt="samples at step ${step}" src="data:image/png;base64,${png.toString('base64')}">`;
    if (!report.includes(img)) fail('report.html', `lacks the sample grid of step ${step}`);
  }
  ok.push(`report.html: ${(report.length / 1024).toFixed(0)} KiB with curves, FID and every grid`);
  return ok;
}
