/**
 * Progress output: `step 1200/5000 | loss/d 1.2345 | loss/g 0.6789 | 41.2 ms/step`. On a TTY a
 * single line redrawn in place with a bar; elsewhere one plain line per log interval.
 */
import { describeValue, invalidArgument } from '@gensynth/core';

/**
 * 'auto': a bar on a TTY, plain lines otherwise; 'bar'; 'lines' (alias 'plain'): one line per
 * log interval; 'none': silent.
 */
export type ProgressMode = 'auto' | 'bar' | 'lines' | 'plain' | 'none';

/** Every accepted `ProgressMode`, for validation and help texts. */
export const PROGRESS_MODES: readonly ProgressMode[] = Object.freeze([
  'auto',
  'bar',
  'lines',
  'plain',
  'none',
]);

/**
 * `mode` checked against `PROGRESS_MODES`, with 'plain' resolved to 'lines'. Throws
 * `INVALID_ARGUMENT` naming `where` and the allowed values, so a typo never silently draws a bar.
 */
export function resolveProgressMode(where: string, mode: unknown): Exclude<ProgressMode, 'plain'> {
  if (!PROGRESS_MODES.includes(mode as ProgressMode)) {
    throw invalidArgument(
      where,
      `one of ${PROGRESS_MODES.map((m) => `'${m}'`).join(', ')}`,
      describeValue(mode),
      "Pass 'lines' (or 'plain') for one line per log interval, 'none' to silence progress.",
    );
  }
  return mode === 'plain' ? 'lines' : (mode as Exclude<ProgressMode, 'plain'>);
}

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
  /** A log step: show these values (lines mode prints one line). */
  update(update: ProgressUpdate): void;
  /** Any step: moves the bar (redrawn at most every 100 ms); lines mode ignores it. */
  tick(step: number, totalSteps: number): void;
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

/**
 * A reporter for `mode`; 'auto' picks a bar when `stream.isTTY`, else plain lines. Throws
 * `INVALID_ARGUMENT` for a mode outside `PROGRESS_MODES`.
 */
export function createProgress(
  mode: ProgressMode,
  stream: ProgressStream = process.stderr,
): ProgressReporter {
  const checked = resolveProgressMode('createProgress(mode)', mode);
  const resolved = checked === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : checked;
  if (resolved === 'none') return { update() {}, tick() {}, message() {}, done() {} };
  if (resolved === 'lines') {
    return {
      update: (u) => stream.write(`${formatProgressLine(u)}\n`),
      tick() {},
      message: (text) => stream.write(`${text}\n`),
      done() {},
    };
  }
  let shown = '';
  let last: ProgressUpdate | undefined;
  let drawnAt = 0;
  const draw = (u: ProgressUpdate) => {
    const filled = Math.round((BAR_WIDTH * u.step) / Math.max(1, u.totalSteps));
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
    const remaining =
      u.msPerStep === undefined
        ? ''
        : ` | eta ${formatDuration(u.msPerStep * (u.totalSteps - u.step))}`;
    const line = `${bar} ${formatProgressLine(u)}${remaining}`;
    stream.write(`\r${line}${' '.repeat(Math.max(0, shown.length - line.length))}`);
    shown = line;
    drawnAt = Date.now();
  };
  return {
    update(u) {
      last = { ...last, ...u, values: u.values ?? last?.values };
      draw(last);
    },
    tick(step, totalSteps) {
      last = { ...last, step, totalSteps };
      if (Date.now() - drawnAt >= 100) draw(last);
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

/** `42s`, `3m05s`, `2h07m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
