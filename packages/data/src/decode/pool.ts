/**
 * A pool of worker threads that decode files in parallel, many images per message, so decoding
 * keeps up with training on several cores. Used when the built worker file is present (the
 * published package); otherwise (running from TypeScript sources) callers decode in-thread.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DecodeJob, DecodeJobResult } from './job';

const WORKER_FILES = ['decode-worker.cjs', 'decode-worker.js'];

/** The built worker script next to this bundle, or undefined. */
export function workerScript(): string | undefined {
  for (const name of WORKER_FILES) {
    const file = path.join(__dirname, name);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

interface Slot {
  worker: Worker;
  busy: number;
}

export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<
    number,
    { resolve: (r: DecodeJobResult) => void; reject: (e: Error) => void; slot: Slot }
  >();
  private nextId = 1;

  constructor(
    readonly size: number,
    private readonly script: string,
  ) {}

  private slot(): Slot {
    if (this.slots.length < this.size) {
      const worker = new Worker(this.script);
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', (message: DecodeJobResult & { error?: string }) => this.settle(message));
      worker.on('error', (error) => this.fail(slot, error));
      worker.on('exit', (code) =>
        this.fail(slot, new Error(`decode worker exited with code ${code}`)),
      );
      worker.unref();
      this.slots.push(slot);
      return slot;
    }
    return this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private settle(message: DecodeJobResult & { error?: string }): void {
    const pending = this.waiting.get(message.id);
    if (!pending) return;
    this.waiting.delete(message.id);
    pending.slot.busy -= 1;
    if (pending.slot.busy === 0) pending.slot.worker.unref();
    if (message.error !== undefined) pending.reject(new Error(message.error));
    else
      pending.resolve({
        ...message,
        pixels: new Uint8Array(
          message.pixels.buffer,
          message.pixels.byteOffset,
          message.pixels.length,
        ),
      });
  }

  private fail(slot: Slot, error: Error): void {
    for (const [id, pending] of this.waiting) {
      if (pending.slot === slot) {
        this.waiting.delete(id);
        pending.reject(error);
      }
    }
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
  }

  /** Run `job` on the least busy worker. */
  run(job: Omit<DecodeJob, 'id'>): Promise<DecodeJobResult> {
    const slot = this.slot();
    const id = this.nextId++;
    slot.busy += 1;
    slot.worker.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ ...job, id });
    });
  }

  /** Stop every worker. */
  async close(): Promise<void> {
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }
}

const pools = new Map<number, DecodePool>();

/**
 * The process-wide pool with `workers` threads (default: available cores, at most 4), or
 * undefined when `workers` is 0 or the worker script is not built. Idle workers do not keep the
 * process alive.
 */
export function sharedDecodePool(workers?: number): DecodePool | undefined {
  const size = workers ?? Math.min(4, Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
  const script = workerScript();
  if (size <= 0 || !script) return undefined;
  let pool = pools.get(size);
  if (!pool) {
    pool = new DecodePool(size, script);
    pools.set(size, pool);
  }
  return pool;
}
