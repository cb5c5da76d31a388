/**
 * A fast PNG decoder for the common case: Node's zlib inflates the image data and the five PNG
 * row filters are undone here (PNG spec, W3C 2003, section 9). At 64x64 this is several times
 * faster than a libvips call per image. Interlaced files and files with an embedded ICC profile
 * are left to sharp (`canDecodePngFast` says which); every colour type and bit depth is handled:
 * gray, gray+alpha, RGB, RGBA and palette at 1/2/4/8/16 bits, with tRNS transparency.
 */
import { inflateSync } from 'node:zlib';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const SAMPLES_PER_PIXEL: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** What the IHDR chunk declares. */
export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

/** Decoded pixels: `channels` interleaved samples per pixel, 8- or 16-bit. */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  /** 16 only for 16-bit PNGs; samples are then in a Uint16Array, native order. */
  depth: 8 | 16;
  data: Uint8Array | Uint16Array;
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

function u32(bytes: Uint8Array, at: number): number {
  return (
    (((bytes[at] as number) << 24) |
      ((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number)) >>>
    0
  );
}

/** The IHDR fields, or null when the bytes are not a PNG with a complete IHDR chunk. */
export function readPngHeader(bytes: Uint8Array): PngHeader | null {
  if (!isPng(bytes) || bytes.length < 33) return null;
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
  return {
    width: u32(bytes, 16),
    height: u32(bytes, 20),
    bitDepth: bytes[24] as number,
    colorType: bytes[25] as number,
    interlaced: bytes[28] === 1,
  };
}

interface Chunks {
  header: PngHeader;
  idat: Uint8Array[];
  palette?: Uint8Array;
  trns?: Uint8Array;
  iccp: boolean;
  ended: boolean;
}

function readChunks(bytes: Uint8Array): Chunks {
  const header = readPngHeader(bytes);
  if (!header) throw new Error('not a PNG (bad signature or missing IHDR)');
  const chunks: Chunks = { header, idat: [], iccp: false, ended: false };
  let at = 8;
  while (at + 8 <= bytes.length) {
    const length = u32(bytes, at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (data.length < length) break;
    if (type === 'IDAT') chunks.idat.push(data);
    else if (type === 'PLTE') chunks.palette = data;
    else if (type === 'tRNS') chunks.trns = data;
    else if (type === 'iCCP') chunks.iccp = true;
    else if (type === 'IEND') {
      chunks.ended = true;
      break;
    }
    at += 12 + length;
  }
  return chunks;
}

/**
 * True when `decodePng` handles the file exactly as sharp would: not interlaced and without an
 * embedded ICC profile (sharp converts those to sRGB). Cheap: reads chunk headers only.
 */
export function canDecodePngFast(bytes: Uint8Array): boolean {
  const header = readPngHeader(bytes);
  if (!header || header.interlaced) return false;
  let at = 8;
  while (at + 8 <= bytes.length) {
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === 'iCCP') return false;
    if (type === 'IDAT' || type === 'IEND') return true;
    at += 12 + u32(bytes, at);
  }
  return true;
}

/**
 * Undo the row filters; `raw` holds `height` rows of `1 + stride` bytes (filter type first).
 * One loop per filter type, the first `bpp` bytes of a row handled apart, and an all-zero row
 * above the first, so the inner loops carry no branches.
 */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * stride);
  const zero = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const line = raw.subarray(src, src + stride);
    const cur = out.subarray(dst, dst + stride);
    const prev = y > 0 ? out.subarray(dst - stride, dst) : zero;
    if (type === 0) {
      cur.set(line);
    } else if (type === 1) {
      for (let i = 0; i < bpp; i++) cur[i] = line[i] as number;
      for (let i = bpp; i < stride; i++)
        cur[i] = ((line[i] as number) + (cur[i - bpp] as number)) & 0xff;
    } else if (type === 2) {
      for (let i = 0; i < stride; i++) cur[i] = ((line[i] as number) + (prev[i] as number)) & 0xff;
    } else if (type === 3) {
      for (let i = 0; i < bpp; i++)
        cur[i] = ((line[i] as number) + ((prev[i] as number) >> 1)) & 0xff;
      for (let i = bpp; i < stride; i++) {
        cur[i] =
          ((line[i] as number) + (((cur[i - bpp] as number) + (prev[i] as number)) >> 1)) & 0xff;
      }
    } else if (type === 4) {
      for (let i = 0; i < bpp; i++) cur[i] = ((line[i] as number) + (prev[i] as number)) & 0xff;
      for (let i = bpp; i < stride; i++) {
        const a = cur[i - bpp] as number;
        const b = prev[i] as number;
        const c = prev[i - bpp] as number;
        const p = a + b - c;
        const pa = p > a ? p - a : a - p;
        const pb = p > b ? p - b : b - p;
        const pc = p > c ? p - c : c - p;
        cur[i] = ((line[i] as number) + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
      }
    } else {
      throw new Error(`corrupt PNG data: unknown row filter ${String(type)} in row ${y}`);
    }
  }
  return out;
}

/** Validate IHDR and return samples per pixel. */
function checkHeader(h: PngHeader): number {
  const spp = SAMPLES_PER_PIXEL[h.colorType];
  const allowed: Record<number, number[]> = {
    0: [1, 2, 4, 8, 16],
    2: [8, 16],
    3: [1, 2, 4, 8],
    4: [8, 16],
    6: [8, 16],
  };
  if (spp === undefined || !allowed[h.colorType]?.includes(h.bitDepth)) {
    throw new Error(`unsupported PNG colour type ${h.colorType} at bit depth ${h.bitDepth}`);
  }
  if (h.width === 0 || h.height === 0) throw new Error('PNG with zero width or height');
  return spp;
}

/**
 * Decode a non-interlaced PNG. Palette images expand to RGB, or RGBA when a tRNS chunk is
 * present; gray and RGB images with a tRNS colour key gain an alpha channel. Gray below 8 bits
 * is scaled to 0..255 (1 bit: x255, 2 bits: x85, 4 bits: x17). 16-bit samples (big-endian in the
 * file) come back as a Uint16Array with `depth: 16`.
 */
export function decodePng(bytes: Uint8Array): RawImage {
  const chunks = readChunks(bytes);
  const h = chunks.header;
  const spp = checkHeader(h);
  if (h.interlaced) throw new Error('interlaced PNG: use sharp');
  if (chunks.idat.length === 0) throw new Error('truncated PNG: no image data (IDAT)');
  const stride = Math.ceil((h.width * spp * h.bitDepth) / 8);
  const bpp = Math.max(1, (spp * h.bitDepth) >> 3);
  let raw: Uint8Array;
  try {
    // One output chunk of the expected size avoids zlib's growth and the final concatenation.
    const expected = h.height * (stride + 1);
    const idat =
      chunks.idat.length === 1 ? (chunks.idat[0] as Uint8Array) : Buffer.concat(chunks.idat);
    raw = inflateSync(idat, {
      chunkSize: Math.max(1024, Math.min(expected + 1, 64 * 1024 * 1024)),
      // A decompression bomb stops here: at most 64 KiB past what IHDR declares.
      maxOutputLength: expected + 65536,
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error(
        `corrupt PNG data: it inflates past the ${h.height * (stride + 1)} bytes that IHDR declares`,
      );
    }
    throw new Error(`truncated or corrupt PNG data: ${(error as Error).message}`);
  }
  if (raw.length < h.height * (stride + 1)) {
    throw new Error(
      `truncated PNG: ${raw.length} bytes of image data, need ${h.height * (stride + 1)}`,
    );
  }
  const rows = unfilter(raw, h.height, stride, bpp);
  return expand(rows, h, spp, stride, chunks);
}

function expand(rows: Uint8Array, h: PngHeader, spp: number, stride: number, c: Chunks): RawImage {
  const { width, height, bitDepth, colorType } = h;
  const n = width * height;
  if (bitDepth === 16) {
    const samples = new Uint16Array(n * spp);
    for (let i = 0; i < samples.length; i++) {
      samples[i] = ((rows[2 * i] as number) << 8) | (rows[2 * i + 1] as number);
    }
    return withColourKey(
      { width, height, channels: spp as RawImage['channels'], depth: 16, data: samples },
      c,
    );
  }
  if (bitDepth === 8 && colorType !== 3) {
    return withColourKey(
      { width, height, channels: spp as RawImage['channels'], depth: 8, data: rows },
      c,
    );
  }

  // Sub-byte gray, or palette indices at 1..8 bits.
  const indices = new Uint8Array(n);
  const mask = (1 << bitDepth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * bitDepth;
      const byte = rows[y * stride + (bit >> 3)] as number;
      indices[y * width + x] = (byte >> (8 - bitDepth - (bit & 7))) & mask;
    }
  }
  if (colorType === 0) {
    const scale = 255 / mask;
    const key =
      c.trns && c.trns.length >= 2 ? ((c.trns[0] as number) << 8) | (c.trns[1] as number) : -1;
    if (key < 0) {
      return { width, height, channels: 1, depth: 8, data: indices.map((v) => v * scale) };
    }
    const data = new Uint8Array(n * 2);
    for (let i = 0; i < n; i++) {
      data[2 * i] = (indices[i] as number) * scale;
      data[2 * i + 1] = indices[i] === key ? 0 : 255;
    }
    return { width, height, channels: 2, depth: 8, data };
  }
  return expandPalette(indices, width, height, c);
}

function expandPalette(indices: Uint8Array, width: number, height: number, c: Chunks): RawImage {
  const palette = c.palette;
  if (!palette || palette.length % 3 !== 0)
    throw new Error('palette PNG without a valid PLTE chunk');
  const entries = palette.length / 3;
  const alpha = c.trns;
  const channels = alpha ? 4 : 3;
  const data = new Uint8Array(indices.length * channels);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i] as number;
    if (k >= entries) throw new Error(`palette index ${k} out of range (${entries} entries)`);
    data[i * channels] = palette[3 * k] as number;
    data[i * channels + 1] = palette[3 * k + 1] as number;
    data[i * channels + 2] = palette[3 * k + 2] as number;
    if (alpha) data[i * channels + 3] = k < alpha.length ? (alpha[k] as number) : 255;
  }
  return { width, height, channels, depth: 8, data };
}

/** Gray or RGB with a tRNS colour key: add an alpha channel (0 where the key matches). */
function withColourKey(image: RawImage, c: Chunks): RawImage {
  const key = c.trns;
  const spp = image.channels;
  if (!key || (spp !== 1 && spp !== 3) || key.length < spp * 2) return image;
  const keyValues = Array.from(
    { length: spp },
    (_, s) => ((key[2 * s] as number) << 8) | (key[2 * s + 1] as number),
  );
  const n = image.width * image.height;
  const opaque = image.depth === 16 ? 65535 : 255;
  const out = image.depth === 16 ? new Uint16Array(n * (spp + 1)) : new Uint8Array(n * (spp + 1));
  for (let i = 0; i < n; i++) {
    let match = true;
    for (let s = 0; s < spp; s++) {
      const v = image.data[i * spp + s] as number;
      out[i * (spp + 1) + s] = v;
      if (v !== keyValues[s]) match = false;
    }
    out[i * (spp + 1) + spp] = match ? 0 : opaque;
  }
  return { ...image, channels: (spp + 1) as 2 | 4, data: out };
}
