/**
 * Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy
 * as 1, 2, 3", SC 2011). The whole state is a 64-bit key (the seed) and a block counter, so it
 * serialises to a few integers, restores exactly, and any stream can be derived from a root seed
 * and a path of integers (run seed -> step -> purpose) without advancing a shared generator.
 *
 * Notation: key = (k0, k1), counter block = (c0, c1, c2, c3); each block yields four uint32 words.
 */
import { invalidArgument } from './errors';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO_32 = 4294967296;

/** High and low 32 bits of the 64-bit product a * b of two uint32 values. */
function mulHiLo(a: number, b: number): [number, number] {
  const lo = Math.imul(a, b) >>> 0;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const t = a * bLo; // < 2^48, exact
  const u = a * bHi; // < 2^48, exact
  const hi = Math.floor(u / 65536) + Math.floor(((u % 65536) * 65536 + t) / TWO_32);
  return [hi >>> 0, lo];
}

/** One Philox4x32-10 block: ten rounds over `counter` with `key`. */
export function philox4x32(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter;
  let [k0, k1] = key;
  for (let round = 0; round < 10; round++) {
    const [hi0, lo0] = mulHiLo(M0, c0);
    const [hi1, lo1] = mulHiLo(M1, c2);
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** JSON form of a generator: restore it with `Rng.fromState`. */
export interface RngState {
  algorithm: 'philox4x32-10';
  key: [number, number];
  /** Index of the next block (a safe integer). */
  counter: number;
  /** Words of the current block already used (0..4). */
  used: number;
}

function checkSeed(where: string, seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw invalidArgument(
      where,
      'seed as a non-negative safe integer',
      seed,
      'Pass an integer such as 42.',
    );
  }
}

function seedToKey(seed: number): [number, number] {
  return [(seed % TWO_32) >>> 0, Math.floor(seed / TWO_32) >>> 0];
}

/**
 * Derive a uint32 seed from a root seed and a path of non-negative integers, e.g.
 * `deriveSeed(runSeed, step, STREAM_NOISE)`. Same inputs, same output, on every platform.
 */
export function deriveSeed(rootSeed: number, ...path: number[]): number {
  checkSeed('deriveSeed(rootSeed)', rootSeed);
  let key = seedToKey(rootSeed);
  for (const part of path) {
    checkSeed('deriveSeed(path)', part);
    const [a, b] = philox4x32(
      [(part % TWO_32) >>> 0, Math.floor(part / TWO_32) >>> 0, 0x5eed, 0],
      key,
    );
    key = [a, b];
  }
  return philox4x32([0, 0, 0, 0x5eed], key)[0];
}

/**
 * `seed` as tfjs's `randomNormal` and `truncatedNormal` need it. Both take a seed of 0 for no seed
 * and draw from `Math.random()`, so `sample(n, { seed: 0 })` differed on every call. Their
 * generator is seeded with `String(seed)`, so passing 0 as the string `'0'` makes it reproducible
 * and leaves the values of every other seed unchanged; undefined stays unseeded.
 */
export function tfRandomSeed(seed: number | undefined): number | undefined {
  return seed === 0 ? ('0' as unknown as number) : seed;
}

/** A seeded, counter-based generator whose state round-trips through JSON exactly. */
export class Rng {
  private key: [number, number];
  private counter: number;
  private used: number;
  private block: [number, number, number, number];

  private constructor(key: [number, number], counter: number, used: number) {
    this.key = key;
    this.counter = counter;
    this.used = used;
    this.block = this.computeBlock();
  }

  /** A generator for `seed` (a non-negative safe integer), at the start of its stream. */
  static fromSeed(seed: number): Rng {
    checkSeed('Rng.fromSeed', seed);
    return new Rng(seedToKey(seed), 0, 0);
  }

  /** Restore a generator saved with `state()`; it continues the same sequence. */
  static fromState(state: RngState): Rng {
    const ok =
      state !== null &&
      typeof state === 'object' &&
      state.algorithm === 'philox4x32-10' &&
      Array.isArray(state.key) &&
      state.key.length === 2 &&
      state.key.every((k) => Number.isInteger(k) && k >= 0 && k < TWO_32) &&
      Number.isSafeInteger(state.counter) &&
      state.counter >= 0 &&
      Number.isInteger(state.used) &&
      state.used >= 0 &&
      state.used <= 4;
    if (!ok) {
      throw invalidArgument(
        'Rng.fromState',
        "{ algorithm: 'philox4x32-10', key: [uint32, uint32], counter: int >= 0, used: 0..4 }",
        state,
        'Pass the object returned by rng.state(), unchanged.',
      );
    }
    return new Rng([state.key[0], state.key[1]], state.counter, state.used);
  }

  /** The generator's position as plain JSON. */
  state(): RngState {
    return {
      algorithm: 'philox4x32-10',
      key: [this.key[0], this.key[1]],
      counter: this.counter,
      used: this.used,
    };
  }

  /** An independent generator for sub-stream `stream`; this generator does not advance. */
  fork(stream: number): Rng {
    checkSeed('Rng.fork(stream)', stream);
    const [a, b] = philox4x32(
      [(stream % TWO_32) >>> 0, Math.floor(stream / TWO_32) >>> 0, 0xf0, 0x4b],
      this.key,
    );
    return new Rng([a, b], 0, 0);
  }

  private computeBlock(): [number, number, number, number] {
    const c = this.counter;
    return philox4x32([(c % TWO_32) >>> 0, Math.floor(c / TWO_32) >>> 0, 0, 0], this.key);
  }

  /** Uniform uint32. */
  nextUint32(): number {
    if (this.used === 4) {
      this.counter += 1;
      this.used = 0;
      this.block = this.computeBlock();
    }
    const word = this.block[this.used] as number;
    this.used += 1;
    return word;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_32) {
      throw invalidArgument(
        'Rng.nextInt(n)',
        'an integer in [1, 2^32]',
        n,
        'Pass the number of choices.',
      );
    }
    const limit = TWO_32 - (TWO_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal sample (Box-Muller). */
  nextNormal(): number {
    let u = this.nextFloat();
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A seed for a tfjs random op (`tf.randomNormal(shape, 0, 1, 'float32', seed)`). */
  nextSeed(): number {
    return this.nextUint32();
  }

  /** Shuffle `items` in place (Fisher-Yates) and return it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const order = Array.from({ length: n }, (_, i) => i);
    return Int32Array.from(this.shuffle(order));
  }
}
