/**
 * TensorBoard event files: a TFRecord stream of `Event` protos. Each record is
 *
 *   uint64 length (little endian) | uint32 masked CRC-32C of the length bytes |
 *   data | uint32 masked CRC-32C of the data
 *
 * The first event of a file holds `file_version: "brain.Event:2"`.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GensynthError, invalidArgument } from '@gensynth/core';
import { maskedCrc32c } from './crc32c';
import { encodeEvent, SESSION_START, type EventMessage, type HistogramMessage } from './proto';

export const EVENT_FILE_VERSION = 'brain.Event:2';

/** Frame `data` as one TFRecord. */
export function tfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([header, data, footer]);
}

export interface EventWriterOptions {
  /** Wall clock in seconds (default `Date.now() / 1000`); tests pin it. */
  clock?: () => number;
}

/** Image metadata for `addImage`. `channels`: 1 grayscale, 3 RGB, 4 RGBA. */
export interface EncodedImage {
  png: Uint8Array;
  height: number;
  width: number;
  channels: 1 | 3 | 4;
}

/**
 * Appends TensorBoard events to `events.out.tfevents.<seconds>.<host>` in a log directory.
 * Events are buffered in memory and appended on `flush()` (the trainer flushes at log intervals).
 */
export class EventWriter {
  readonly path: string;
  private readonly clock: () => number;
  private pending: Buffer[] = [];
  private closed = false;

  private constructor(file: string, clock: () => number) {
    this.path = file;
    this.clock = clock;
  }

  /** Create the directory and a new event file that starts with the file-version event. */
  static async create(logDir: string, options: EventWriterOptions = {}): Promise<EventWriter> {
    const clock = options.clock ?? (() => Date.now() / 1000);
    await fs.mkdir(logDir, { recursive: true });
    const base = `events.out.tfevents.${Math.floor(clock())}.${os.hostname()}`;
    let file = path.join(logDir, base);
    for (let n = 1; await exists(file); n++) file = path.join(logDir, `${base}.${n}`);
    const writer = new EventWriter(file, clock);
    writer.push({ wallTime: clock(), step: 0, fileVersion: EVENT_FILE_VERSION });
    await writer.flush();
    return writer;
  }

  /** One scalar at `step` (tag such as `loss/d`). */
  addScalar(tag: string, value: number, step: number): void {
    this.checkStep('EventWriter.addScalar', step);
    this.push({ wallTime: this.clock(), step, summary: { value: [{ tag, simpleValue: value }] } });
  }

  /** Several scalars, each as its own event at `step`. */
  addScalars(values: Record<string, number>, step: number): void {
    for (const [tag, value] of Object.entries(values)) this.addScalar(tag, value, step);
  }

  /** A PNG image at `step`. */
  addImage(tag: string, image: EncodedImage, step: number): void {
    this.checkStep('EventWriter.addImage', step);
    const { png, height, width, channels } = image;
    const value = { tag, image: { height, width, colorspace: channels, encodedImageString: png } };
    this.push({ wallTime: this.clock(), step, summary: { value: [value] } });
  }

  /** A histogram of `values` over `bucketCount` equal-width buckets between min and max. */
  addHistogram(tag: string, values: ArrayLike<number>, step: number, bucketCount = 30): void {
    this.checkStep('EventWriter.addHistogram', step);
    this.push({
      wallTime: this.clock(),
      step,
      summary: { value: [{ tag, histo: histogram(values, bucketCount) }] },
    });
  }

  /**
   * A `SessionLog START` at `step`: TensorBoard then discards events with a larger step from
   * earlier files, so a resumed run does not show the steps replayed after its checkpoint.
   */
  addSessionStart(step: number): void {
    this.checkStep('EventWriter.addSessionStart', step);
    this.push({ wallTime: this.clock(), step, sessionLog: { status: SESSION_START } });
  }

  /** Append buffered events to the file. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const data = Buffer.concat(this.pending);
    this.pending = [];
    try {
      await fs.appendFile(this.path, data);
    } catch (error) {
      throw new GensynthError(
        'IO',
        {
          where: `EventWriter.flush(${this.path})`,
          expected: 'a writable event file',
          received: (error as Error).message,
          fix: 'Check that the run directory exists and the disk has space.',
        },
        { cause: error },
      );
    }
  }

  /** Flush and refuse further events. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private push(event: EventMessage): void {
    if (this.closed) {
      throw invalidArgument(
        'EventWriter',
        'an open writer',
        'a closed one',
        'Create a new EventWriter.',
      );
    }
    this.pending.push(tfRecord(encodeEvent(event)));
  }

  private checkStep(where: string, step: number): void {
    if (!Number.isSafeInteger(step) || step < 0) {
      throw invalidArgument(
        `${where}(step)`,
        'a non-negative integer',
        step,
        'Pass the training step.',
      );
    }
  }
}

function histogram(values: ArrayLike<number>, bucketCount: number): HistogramMessage {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
    sumSquares += v * v;
  }
  if (values.length === 0)
    return { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: [], bucket: [] };
  const width = (max - min) / bucketCount || 1;
  const bucket = new Array<number>(bucketCount).fill(0);
  for (let i = 0; i < values.length; i++) {
    const index = Math.min(bucketCount - 1, Math.floor(((values[i] as number) - min) / width));
    bucket[index] = (bucket[index] as number) + 1;
  }
  const bucketLimit = bucket.map((_, i) => (i === bucketCount - 1 ? max : min + (i + 1) * width));
  return { min, max, num: values.length, sum, sumSquares, bucketLimit, bucket };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
