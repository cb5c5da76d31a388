/**
 * `npm run demo -- <flags>`: bad flags are refused before any work, naming the flag and what it
 * accepts, with exit code 2. Runs demo.mjs against the built packages (turbo builds them first).
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const demo = path.join(__dirname, '..', 'demo.mjs');
let cwd: string;

beforeAll(async () => {
  cwd = await fs.mkdtemp(path.join(os.tmpdir(), 'gensynth-demo-flags-'));
});

afterAll(async () => {
  await fs.rm(cwd, { recursive: true, force: true });
});

/** Run demo.mjs as `npm run demo` would from `cwd` (npm passes INIT_CWD). */
function runDemo(...args: string[]) {
  const child = spawnSync(process.execPath, [demo, ...args], {
    cwd: path.dirname(demo),
    env: { ...process.env, INIT_CWD: cwd },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('demo flags', () => {
  it.each([
    [
      ['--progress', 'plainn'],
      `gensynth demo: --progress: expected one of auto, bar, lines, plain, none; received "plainn".`,
    ],
    [['--steps', '0'], 'gensynth demo: --steps: expected a positive integer; received "0".'],
    [['--steps', '1e3'], 'gensynth demo: --steps: expected a positive integer; received "1e3".'],
    [['--bogus'], "gensynth demo: Unknown option '--bogus'"],
    [
      ['--backend', 'gpu'],
      '  - backend: expected one of "auto", "node-gpu", "node", "wasm", "cpu"; received "gpu"',
    ],
  ])('refuses %j with exit 2 and says what is allowed', (args, message) => {
    const result = runDemo(...args);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('usage: npm run demo -- [--smoke]');
    expect(result.stdout).toBe(''); // refused before it starts anything
  });

  it('refuses to overwrite an existing run and names the resume command', async () => {
    const runDir = path.join(cwd, 'runs', 'mine');
    await fs.mkdir(runDir, { recursive: true });
    await fs.writeFile(path.join(runDir, 'config.json'), '{}');
    const result = runDemo('--run-dir', 'runs/mine', '--progress', 'plain');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      'gensynth demo: runs/mine already holds a run. Continue it with `npx gensynth resume runs/mine --steps <n>`',
    );
    expect(result.stdout).toBe('');
  });
});
