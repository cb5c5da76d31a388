/** Reads the reference vectors of /vectors (computed with numpy/scipy/mpmath; see its README). */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const VECTORS_DIR = path.join(__dirname, '../../../../vectors');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function readVectors(name: string): any {
  return JSON.parse(fs.readFileSync(path.join(VECTORS_DIR, name), 'utf8'));
}

/** `|actual - expected| <= abs + rel * |expected|`, with a readable failure. */
export function expectClose(actual: number, expected: number, rel: number, abs = 0): void {
  const error = Math.abs(actual - expected);
  if (!(error <= abs + rel * Math.abs(expected))) {
    throw new Error(`expected ${expected}, received ${actual} (error ${error.toExponential(2)})`);
  }
}
