/**
 * The one error class of gensynth. Messages follow `where: expected ...; received .... How to fix.`
 * and carry a machine-readable `code`. `isGensynthError` recognises errors thrown by any copy of
 * the library (two bundled copies, ESM next to CJS) through a global-registry symbol brand.
 */

export type GensynthErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_CONFIG'
  | 'SHAPE_MISMATCH'
  | 'BACKEND_UNAVAILABLE'
  | 'KERNEL_UNSUPPORTED'
  | 'DATA_FORMAT'
  | 'DATA_NOT_FOUND'
  | 'CHECKPOINT_CORRUPT'
  | 'CHECKPOINT_NOT_FOUND'
  | 'NON_FINITE'
  | 'MEMORY_LEAK'
  | 'IO';

const BRAND: unique symbol = Symbol.for('gensynth.error') as never;

export interface GensynthErrorParts {
  /** Where the problem was found: a function, option path, file or field. */
  where: string;
  /** What was expected. */
  expected: string;
  /** What was received, with actual values and shapes. */
  received: string;
  /** One or two sentences that say how to fix it. */
  fix: string;
}

export class GensynthError extends Error {
  readonly code: GensynthErrorCode;
  readonly where: string;
  readonly [BRAND] = true;

  constructor(code: GensynthErrorCode, parts: GensynthErrorParts | string, options?: ErrorOptions) {
    const message = typeof parts === 'string' ? parts : formatErrorMessage(parts);
    super(message, options);
    this.name = 'GensynthError';
    this.code = code;
    this.where = typeof parts === 'string' ? '' : parts.where;
  }
}

/** `where: expected ...; received .... How to fix.` */
export function formatErrorMessage(parts: GensynthErrorParts): string {
  const received = parts.received.replace(/\.$/, '');
  return `${parts.where}: expected ${parts.expected}; received ${received}. ${parts.fix}`;
}

/** True for a GensynthError from this or any other loaded copy of gensynth. */
export function isGensynthError(value: unknown, code?: GensynthErrorCode): value is GensynthError {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (value as GensynthError).code === code;
}

/** Shorthand used at public boundaries. */
export function invalidArgument(where: string, expected: string, received: unknown, fix: string) {
  return new GensynthError('INVALID_ARGUMENT', {
    where,
    expected,
    received: typeof received === 'string' ? received : describeValue(received),
    fix,
  });
}

/** A short printable form of a value for error messages: `[2,3]`, `"abc"`, `NaN`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (value === undefined) return 'undefined';
  try {
    const json = JSON.stringify(value);
    return json.length > 200 ? `${json.slice(0, 197)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
