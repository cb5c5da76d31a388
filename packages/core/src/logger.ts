/**
 * Libraries never call `console` themselves: they log through a `Logger`. The default logger
 * prints warnings and errors to stderr; `setLogger(silentLogger)` or a level silences it.
 */

export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

const RANK: Record<LogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

export type LogSink = (level: Exclude<LogLevel, 'silent'>, message: string) => void;

const stderrSink: LogSink = (level, message) => {
  process.stderr.write(`[gensynth] ${level}: ${message}\n`);
};

/** A logger that passes messages at or above `level` to `sink` (stderr by default). */
export function createLogger(level: LogLevel = 'warn', sink: LogSink = stderrSink): Logger {
  const on = (l: Exclude<LogLevel, 'silent'>) => RANK[l] <= RANK[level];
  return {
    error: (m) => on('error') && sink('error', m),
    warn: (m) => on('warn') && sink('warn', m),
    info: (m) => on('info') && sink('info', m),
    debug: (m) => on('debug') && sink('debug', m),
  } as Logger;
}

export const silentLogger: Logger = createLogger('silent');

let current: Logger = createLogger('warn');

/** The library-wide logger; every package logs through it unless given one explicitly. */
export function getLogger(): Logger {
  return current;
}

/** Replace the library-wide logger. Returns the previous one. */
export function setLogger(logger: Logger): Logger {
  const previous = current;
  current = logger;
  return previous;
}

const warned = new Set<string>();

/** Warn once per process for a given key: for legal but suspicious values. */
export function warnOnce(key: string, message: string, logger: Logger = current): void {
  if (warned.has(key)) return;
  warned.add(key);
  logger.warn(message);
}
