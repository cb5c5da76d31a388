/** Event files are decoded with the independent reader in ../testing/event-reader. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  decodeEvent,
  decodeMessage,
  one,
  packedDoubles,
  readRecords,
  referenceCrc32c,
  str,
  type Field,
} from '../testing/event-reader';
import { crc32c, maskedCrc32c } from './crc32c';
import { EventWriter } from './event-writer';

describe('crc32c', () => {
  it('gives the CRC-32C check value 0xE3069283 for "123456789", as does the test reader', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(referenceCrc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('masks as rotate-right-15 plus 0xa282ead8: crc 0 -> 0xa282ead8', () => {
    expect(maskedCrc32c(new Uint8Array(0))).toBe(0xa282ead8); // CRC-32C of no bytes is 0
  });
});

describe('EventWriter', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'gensynth-events-'));
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('writes the file version, scalars, an image, a histogram and a session start', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 0, 255]);
    const writer = await EventWriter.create(tmp, { clock: () => 1700000000.25 });
    expect(path.basename(writer.path)).toBe(`events.out.tfevents.1700000000.${os.hostname()}`);
    writer.addScalars({ 'loss/d': 1.5, 'loss/g': -0.25 }, 10);
    await writer.flush();
    writer.addScalar('fid', 0.1, 300);
    writer.addImage('samples', { png, height: 30, width: 62, channels: 1 }, 300);
    writer.addHistogram('weights', [0, 1, 2, 3], 400, 2);
    writer.addSessionStart(401);
    await writer.close();

    const events = readRecords(await fs.readFile(writer.path)).map(decodeEvent);
    expect(events).toHaveLength(7);
    expect(events[0]).toMatchObject({
      fileVersion: 'brain.Event:2',
      wallTime: 1700000000.25,
      step: 0,
    });

    const scalars = events.slice(1, 4).map((e) => ({
      step: e.step,
      tag: str(one(e.values[0] as Map<number, Field[]>, 1)),
      value: one(e.values[0] as Map<number, Field[]>, 2)?.fixed?.readFloatLE(0),
    }));
    expect(scalars).toEqual([
      { step: 10, tag: 'loss/d', value: 1.5 },
      { step: 10, tag: 'loss/g', value: -0.25 },
      { step: 300, tag: 'fid', value: Math.fround(0.1) },
    ]);

    const imageValue = events[4]?.values[0] as Map<number, Field[]>;
    expect(events[4]?.step).toBe(300);
    expect(str(one(imageValue, 1))).toBe('samples');
    const image = decodeMessage(one(imageValue, 4)?.bytes as Buffer);
    expect(Number(one(image, 1)?.varint)).toBe(30);
    expect(Number(one(image, 2)?.varint)).toBe(62);
    expect(Number(one(image, 3)?.varint)).toBe(1);
    expect(one(image, 4)?.bytes?.equals(png)).toBe(true);

    const histoValue = events[5]?.values[0] as Map<number, Field[]>;
    const histo = decodeMessage(one(histoValue, 5)?.bytes as Buffer);
    const dbl = (n: number) => one(histo, n)?.fixed?.readDoubleLE(0);
    expect([dbl(1), dbl(2), dbl(3), dbl(4), dbl(5)]).toEqual([0, 3, 4, 6, 14]);
    expect(packedDoubles(one(histo, 6))).toEqual([1.5, 3]);
    expect(packedDoubles(one(histo, 7))).toEqual([2, 2]);

    expect(events[6]).toMatchObject({ step: 401, sessionStatus: 1 });
  });

  it('frames records so that the test reader catches a flipped data byte or length byte', async () => {
    const writer = await EventWriter.create(path.join(tmp, 'crc'), { clock: () => 7 });
    writer.addScalar('loss/d', 0.5, 3);
    await writer.close();
    const file = await fs.readFile(writer.path);
    const records = readRecords(file);
    expect(records).toHaveLength(2);
    // Record 1 starts after record 0: 8 length bytes + 4 + the data + 4.
    const second = 12 + (records[0] as Buffer).length + 4;
    const dataByte = Buffer.from(file);
    dataByte[second + 12] = (dataByte[second + 12] as number) ^ 1;
    expect(() => readRecords(dataByte)).toThrow(/bad data CRC/);
    const lengthByte = Buffer.from(file);
    lengthByte[second] = (lengthByte[second] as number) ^ 1;
    expect(() => readRecords(lengthByte)).toThrow(/bad length CRC/);
  });

  it('opens a new file instead of overwriting one from the same second', async () => {
    const dir = path.join(tmp, 'twice');
    const a = await EventWriter.create(dir, { clock: () => 5 });
    const b = await EventWriter.create(dir, { clock: () => 5 });
    expect(b.path).not.toBe(a.path);
    expect(readRecords(await fs.readFile(a.path))).toHaveLength(1);
  });

  it('rejects a negative step with where/expected/received', async () => {
    const writer = await EventWriter.create(path.join(tmp, 'bad'));
    expect(() => writer.addScalar('x', 1, -1)).toThrow(
      'EventWriter.addScalar(step): expected a non-negative integer; received -1. Pass the training step.',
    );
  });
});
