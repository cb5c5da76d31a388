/**
 * Threads for gensynth's native kernels (Node only).
 *
 * On tfjs's threaded build the heap is a shared `WebAssembly.Memory`, so the kernel module can be
 * instantiated a second time in a worker thread on that same memory. A call is split into parts
 * (output rows or filter taps, which the kernels take as a range); the main thread runs the first
 * part itself and each worker one other part, then the main thread waits for them. Hand-offs go
 * through a small shared Int32Array with `Atomics.wait`/`notify`: no messages, no copies.
 *
 * Per worker, in `control` (Int32 slots): [SEQ] the call number the main thread posted,
 * [DONE] the last call number it finished, [FAILED] 1 if that call threw, [FN] which export to
 * run; its arguments follow as float64s in `args` (exact for every int32 and float32 value).
 */
import type { NativeKernels } from './module';

const SEQ = 0;
const DONE = 1;
const FAILED = 2;
const FN = 3;
const SLOT_INTS = 4;
const MAX_ARGS = 32;
const WAIT_SLICE_MS = 1000;
const SPIN_MS = 2;

/** Exports a worker can run, by index (the same list in the worker's script). */
export const PARALLEL_EXPORTS = [
  'conv2d_filter_grad',
  'conv2d_forward',
  'conv2d_backprop_input',
  'matmul',
] as const;
type ParallelExport = (typeof PARALLEL_EXPORTS)[number];

/** The worker's whole program (run with `eval: true`). */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, args, index, names } = workerData;
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctrl = new Int32Array(control, index * ${SLOT_INTS * 4}, ${SLOT_INTS});
const argv = new Float64Array(args, index * ${MAX_ARGS * 8}, ${MAX_ARGS});
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, ${SEQ}, seen);
  seen = Atomics.load(ctrl, ${SEQ});
  if (seen < 0) break;
  const fn = exports[names[ctrl[${FN}]]];
  try {
    fn.apply(null, Array.from(argv.subarray(0, fn.length)));
    ctrl[${FAILED}] = 0;
  } catch (error) {
    ctrl[${FAILED}] = 1;
  }
  Atomics.store(ctrl, ${DONE}, seen);
  Atomics.notify(ctrl, ${DONE});
}
`;

interface NodeWorker {
  unref(): void;
  on(event: 'exit' | 'error' | 'online', listener: (arg: unknown) => void): void;
  terminate(): Promise<number>;
}

export class KernelPool {
  private seq = 0;
  private alive: boolean[];

  private constructor(
    private readonly workers: NodeWorker[],
    private readonly control: Int32Array,
    private readonly args: Float64Array,
  ) {
    this.alive = workers.map(() => true);
    workers.forEach((w, k) =>
      w.on('exit', () => {
        this.alive[k] = false;
      }),
    );
  }

  /** Threads a call can use: the workers plus the main thread. */
  get threads(): number {
    return this.alive.filter(Boolean).length === this.workers.length ? this.workers.length + 1 : 1;
  }

  /**
   * Start `threads - 1` workers on `memory` (which must be shared) and wait until each is
   * running. Resolves to undefined where worker threads are not available.
   */
  static async start(
    module: object,
    memory: object,
    threads: number,
  ): Promise<KernelPool | undefined> {
    if (threads < 2 || typeof process === 'undefined' || !process.versions?.node) return undefined;
    const { Worker } = (await import('node:worker_threads')) as unknown as {
      Worker: new (source: string, options: object) => NodeWorker;
    };
    const count = threads - 1;
    const control = new Int32Array(new SharedArrayBuffer(count * SLOT_INTS * 4));
    const args = new Float64Array(new SharedArrayBuffer(count * MAX_ARGS * 8));
    const workers: NodeWorker[] = [];
    try {
      for (let index = 0; index < count; index++) {
        workers.push(
          new Worker(WORKER_SOURCE, {
            eval: true,
            workerData: {
              module,
              memory,
              control: control.buffer,
              args: args.buffer,
              index,
              names: [...PARALLEL_EXPORTS],
            },
          }),
        );
      }
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve, reject) => {
              w.on('online', () => resolve());
              w.on('error', (error) => reject(error));
            }),
        ),
      );
    } catch (error) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw error;
    }
    for (const w of workers) w.unref();
    return new KernelPool(workers, control, args);
  }

  /** End the workers (they exit after their current call). */
  stop(): void {
    for (let p = 0; p < this.workers.length; p++) {
      const slot = new Int32Array(this.control.buffer, p * SLOT_INTS * 4, SLOT_INTS);
      Atomics.store(slot, SEQ, -1);
      Atomics.notify(slot, SEQ);
      this.alive[p] = false;
    }
  }

  /**
   * Run `fn` over [0, total) in `threads` contiguous parts: `argsFor(begin, end)` gives one part's
   * arguments. The main thread runs the first part; this returns when every part is done.
   */
  run(
    kernels: NativeKernels,
    fn: ParallelExport,
    total: number,
    argsFor: (begin: number, end: number) => number[],
  ): void {
    const parts = Math.min(this.threads, total);
    if (parts < 2) {
      (kernels[fn] as (...a: number[]) => void)(...argsFor(0, total));
      return;
    }
    const seq = ++this.seq;
    const bounds = (p: number) => Math.round((p * total) / parts);
    for (let p = 1; p < parts; p++) {
      const slot = new Int32Array(this.control.buffer, (p - 1) * SLOT_INTS * 4, SLOT_INTS);
      const argv = this.args.subarray((p - 1) * MAX_ARGS, p * MAX_ARGS);
      argv.set(argsFor(bounds(p), bounds(p + 1)));
      slot[FN] = PARALLEL_EXPORTS.indexOf(fn);
      Atomics.store(slot, SEQ, seq);
      Atomics.notify(slot, SEQ);
    }
    let mainError: unknown;
    try {
      (kernels[fn] as (...a: number[]) => void)(...argsFor(bounds(0), bounds(1)));
    } catch (error) {
      mainError = error;
    }
    let failed = false;
    for (let p = 1; p < parts; p++) {
      const slot = new Int32Array(this.control.buffer, (p - 1) * SLOT_INTS * 4, SLOT_INTS);
      // Spin first: a worker that finishes within SPIN_MS is seen at once, where waking a
      // blocked thread through the OS took 0.3-0.8 ms here.
      const spinUntil = performance.now() + SPIN_MS;
      while (Atomics.load(slot, DONE) !== seq && performance.now() < spinUntil);
      for (;;) {
        const done = Atomics.load(slot, DONE);
        if (done === seq) break;
        if (!this.alive[p - 1]) throw new Error(`gensynth kernel worker ${p} exited during ${fn}`);
        Atomics.wait(slot, DONE, done, WAIT_SLICE_MS);
      }
      failed ||= slot[FAILED] === 1;
    }
    if (mainError !== undefined) throw mainError;
    if (failed) throw new Error(`gensynth kernel ${fn} failed in a worker thread`);
  }
}
