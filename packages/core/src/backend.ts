/**
 * Backend selection. gensynth never imports a backend at module load; `initBackend` tries them in
 * order of speed, logs its choice and why it skipped the others, and can be forced.
 *
 * Order: native CUDA (`@tensorflow/tfjs-node-gpu`), native CPU (`@tensorflow/tfjs-node`),
 * WebAssembly with gensynth's training kernels, the pure-JS CPU backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GensynthError } from './errors';
import { getLogger, type Logger } from './logger';
import { registerWasmTrainingKernels } from './kernels/wasm';
import {
  nativeKernelThreads,
  nativeKernelsFma,
  nativeKernelsUsable,
  prepareNativeKernels,
} from './kernels/wasm/native/module';
import {
  checkWasmThreads,
  resolveWasmThreads,
  startThreadedWasm,
  threadedWasmThreads,
} from './kernels/wasm/threads';
import { registerCpuKernelFixes } from './kernels/cpu';

export type BackendName = 'node-gpu' | 'node' | 'wasm' | 'cpu';

export const BACKEND_ORDER: readonly BackendName[] = Object.freeze([
  'node-gpu',
  'node',
  'wasm',
  'cpu',
]);

/** Loads a backend's package and returns the tfjs backend name to activate. */
export type BackendLoader = () => Promise<string>;

export interface InitBackendOptions {
  /** Try these first, in this order, then the rest of the default order. */
  prefer?: BackendName[];
  /** Use exactly this backend; fail if it cannot load. */
  force?: BackendName;
  logger?: Logger;
  /**
   * Threads for the WASM backend under Node (default: env `GENSYNTH_WASM_THREADS`, else the
   * number of cores; at most 8). Above 1, gensynth starts tfjs's threaded SIMD build; if that
   * cannot start, it logs why and runs single-threaded. Fixed once 'wasm' has started.
   */
  threads?: number;
  /** Replace how backends are loaded (tests simulate missing packages with this). */
  loaders?: Partial<Record<BackendName, BackendLoader>>;
}

export interface BackendChoice {
  name: BackendName;
  /** The tfjs backend name now active (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  /** Why each earlier candidate was skipped. */
  skipped: { name: BackendName; reason: string }[];
  /** 'wasm' only: the threads its training kernels run on. */
  threads?: number;
  /**
   * 'wasm' only: whether gensynth's kernel module runs with fused multiply-adds (relaxed SIMD;
   * see the core README, "WebAssembly kernels").
   */
  fma?: boolean;
}

const PACKAGE_OF: Record<BackendName, string> = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

async function importOptional(name: string): Promise<unknown> {
  // A variable specifier keeps bundlers from trying to resolve optional native packages.
  const specifier = name;
  return import(specifier);
}

// 'wasm' is made per call by `wasmLoader`, which needs the thread option.
const DEFAULT_LOADERS: Record<Exclude<BackendName, 'wasm'>, BackendLoader> = {
  'node-gpu': async () => {
    await importOptional(PACKAGE_OF['node-gpu']);
    return 'tensorflow';
  },
  node: async () => {
    await importOptional(PACKAGE_OF.node);
    return 'tensorflow';
  },
  cpu: async () => {
    await import('@tensorflow/tfjs-backend-cpu');
    registerCpuKernelFixes();
    return 'cpu';
  },
};

/** The default WASM loader, starting the threaded build first when more than 1 thread is asked. */
function wasmLoader(requested: number | undefined, logger: Logger): BackendLoader {
  return async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const threads = await resolveWasmThreads(requested, (m) => logger.warn(m));
    const running = threadedWasmThreads();
    if (running !== undefined && running !== threads) {
      logger.warn(`backend: wasm already runs ${running} threads; ignoring threads=${threads}`);
    } else if (threads > 1 && running === undefined) {
      try {
        // gensynth's kernel module runs the heavy kernels on `threads` threads of its own;
        // XNNPACK keeps one (see startThreadedWasm).
        await startThreadedWasm(wasm, threads, nativeKernelsUsable() ? 1 : threads);
        logger.debug(
          `backend: started tfjs's threaded SIMD WebAssembly build with ${threads} threads`,
        );
      } catch (error) {
        logger.warn(
          `backend: multi-threaded WebAssembly could not start (${(error as Error)?.message ?? String(error)}); using 1 thread`,
        );
      }
    }
    registerWasmTrainingKernels();
    return 'wasm';
  };
}

/** Threads the 'wasm' backend trains on: gensynth's kernel threads or XNNPACK's, the larger. */
async function wasmThreadCount(): Promise<number> {
  let xnnpack = 1;
  try {
    xnnpack = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  } catch {
    // Not loaded: one thread.
  }
  return Math.max(xnnpack, nativeKernelThreads(tf.backend()));
}

function isNotInstalled(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
}

function checkName(where: string, name: unknown): asserts name is BackendName {
  if (!BACKEND_ORDER.includes(name as BackendName)) {
    throw new GensynthError('INVALID_ARGUMENT', {
      where,
      expected: `one of ${BACKEND_ORDER.map((b) => `'${b}'`).join(', ')}`,
      received: JSON.stringify(name),
      fix: 'Pick a backend name from that list, or leave it out to let gensynth choose.',
    });
  }
}

/**
 * tfjs-core alone registers no gradients; tfjs-layers (and the `@tensorflow/tfjs` union package)
 * register all of them on import. Training needs them, so make sure they are there.
 */
async function ensureGradients(logger: Logger): Promise<void> {
  if (tf.getGradient('Conv2D') !== undefined) return;
  try {
    await importOptional('@tensorflow/tfjs-layers');
  } catch {
    // Reported below.
  }
  if (tf.getGradient('Conv2D') === undefined) {
    logger.warn(
      'backend: no gradients are registered, so training will fail; install @tensorflow/tfjs-layers or import @tensorflow/tfjs',
    );
  }
}

/**
 * Pick and activate the fastest available backend. Returns what was chosen and why the others
 * were skipped. Missing native packages are normal: they are logged at info level, not thrown.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendChoice> {
  const logger = options.logger ?? getLogger();
  if (options.threads !== undefined) checkWasmThreads(options.threads);
  const loaders = {
    ...DEFAULT_LOADERS,
    wasm: wasmLoader(options.threads, logger),
    ...options.loaders,
  };
  let candidates: BackendName[];
  if (options.force !== undefined) {
    checkName('initBackend(force)', options.force);
    candidates = [options.force];
  } else {
    const prefer = options.prefer ?? [];
    prefer.forEach((p, i) => checkName(`initBackend(prefer[${i}])`, p));
    candidates = [...prefer, ...BACKEND_ORDER.filter((b) => !prefer.includes(b))];
  }

  await ensureGradients(logger);
  const skipped: BackendChoice['skipped'] = [];
  for (const name of candidates) {
    try {
      const tfBackend = await loaders[name]();
      const ok = await tf.setBackend(tfBackend);
      if (!ok) throw new Error(`tf.setBackend('${tfBackend}') returned false`);
      await tf.ready();
      const warn = (message: string) => logger.warn(message);
      if (tfBackend === 'wasm' && !(await prepareNativeKernels(tf.backend(), warn))) {
        logger.debug("backend: gensynth's SIMD kernel module is off; using composite kernels");
      }
      const why = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
      const threadCount = tfBackend === 'wasm' ? await wasmThreadCount() : undefined;
      const fma = tfBackend === 'wasm' ? nativeKernelsFma(tf.backend()) : undefined;
      const threads = threadCount === undefined ? '' : `, ${threadCount} thread(s)`;
      const fused = fma ? ', fused multiply-add' : '';
      logger.info(
        `backend: using ${name} (tfjs '${tfBackend}'${threads}${fused})${why ? `; skipped ${why}` : ''}`,
      );
      return threadCount === undefined
        ? { name, tfBackend, skipped }
        : { name, tfBackend, skipped, threads: threadCount, fma: fma === true };
    } catch (error) {
      const reason = isNotInstalled(error)
        ? `${PACKAGE_OF[name]} is not installed`
        : `failed to load: ${(error as Error)?.message ?? String(error)}`;
      skipped.push({ name, reason });
      logger.debug(`backend: skipping ${name}: ${reason}`);
    }
  }

  const tried = skipped.map((s) => `${s.name} (${s.reason})`).join(', ');
  throw new GensynthError('BACKEND_UNAVAILABLE', {
    where: options.force ? `initBackend(force: '${options.force}')` : 'initBackend',
    expected: 'a tfjs backend that loads',
    received: tried,
    fix: options.force
      ? `Install ${PACKAGE_OF[options.force]}, or drop 'force' to fall back automatically.`
      : 'Install @tensorflow/tfjs-backend-wasm or @tensorflow/tfjs-backend-cpu (dependencies of @gensynth/core).',
  });
}
