/**
 * The root README's "Use it from your code" snippet is src/main.ts from its first import on;
 * src/main.ts type-checks and runs against the built @gensynth packages (what users import):
 * bundled with esbuild, for 4 steps and an FID on 64 samples.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';

const exampleDir = path.join(__dirname, '..');
const mainFile = path.join(exampleDir, 'src', 'main.ts');

/** The first ```ts block under the README heading `heading`. */
function snippetUnder(readme: string, heading: string): string {
  const section = readme.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? '';
  return /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
}

describe('examples/programmatic', () => {
  it('is what the root README shows under "Use it from your code"', async () => {
    const readme = await fs.readFile(path.join(exampleDir, '../../README.md'), 'utf8');
    const main = await fs.readFile(mainFile, 'utf8');
    const code = main.slice(main.search(/^import /m));
    expect(snippetUnder(readme, 'Use it from your code')).toBe(code);
    const imported = [...code.matchAll(/from '(@gensynth\/[a-z-]+)'/g)].map((m) => m[1]);
    expect(imported).toEqual([
      '@gensynth/core',
      '@gensynth/data',
      '@gensynth/metrics',
      '@gensynth/models-gan',
      '@gensynth/train',
    ]);
  });

  it("type-checks against the built packages' declarations (strict, as users compile it)", () => {
    const tsc = require.resolve('typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json'], {
      cwd: exampleDir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect({ status: result.status, output: result.stdout }).toEqual({ status: 0, output: '' });
  }, 150_000);

  it('trains a DCGAN on MNIST for 4 steps, scores it with FID and writes the run directory', async () => {
    const bundle = path.join(exampleDir, 'dist', 'main.test-run.mjs');
    // Bundle only main.ts itself: @gensynth/* and tfjs resolve from node_modules to the builds.
    await build({
      entryPoints: [mainFile],
      outfile: bundle,
      bundle: true,
      packages: 'external',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
    });
    const cwd = await fs.mkdtemp(path.join(os.tmpdir(), 'gensynth-programmatic-'));
    try {
      const child = spawnSync(process.execPath, [bundle, '4', '64'], {
        cwd,
        encoding: 'utf8',
        timeout: 280_000,
      });
      expect({ status: child.status, stderr: child.status === 0 ? '' : child.stderr }).toEqual({
        status: 0,
        stderr: '',
      });
      const line = /^step 4: FID (\d+\.\d) in (.+)$/m.exec(child.stdout);
      expect(line).not.toBeNull();
      expect(Number(line?.[1])).toBeGreaterThan(0);
      expect(line?.[2]).toMatch(/^runs\/programmatic-\d+$/);
      const runDir = path.join(cwd, line?.[2] as string);
      const names = (await fs.readdir(runDir)).sort();
      expect(names).toEqual([
        'checkpoints',
        'config.json',
        'events',
        'metrics.jsonl',
        'report.html',
        'samples',
      ]);
      expect(await fs.readdir(path.join(runDir, 'samples'))).toEqual(['step-000004.png']);
      const records = (await fs.readFile(path.join(runDir, 'metrics.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(records.map((r) => r.step)).toEqual([4, 4]); // the losses, then the FID
      expect(records[1].fid.toFixed(1)).toBe(line?.[1]);
    } finally {
      await fs.rm(cwd, { recursive: true, force: true });
      await fs.rm(bundle, { force: true });
    }
  }, 300_000);
});
