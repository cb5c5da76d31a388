/**
 * Threads for gensynth's native kernels (Node only).
 *
 * On tfjs's threaded build the heap is a shared `WebAssembly.Memory`, so the kernel module can be
 * instantiated a second time in a worker thread on that same memory. Every parallel kernel takes
 * a range of its work (output rows or filter taps) as its last two arguments; a call is cut into
 * a few chunks per thread, and the main thread and the workers take chunks from a shared counter
 * until none is left, so a thread that started late or runs slower simply takes fewer. Each
 * output value is still computed by exactly one thread, in the same order, so results do not
 * depend on the thread count. Hand-offs go through shared Int32Arrays with `Atomics`: no
 * messages, no copies.
 *
 * `call` (Int32): [NEXT] the next chunk to take, [CHUNKS] how many, [TOTAL] the size of the range,
 * [FN] which export, [NARGS] how many arguments precede the range; `args` (Float64, exact for
 * every int32 and float32 value) holds those arguments. Per worker, in `control`: [SEQ] the call
 * number the main thread posted, [DONE] the last call number it finished, [FAILED] 1 if a chunk
 * of that call threw.
 */
import type { NativeKernels } from './module';

const SEQ = 0;
const DONE = 1;
const FAILED = 2;
const SLOT_INTS = 4;
const NEXT = 0;
const CHUNKS = 1;
const TOTAL = 2;
const FN = 3;
const NARGS = 4;
const CALL_INTS = 8;
const MAX_ARGS = 32;
const CHUNKS_PER_THREAD = 8;
const WORKER_SPIN_MS = 1;
const WAIT_SLICE_MS = 1000;
const SPIN_MS = 2;

/** Exports a worker can run, by index (the same list in the worker's script). */
export const PARALLEL_EXPORTS = [
  'conv2d_filter_grad',
  'conv2d_forward',
  'conv2d_backprop_input',
  'matmul',
  'im2col',
  'col2im',
  'pad_spatial',
] as const;
type ParallelExport = (typeof PARALLEL_EXPORTS)[number];

/** Take chunks of the posted call until none is left (the workers run the same loop). */
function takeChunks(call: Int32Array, args: Float64Array, fn: (...a: number[]) => void): void {
  const chunks = call[CHUNKS]!;
  const total = call[TOTAL]!;
  const base = Array.from(args.subarray(0, call[NARGS]!));
  for (;;) {
    const c = Atomics.add(call, NEXT, 1);
    if (c >= chunks) return;
    fn(...base, Math.floor((c * total) / chunks), Math.floor(((c + 1) * total) / chunks));
  }
}

/** The worker's whole program (run with `eval: true`). */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, callBuffer, argsBuffer, index, names } = workerData;
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctrl = new Int32Array(control, index * ${SLOT_INTS * 4}, ${SLOT_INTS});
const call = new Int32Array(callBuffer);
const args = new Float64Array(argsBuffer);
// takeChunks, as in pool.ts
function takeChunks(fn) {
  const chunks = call[${CHUNKS}], total = call[${TOTAL}];
  const base = Array.from(args.subarray(0, call[${NARGS}]));
  for (;;) {
    const c = Atomics.add(call, ${NEXT}, 1);
    if (c >= chunks) return;
    fn(...base, Math.floor((c * total) / chunks), Math.floor(((c + 1) * total) / chunks));
  }
}
let seen = 0;
for (;;) {
  // Spin a little first: the next call often comes within a millisecond, and waking from
  // Atomics.wait through the OS takes longer than that on a virtual machine.
  const spinUntil = performance.now() + ${WORKER_SPIN_MS};
  while (Atomics.load(ctrl, ${SEQ}) === seen && performance.now() < spinUntil);
  Atomics.wait(ctrl, ${SEQ}, seen);
  seen = Atomics.load(ctrl, ${SEQ});
  if (seen < 0) break;
  try {
    takeChunks(exports[names[call[${FN}]]]);
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
    private readonly call: Int32Array,
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
    const call = new Int32Array(new SharedArrayBuffer(CALL_INTS * 4));
    const args = new Float64Array(new SharedArrayBuffer(MAX_ARGS * 8));
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
              callBuffer: call.buffer,
              argsBuffer: args.buffer,
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
    return new KernelPool(workers, control, call, args);
  }

  /** End the workers (they exit after their current call). */
  stop(): void {
    for (let p = 0; p < this.workers.length; p++) {
      const slot = this.slot(p);
      Atomics.store(slot, SEQ, -1);
      Atomics.notify(slot, SEQ);
      this.alive[p] = false;
    }
  }

  /**
   * Run `fn(...base, begin, end)` over the whole range [0, total) in chunks shared by the main
   * thread and the workers; returns when every chunk is done.
   */
  run(kernels: NativeKernels, fn: ParallelExport, total: number, base: number[]): void {
    const kernel = kernels[fn] as (...a: number[]) => void;
    const threads = this.threads;
    if (threads < 2 || total < 2) {
      kernel(...base, 0, total);
      return;
    }
    const seq = ++this.seq;
    this.args.set(base);
    this.call[CHUNKS] = Math.min(total, threads * CHUNKS_PER_THREAD);
    this.call[TOTAL] = total;
    this.call[FN] = PARALLEL_EXPORTS.indexOf(fn);
    this.call[NARGS] = base.length;
    Atomics.store(this.call, NEXT, 0);
    for (let p = 0; p < this.workers.length; p++) {
      const slot = this.slot(p);
      Atomics.store(slot, SEQ, seq);
      Atomics.notify(slot, SEQ);
    }
    let mainError: unknown;
    try {
      takeChunks(this.call, this.args, kernel);
    } catch (error) {
      mainError = error;
      Atomics.store(this.call, NEXT, this.call[CHUNKS]!); // the workers stop taking chunks
    }
    let failed = false;
    for (let p = 0; p < this.workers.length; p++) {
      const slot = this.slot(p);
      // Spin first: a worker that finishes within SPIN_MS is seen at once, where waking a
      // blocked thread through the OS took 0.3-0.8 ms here. (The workers, likewise, spin for
      // WORKER_SPIN_MS before they sleep.)
      const spinUntil = performance.now() + SPIN_MS;
      while (Atomics.load(slot, DONE) !== seq && performance.now() < spinUntil);
      for (;;) {
        const done = Atomics.load(slot, DONE);
        if (done === seq) break;
        if (!this.alive[p]) throw new Error(`gensynth kernel worker ${p + 1} exited during ${fn}`);
        Atomics.wait(slot, DONE, done, WAIT_SLICE_MS);
      }
      failed ||= slot[FAILED] === 1;
    }
    if (mainError !== undefined) throw mainError;
    if (failed) throw new Error(`gensynth kernel ${fn} failed in a worker thread`);
  }

  private slot(p: number): Int32Array {
    return new Int32Array(this.control.buffer, p * SLOT_INTS * 4, SLOT_INTS);
  }
}
