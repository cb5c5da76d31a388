/**
 * Progress output: `step 1200/5000 | loss/d 1.2345 | loss/g 0.6789 | 41.2 ms/step`. On a TTY a
 * single line redrawn in place with a bar; elsewhere one plain line per log interval.
 */

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

/** Where progress goes: anything with `write` (process.stderr by default). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressUpdate {
  /** Completed steps. */
  step: number;
  totalSteps: number;
  /** Values to show, e.g. losses; shown with 4 decimals. */
  values?: Record<string, number>;
  msPerStep?: number;
}

export interface ProgressReporter {
  update(update: ProgressUpdate): void;
  /** Print a message without garbling the bar. */
  message(text: string): void;
  /** End the bar's line. */
  done(): void;
}

/** `step 1200/5000 | loss/d 1.2345 | loss/g 0.6789 | 41.2 ms/step` */
export function formatProgressLine(update: ProgressUpdate): string {
  const parts = [`step ${update.step}/${update.totalSteps}`];
  for (const [name, value] of Object.entries(update.values ?? {}))
    parts.push(`${name} ${value.toFixed(4)}`);
  if (update.msPerStep !== undefined) parts.push(`${update.msPerStep.toFixed(1)} ms/step`);
  return parts.join(' | ');
}

const BAR_WIDTH = 24;

/** A reporter for `mode`; 'auto' picks a bar when `stream.isTTY`, else plain lines. */
export function createProgress(
  mode: ProgressMode,
  stream: ProgressStream = process.stderr,
): ProgressReporter {
  const resolved = mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'none') return { update() {}, message() {}, done() {} };
  if (resolved === 'lines') {
    return {
      update: (u) => stream.write(`${formatProgressLine(u)}\n`),
      message: (text) => stream.write(`${text}\n`),
      done() {},
    };
  }
  let shown = '';
  let last: ProgressUpdate | undefined;
  const draw = (u: ProgressUpdate) => {
    const filled = Math.round((BAR_WIDTH * u.step) / Math.max(1, u.totalSteps));
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
    const line = `${bar} ${formatProgressLine(u)}`;
    stream.write(`\r${line}${' '.repeat(Math.max(0, shown.length - line.length))}`);
    shown = line;
  };
  return {
    update(u) {
      last = { ...last, ...u, values: u.values ?? last?.values };
      draw(last);
    },
    message(text) {
      stream.write(`\r${' '.repeat(shown.length)}\r${text}\n`);
      if (last) draw(last);
    },
    done() {
      if (shown !== '') stream.write('\n');
      shown = '';
    },
  };
}
