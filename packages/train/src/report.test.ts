import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { writeReport } from './report';

describe('writeReport', () => {
  let runDir: string;
  let png: Buffer;

  beforeAll(async () => {
    runDir = await fs.mkdtemp(path.join(os.tmpdir(), 'gensynth-report-'));
    const lines = [
      { step: 10, time: 1, 'loss/d': 1, 'loss/g': 2, 'd/real': 0.5 },
      { step: 20, time: 2, 'loss/d': 3, 'loss/g': 2, 'd/real': 0.7 },
      { step: 20, time: 3, fid: 12.3456 },
    ];
    await fs.writeFile(
      path.join(runDir, 'metrics.jsonl'),
      lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
    );
    await fs.writeFile(
      path.join(runDir, 'config.json'),
      JSON.stringify({ model: { family: '<b>gan</b>' } }),
    );
    png = await sharp(Buffer.from([0, 128, 255, 64]), { raw: { width: 2, height: 2, channels: 1 } })
      .png()
      .toBuffer();
    await fs.mkdir(path.join(runDir, 'samples'));
    await fs.writeFile(path.join(runDir, 'samples', 'step-000020.png'), png);
    await fs.writeFile(path.join(runDir, 'samples', 'step-000010.png'), png);
  });

  afterAll(async () => {
    await fs.rm(runDir, { recursive: true, force: true });
  });

  it('draws loss curves as inline SVG at the hand-computed coordinates', async () => {
    const html = await fs.readFile(await writeReport(runDir), 'utf8');
    // Plot area: x from 64 to 624 (640 - 64 - 16 wide), y from 28 to 224 (260 - 28 - 36 high).
    // loss/d spans the y range [1, 3]: (10, 1) -> (64, 224), (20, 3) -> (624, 28).
    expect(html).toContain('points="64.0,224.0 624.0,28.0"');
    // loss/g = 2 is mid-range: y = 224 - 196 / 2 = 126.
    expect(html).toContain('points="64.0,126.0 624.0,126.0"');
    expect(html).toMatch(/<text[^>]*>loss\/d<\/text>/);
  });

  it('shows the FID value, sample grids in step order and the escaped config, with no external assets', async () => {
    const html = await fs.readFile(path.join(runDir, 'report.html'), 'utf8');
    expect(html).toMatch(/<td>fid<\/td><td>12\.346<\/td><td>20<\/td><td>12\.346 \(step 20\)<\/td>/);
    // Values logged with the losses are training curves, not evaluation metrics.
    expect(html).not.toContain('<td>d/real</td>');
    expect(html).toMatch(/<svg[^>]*\n? aria-label="other training values"/);
    const uri = `data:image/png;base64,${png.toString('base64')}`;
    const first = html.indexOf('samples at step 10');
    expect(first).toBeGreaterThan(0);
    expect(html.indexOf('samples at step 20')).toBeGreaterThan(first);
    expect(html.split(uri)).toHaveLength(3);
    expect(html).toContain('&#60;b&#62;gan&#60;/b&#62;');
    expect(html).not.toContain('<b>gan');
    expect(html).not.toMatch(/<script|<link|src="http|href="http|url\(/);
  });

  it('writes a page for a run with no metrics yet', async () => {
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'gensynth-report-empty-'));
    const html = await fs.readFile(await writeReport(empty), 'utf8');
    expect(html).toContain('No losses logged yet.');
    await fs.rm(empty, { recursive: true, force: true });
  });
});
