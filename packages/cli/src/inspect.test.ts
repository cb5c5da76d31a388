import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { setLogger, silentLogger } from '@gensynth/core';
import { gensynth } from './testing/gensynth';

/** A w x h 8-bit gray PNG of one value, per the PNG spec (CRCs included). */
function grayPng(w: number, h: number, value: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    let crc = ~0;
    for (const byte of out.subarray(4, 8 + data.length)) {
      crc ^= byte;
      for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
    }
    out.writeUInt32BE(~crc >>> 0, 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  const rows = Buffer.alloc(h * (w + 1), value);
  for (let y = 0; y < h; y++) rows[y * (w + 1)] = 0; // filter type 0 per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('gensynth data inspect', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gensynth-cli-inspect-'));
  beforeAll(() => {
    setLogger(silentLogger);
    fs.writeFileSync(path.join(root, 'a.png'), grayPng(5, 3, 40));
    fs.writeFileSync(path.join(root, 'b.PNG'), grayPng(5, 3, 90));
    fs.writeFileSync(path.join(root, 'empty.png'), '');
    fs.writeFileSync(path.join(root, 'notes.png'), 'a text file renamed .png');
    // The signature and IHDR only: the header check passes, only a decode finds it cut.
    fs.writeFileSync(path.join(root, 'cut.png'), grayPng(64, 64, 0).subarray(0, 40));
    fs.writeFileSync(path.join(root, 'Thumbs.db'), 'x');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('prints count, shape, classes and skipped files with reasons as JSON', async () => {
    const { code, out } = await gensynth('data', 'inspect', root, '--json');
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report).toMatchObject({
      kind: 'imageFolder',
      count: 3,
      imageShape: { height: 3, width: 5, channels: 3 },
      classes: null,
      skippedCount: 2,
    });
    expect(report.skipped.map((b: { file: string; reason: string }) => b.reason)).toEqual([
      'truncated',
      'not-an-image',
    ]);
    expect(report.skipped[0].file).toBe(path.join(root, 'empty.png'));
  });

  it('decodes every image with --full and lists the truncated one too', async () => {
    const { code, out } = await gensynth('data', 'inspect', root, '--json', '--full');
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report.count).toBe(2);
    expect(
      report.skipped.map((b: { file: string; reason: string }) => [
        path.basename(b.file),
        b.reason,
      ]),
    ).toEqual([
      ['cut.png', 'truncated'], // in file order, whichever decode finished first
      ['empty.png', 'truncated'],
      ['notes.png', 'not-an-image'],
    ]);
  });

  it('prints a readable summary without --json', async () => {
    const { code, out } = await gensynth('data', 'inspect', root);
    expect(code).toBe(0);
    expect(out).toContain('images:   3');
    expect(out).toContain('shape:    3 x 5 x 3');
    expect(out).toContain(`${path.join(root, 'notes.png')}: not-an-image`);
  });

  it('exits 1 with a message naming a missing source', async () => {
    const { code, out } = await gensynth('data', 'inspect', path.join(root, 'nope'));
    expect(code).toBe(1);
    expect(out).toMatch(/inspectSource\(source\): expected .*; received ".*nope"/);
  });
});
