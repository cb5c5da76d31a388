/**
 * A small PNG encoder used only by tests: it writes genuine PNG files of every colour type and bit
 * depth (with optional palette, tRNS, Adam7 interlacing and a chosen filter) so that decoding
 * tests run on real files without fixtures on disk. Not exported from the package.
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export interface PngSpec {
  width: number;
  height: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** Samples in row-major order, `height * width * samplesPerPixel` values at the bit depth. */
  samples: ArrayLike<number>;
  /** Palette as RGB triplets (colour type 3). */
  palette?: ArrayLike<number>;
  /** Raw tRNS chunk payload values: palette alphas (type 3), or gray / RGB sample values. */
  trns?: ArrayLike<number>;
  interlace?: boolean;
  /** Filter type for every row (0..4); default cycles through all five. */
  filter?: number;
  extraChunks?: Buffer[];
}

const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Pack one row of samples at `bitDepth` into bytes (big-endian for 16-bit). */
function packRow(values: number[], bitDepth: number): Uint8Array {
  const bytes = new Uint8Array(Math.ceil((values.length * bitDepth) / 8));
  if (bitDepth === 16) {
    values.forEach((v, i) => {
      bytes[2 * i] = v >> 8;
      bytes[2 * i + 1] = v & 0xff;
    });
  } else if (bitDepth === 8) {
    bytes.set(values);
  } else {
    values.forEach((v, i) => {
      const bit = i * bitDepth;
      bytes[bit >> 3] = (bytes[bit >> 3] as number) | (v << (8 - bitDepth - (bit & 7)));
    });
  }
  return bytes;
}

function filterRows(rows: Uint8Array[], bpp: number, fixed?: number): Uint8Array {
  const stride = rows[0]?.length ?? 0;
  const out = new Uint8Array(rows.length * (stride + 1));
  let prev: Uint8Array = new Uint8Array(stride);
  rows.forEach((row, y) => {
    const type = fixed ?? y % 5;
    const base = y * (stride + 1);
    out[base] = type;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? (row[i - bpp] as number) : 0;
      const b = prev[i] as number;
      const c = i >= bpp ? (prev[i - bpp] as number) : 0;
      const predictor = [0, a, b, (a + b) >> 1, paeth(a, b, c)][type] as number;
      out[base + 1 + i] = ((row[i] as number) - predictor) & 0xff;
    }
    prev = row;
  });
  return out;
}

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

export function encodePng(spec: PngSpec): Buffer {
  const spp = SAMPLES[spec.colorType] as number;
  const bpp = Math.max(1, (spp * spec.bitDepth) >> 3);
  const sampleAt = (x: number, y: number, s: number) =>
    spec.samples[(y * spec.width + x) * spp + s] as number;
  const rowOf = (y: number, xs: number[]) => {
    const values: number[] = [];
    for (const x of xs) for (let s = 0; s < spp; s++) values.push(sampleAt(x, y, s));
    return packRow(values, spec.bitDepth);
  };
  const parts: Uint8Array[] = [];
  if (spec.interlace) {
    for (const [x0, y0, dx, dy] of ADAM7) {
      const xs: number[] = [];
      for (let x = x0; x < spec.width; x += dx) xs.push(x);
      const rows: Uint8Array[] = [];
      for (let y = y0; y < spec.height && xs.length > 0; y += dy) rows.push(rowOf(y, xs));
      if (rows.length > 0) parts.push(filterRows(rows, bpp, spec.filter));
    }
  } else {
    const xs = Array.from({ length: spec.width }, (_, x) => x);
    const rows = Array.from({ length: spec.height }, (_, y) => rowOf(y, xs));
    parts.push(filterRows(rows, bpp, spec.filter));
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(spec.width, 0);
  ihdr.writeUInt32BE(spec.height, 4);
  ihdr[8] = spec.bitDepth;
  ihdr[9] = spec.colorType;
  ihdr[12] = spec.interlace ? 1 : 0;
  const chunks = [pngChunk('IHDR', ihdr), ...(spec.extraChunks ?? [])];
  if (spec.palette) chunks.push(pngChunk('PLTE', Uint8Array.from(spec.palette)));
  if (spec.trns) {
    const t =
      spec.colorType === 3 ? Uint8Array.from(spec.trns) : packRow([...Array.from(spec.trns)], 16);
    chunks.push(pngChunk('tRNS', t));
  }
  chunks.push(pngChunk('IDAT', deflateSync(Buffer.concat(parts))));
  chunks.push(pngChunk('IEND', new Uint8Array(0)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]);
}
