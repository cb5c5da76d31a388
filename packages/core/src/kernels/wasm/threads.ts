/**
 * Multi-threaded WebAssembly under Node.
 *
 * tfjs-backend-wasm ships a threaded SIMD build (XNNPACK on a pthreadpool) but never uses it in
 * Node: its thread check returns false there (tfjs issue #3830), and forcing it fails because it
 * hands Emscripten `blob:` URLs for the worker and main scripts, which Node's `Worker` rejects.
 * The Emscripten glue itself supports Node workers when given file paths, so gensynth starts the
 * threaded build itself:
 *
 * 1. the pthread worker script (shipped as a string) is written once to a private per-user folder
 *    in the OS temp directory; the worker loads the glue from its path inside node_modules;
 * 2. the glue's `emscripten_num_logical_cores` import is replaced, because tfjs sizes its pool as
 *    half the logical cores (assuming hyper-threading), which is one thread on a 2-core machine;
 * 3. tfjs's `BackendWasm` is registered as 'wasm' over the started module, so every stock and
 *    gensynth kernel runs on it unchanged.
 *
 * The pool's threads are unref'd, so they never keep a process alive; Emscripten's spare workers
 * are ended once the pool exists.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GensynthError } from '../../errors';

/** The most threads tfjs's threaded build can use (its Emscripten pool has 8 workers). */
export const MAX_WASM_THREADS = 8;

/** Environment variable that sets the WASM thread count when `initBackend` gets none. */
export const WASM_THREADS_ENV = 'GENSYNTH_WASM_THREADS';

const START_TIMEOUT_MS = 30_000;

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
}

/** The parts of an Emscripten module (threaded tfjs build) used here. */
interface EmscriptenModule {
  cwrap(name: string, returns: string | null, args: string[]): (...args: number[]) => number;
  PThread?: {
    runningWorkers: NodeWorker[];
    unusedWorkers: NodeWorker[];
    terminateAllThreads(): void;
  };
  tfjs?: Record<string, (...args: number[]) => number>;
}

type Imports = Record<string, Record<string, unknown>>;

/** The one WebAssembly call used here (the DOM typings that declare it are not loaded). */
interface WebAssemblyApi {
  instantiate(bytes: Uint8Array, imports: Imports): Promise<{ instance: object; module: object }>;
}

interface FactoryConfig {
  locateFile(file: string, prefix: string): string;
  mainScriptUrlOrBlob: string;
  instantiateWasm(imports: Imports, receive: (instance: object, module: object) => void): object;
  onAbort(reason: unknown): void;
  PThread?: EmscriptenModule['PThread'];
}

type WasmPackage = typeof import('@tensorflow/tfjs-backend-wasm');

let started: { threads: number } | undefined;

/** Throws unless `requested` is a valid `threads` option (an integer >= 1). */
export function checkWasmThreads(requested: number): void {
  if (!Number.isInteger(requested) || requested < 1) {
    throw new GensynthError('INVALID_ARGUMENT', {
      where: 'initBackend(threads)',
      expected: 'an integer >= 1',
      received: String(requested),
      fix: 'Pass the number of cores to use, or 1 for the single-threaded build.',
    });
  }
}

/**
 * The thread count to use: `requested` if given (checked by `checkWasmThreads`), else
 * `GENSYNTH_WASM_THREADS`, else the number of cores; capped at `MAX_WASM_THREADS`. A bad variable
 * is reported through `warn` and ignored.
 */
export async function resolveWasmThreads(
  requested: number | undefined,
  warn: (message: string) => void,
): Promise<number> {
  const cores = (await import('node:os')).availableParallelism();
  let threads = cores;
  const variable = process.env[WASM_THREADS_ENV];
  if (requested !== undefined) {
    checkWasmThreads(requested);
    threads = requested;
  } else if (variable !== undefined && variable !== '') {
    const value = Number(variable);
    if (Number.isInteger(value) && value >= 1) threads = value;
    else {
      warn(
        `backend: ignoring ${WASM_THREADS_ENV}=${JSON.stringify(variable)} (expected an integer >= 1); using ${cores}`,
      );
    }
  }
  return Math.min(threads, MAX_WASM_THREADS);
}

/** The thread count of the threaded build if gensynth started it, else undefined. */
export function threadedWasmThreads(): number | undefined {
  return started?.threads;
}

/**
 * Start tfjs-backend-wasm's threaded SIMD build for `threads` threads and register it as the
 * 'wasm' backend (replacing the stock single-threaded registration). Call after importing
 * `@tensorflow/tfjs-backend-wasm` and before the 'wasm' backend is first activated. Throws with
 * the reason when it cannot start; the stock registration is then left as it was.
 *
 * `xnnpackThreads` (default `threads`) sizes tfjs's own XNNPACK thread pool. `initBackend` sets
 * it to 1 when gensynth's kernel module runs the heavy kernels on its own `threads` threads
 * (`native/pool.ts`): XNNPACK's pool then only gets small calls, whose hand-offs cost more than
 * they save, and its idle threads no longer compete for the cores.
 */
export async function startThreadedWasm(
  wasmPackage: WasmPackage,
  threads: number,
  xnnpackThreads = threads,
): Promise<void> {
  if (started !== undefined) {
    if (started.threads === threads) return;
    throw new Error(`the threaded build already runs with ${started.threads} threads`);
  }
  if (typeof process === 'undefined' || process.versions?.node === undefined) {
    throw new Error('not running under Node');
  }
  if (typeof SharedArrayBuffer === 'undefined') {
    throw new Error('SharedArrayBuffer is not available');
  }
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) {
    throw new Error('WebAssembly SIMD is not supported');
  }
  if ((tf.engine().registry as Record<string, unknown>).wasm !== undefined) {
    throw new Error("the 'wasm' backend was already started single-threaded");
  }

  const [{ createRequire }, fs, os, path] = await Promise.all([
    import('node:module'),
    import('node:fs'),
    import('node:os'),
    import('node:path'),
  ]);
  const require = createRequire(__filename);
  const outDir = path.join(
    path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')),
    'wasm-out',
  );
  const gluePath = path.join(outDir, 'tfjs-backend-wasm-threaded-simd.js');
  const wasmPath = path.join(outDir, 'tfjs-backend-wasm-threaded-simd.wasm');
  const factory = require(gluePath) as (config: FactoryConfig) => Promise<EmscriptenModule>;
  const { wasmWorkerContents } = require(
    path.join(outDir, 'tfjs-backend-wasm-threaded-simd.worker.js'),
  ) as { wasmWorkerContents: string };

  // 1. The worker script. The shipped string holds `\n` escapes that became real newlines inside
  // string literals; tfjs re-escapes them the same way before making its blob.
  const workerSource = wasmWorkerContents.replace(/\n/g, '\\n');
  // TMPDIR first: os.tmpdir() reads the real environment, which jest tests cannot change. The
  // folder is per user and private, so no one else can swap the script that workers run.
  const uid = process.getuid?.() ?? 'user';
  const workerDir = path.join(
    process.env.TMPDIR || os.tmpdir(),
    `gensynth-tfjs-wasm-${wasmPackage.version_wasm}-${uid}`,
  );
  const workerPath = path.join(workerDir, 'threaded-simd.worker.cjs');
  makePrivateDir(fs, workerDir);
  writeIfChanged(fs, workerPath, workerSource);

  // 2. Start one module now, so that a failure shows here and initBackend can fall back. The
  // backend factory uses it, and starts a fresh one if tfjs creates the backend again (after
  // tf.engine().reset(), which disposes the backend and so ends the module's threads).
  const paths: ModulePaths = { gluePath, wasmPath, workerPath, bytes: fs.readFileSync(wasmPath) };
  let prepared: EmscriptenModule | undefined = await startModule(factory, paths, xnnpackThreads);
  wasmPackage.setThreadsCount(xnnpackThreads);
  const priority = tf.engine().registryFactory.wasm?.priority ?? 2;
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      const module = prepared ?? (await startModule(factory, paths, xnnpackThreads));
      prepared = undefined;
      const backend = new wasmPackage.BackendWasm(module as never);
      // The pool's threads now exist and run forever: they must not keep the process alive, and
      // the idle workers Emscripten made in advance (8) are not needed.
      const pool = module.PThread;
      for (const worker of pool?.runningWorkers ?? []) worker.unref();
      for (const worker of pool?.unusedWorkers.splice(0) ?? []) void worker.terminate();
      return backend;
    },
    priority,
  );
  started = { threads };
}

interface ModulePaths {
  gluePath: string;
  wasmPath: string;
  workerPath: string;
  bytes: Uint8Array;
}

/** Start one threaded module, reporting the core count tfjs expects (it halves and caps it). */
async function startModule(
  factory: (config: FactoryConfig) => Promise<EmscriptenModule>,
  paths: ModulePaths,
  threads: number,
): Promise<EmscriptenModule> {
  const previousWorker = (globalThis as { Worker?: unknown }).Worker;
  const config: FactoryConfig = {
    locateFile: (file, prefix) => {
      if (file.endsWith('.worker.js')) return paths.workerPath;
      if (file.endsWith('.wasm')) return paths.wasmPath;
      return prefix + file;
    },
    mainScriptUrlOrBlob: paths.gluePath,
    instantiateWasm: (imports, receive) => {
      const env = withCoreCount(imports.env ?? {}, 2 * threads);
      const api = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
      api.instantiate(paths.bytes, { ...imports, env, wasi_snapshot_preview1: env }).then(
        (result) => receive(result.instance, result.module),
        (error: unknown) => config.onAbort(error),
      );
      return {};
    },
    onAbort: () => undefined,
  };
  const aborted = new Promise<never>((_, reject) => {
    config.onAbort = (reason) => reject(new Error(`the module aborted: ${String(reason)}`));
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`its workers did not start within ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
    timer.unref();
  });
  let module: EmscriptenModule;
  try {
    module = await Promise.race([factory(config), aborted, timedOut]);
  } catch (error) {
    config.PThread?.terminateAllThreads();
    throw error;
  } finally {
    clearTimeout(timer);
    // The glue sets a global `Worker` for itself; its pool is allocated by now.
    (globalThis as { Worker?: unknown }).Worker = previousWorker;
    if (previousWorker === undefined) delete (globalThis as { Worker?: unknown }).Worker;
  }

  // The bridge that tfjs's own init() adds.
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/** `env` with its `emscripten_num_logical_cores` import replaced to return `cores`. */
function withCoreCount(env: Record<string, unknown>, cores: number): Record<string, unknown> {
  const out = { ...env };
  let found = false;
  for (const [key, value] of Object.entries(env)) {
    if (typeof value === 'function' && value.name === '_emscripten_num_logical_cores') {
      out[key] = () => cores;
      found = true;
    }
  }
  if (!found)
    throw new Error('its glue has no emscripten_num_logical_cores import to size the pool');
  return out;
}

/** Create `dir` (mode 700) or check that an existing one is this user's and private. */
function makePrivateDir(fs: typeof import('node:fs'), dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // lstat: a link planted in its place is refused, not followed.
  const stat = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (uid !== undefined && (stat.uid !== uid || (stat.mode & 0o077) !== 0)) {
    throw new Error(`${dir} belongs to another user or is open to others`);
  }
}

/** Write `text` to `file` unless it already holds it; atomic for concurrent processes. */
function writeIfChanged(fs: typeof import('node:fs'), file: string, text: string): void {
  try {
    if (fs.readFileSync(file, 'utf8') === text) return;
  } catch {
    // Not there yet.
  }
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file);
}
