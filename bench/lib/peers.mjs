// Finding and running the Python peer scripts (shared/peers/*.py) that a benchmark compares with.
// A peer is one script run under the first Python interpreter that can import its framework.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/**
 * The folder holding the peer scripts: `--peers-dir`, then $GENSYNTH_PEERS_DIR, then `shared/peers`
 * beside the repository (how the team's machines and CI lay it out), then inside it.
 * @returns {string | undefined}
 */
export function findPeersDir(explicit) {
  const candidates = [
    explicit,
    process.env.GENSYNTH_PEERS_DIR,
    path.join(REPO_ROOT, '..', 'shared', 'peers'),
    path.join(REPO_ROOT, 'shared', 'peers'),
  ].filter(Boolean);
  return candidates.find((dir) => existsSync(dir));
}

/** Interpreters to try, best first: `--python`, $GENSYNTH_BENCH_PYTHON, the repo's .venv, python3. */
function pythonCandidates(explicit) {
  const list = [
    explicit,
    process.env.GENSYNTH_BENCH_PYTHON,
    path.join(REPO_ROOT, '.venv', 'bin', 'python'),
    'python3',
  ].filter(Boolean);
  return [...new Set(list)];
}

/** True when `python` can find `module` (without importing it: TensorFlow takes seconds). */
function hasModule(python, module) {
  try {
    const code = `import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('${module}') else 1)`;
    execFileSync(python, ['-c', code], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolve each wanted peer to a script and an interpreter.
 * @param {{name: string, script: string, module: string}[]} wanted
 * @returns {{peers: {name: string, script: string, python: string}[], missing: string[]}}
 */
export function resolvePeers(wanted, { peersDir, python } = {}) {
  const dir = findPeersDir(peersDir);
  const peers = [];
  const missing = [];
  for (const peer of wanted) {
    const script = dir && path.join(dir, peer.script);
    if (!script || !existsSync(script)) {
      missing.push(`${peer.name}: ${peer.script} not found (pass --peers-dir)`);
      continue;
    }
    const interpreter = pythonCandidates(python).find((py) => hasModule(py, peer.module));
    if (!interpreter) {
      missing.push(`${peer.name}: no python with '${peer.module}' (make .venv, see BENCHMARKS.md)`);
      continue;
    }
    peers.push({ name: peer.name, script, python: interpreter });
  }
  return { peers, missing };
}

/**
 * Run a peer script to completion and return its stdout. stderr (TensorFlow's start-up chatter)
 * is kept only for the error message when the script fails.
 * @returns {Promise<string>}
 */
export function runPeer(peer, args, { timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(peer.python, [peer.script, ...args], {
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else {
        const tail = stderr.trim().split('\n').slice(-5).join('\n');
        reject(new Error(`${peer.name} (${peer.script}) exited ${code ?? signal}:\n${tail}`));
      }
    });
  });
}

/**
 * Parse the one result line of dcgan32_torch.py / dcgan32_tf.py:
 * `torch 2.13.0+cpu threads=2 ms/step 123.4 img/s 518.6`.
 * @returns {{framework: string, version: string, threads: number, msPerStep: number, imgPerSec: number}}
 */
export function parseStepLine(stdout) {
  const match = /^(\S+) (\S+) threads=(\d+) ms\/step ([\d.]+) img\/s ([\d.]+)\s*$/m.exec(stdout);
  if (!match) {
    throw new Error(
      `peer output has no 'NAME VERSION threads=N ms/step X img/s Y' line:\n${stdout}`,
    );
  }
  return {
    framework: match[1],
    version: match[2],
    threads: Number(match[3]),
    msPerStep: Number(match[4]),
    imgPerSec: Number(match[5]),
  };
}
