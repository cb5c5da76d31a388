/**
 * Decoding any image file to pixels with the channel count a dataset declares.
 *
 * Order of work: read the header (refuse absurd sizes before allocating), decode (the fast PNG
 * path for plain PNGs, sharp/libvips for everything else, applying EXIF orientation and converting
 * CMYK/YCCK and ICC-tagged images to sRGB), composite alpha onto the background, then convert to
 * the declared channels (gray -> R=G=B; colour -> gray with the ITU-R 601-2 luma weights).
 */
import sharp from 'sharp';
import { invalidArgument } from '@gensynth/core';
import { BadImageError, classifyDecodeError } from './errors';
import { readImageHeader } from './header';
import { canDecodePngFast, decodePng, type RawImage } from './png';

/** An RGB colour, each 0..255. */
export type Rgb = readonly [number, number, number];

export interface DecodeOptions {
  /** Channels to return: 1 (gray), 3 (RGB) or 4 (RGBA, no compositing). Default 3. */
  channels?: 1 | 3 | 4;
  /** Colour that transparent pixels are composited onto. Default white `[255, 255, 255]`. */
  background?: Rgb;
  /**
   * Largest width x height to decode; larger claims are refused from the header alone.
   * Default 89,478,485, the size at which PIL raises its decompression-bomb warning.
   */
  maxPixels?: number;
  /** Decode plain PNGs with the built-in decoder instead of sharp (same pixels). Default true. */
  fastPng?: boolean;
  /** Name used in error messages (a file path). */
  name?: string;
}

export const DECODE_DEFAULTS = Object.freeze({
  channels: 3 as 1 | 3 | 4,
  background: Object.freeze([255, 255, 255]) as Rgb,
  maxPixels: 89_478_485,
  fastPng: true,
});

/** `height x width x channels` interleaved samples, row-major. */
export interface DecodedImage<T extends Uint8Array | Uint16Array = Uint8Array> {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: T;
}

function resolve(options: DecodeOptions) {
  const o = { ...DECODE_DEFAULTS, ...options, name: options.name ?? '<buffer>' };
  if (![1, 3, 4].includes(o.channels)) {
    throw invalidArgument(
      'decodeImage(options.channels)',
      '1, 3 or 4',
      o.channels,
      'Pass 1 for gray, 3 for RGB.',
    );
  }
  const bg = o.background;
  if (
    !Array.isArray(bg) ||
    bg.length !== 3 ||
    !bg.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)
  ) {
    throw invalidArgument(
      'decodeImage(options.background)',
      '[r, g, b] integers in 0..255',
      bg,
      'Pass e.g. [255, 255, 255] for white.',
    );
  }
  return o;
}

/** Refuse unreadable formats and absurd sizes before any decoding. */
function checkHeader(bytes: Uint8Array, name: string, maxPixels: number): void {
  if (bytes.length === 0) throw new BadImageError(name, 'truncated', 'empty file');
  const header = readImageHeader(bytes);
  if (header.format === 'unknown') {
    throw new BadImageError(name, 'not-an-image', 'no known image signature in the first bytes');
  }
  if (header.width !== undefined && header.height !== undefined) {
    if (header.width * header.height > maxPixels) {
      throw new BadImageError(
        name,
        'too-large',
        `header claims ${header.width}x${header.height} = ${header.width * header.height} pixels, limit ${maxPixels}`,
      );
    }
    if (header.width === 0 || header.height === 0) {
      throw new BadImageError(name, 'corrupt', `header claims ${header.width}x${header.height}`);
    }
  }
}

async function decodeWithSharp(
  bytes: Uint8Array,
  name: string,
  maxPixels: number,
  depth: 8 | 16,
): Promise<RawImage> {
  try {
    const image = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'truncated' }).rotate();
    const meta = await image.metadata();
    const space = meta.space ?? 'srgb';
    if (
      !['srgb', 'rgb', 'b-w', 'grey16', 'rgb16', 'cmyk', 'scrgb'].includes(space) ||
      (meta.channels ?? 3) > 5
    ) {
      throw new BadImageError(
        name,
        'unsupported',
        `colour space ${space} with ${meta.channels} channels`,
      );
    }
    const converted = image.toColourspace(depth === 16 ? 'rgb16' : 'srgb');
    const { data, info } = await converted
      .raw(depth === 16 ? { depth: 'ushort' } : {})
      .toBuffer({ resolveWithObject: true });
    const samples =
      depth === 16
        ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2)
        : new Uint8Array(data);
    return {
      width: info.width,
      height: info.height,
      channels: info.channels as RawImage['channels'],
      depth,
      data: samples,
    };
  } catch (error) {
    if (error instanceof BadImageError) throw error;
    const message = (error as Error).message;
    throw new BadImageError(name, classifyDecodeError(message), message.split('\n')[0] ?? message);
  }
}

function decodeFast(bytes: Uint8Array, name: string): RawImage {
  try {
    return decodePng(bytes);
  } catch (error) {
    const message = (error as Error).message;
    throw new BadImageError(name, classifyDecodeError(message), message);
  }
}

/** Reduce 16-bit samples to 8 bits the way libvips does (`v >> 8`), so both paths agree. */
function to8bit(image: RawImage): RawImage {
  if (image.depth === 8) return image;
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (image.data[i] as number) >> 8;
  return { ...image, depth: 8, data: out };
}

function to16bit(image: RawImage): RawImage {
  if (image.depth === 16) return image;
  return { ...image, depth: 16, data: Uint16Array.from(image.data, (v) => v * 257) };
}

/**
 * Composite alpha onto `background` and convert to `channels`. Works at 8 or 16 bits;
 * `out = round((fg * a + bg * (max - a)) / max)` per channel, gray = ITU-R 601-2 luma
 * `(19595 R + 38470 G + 7471 B + 32768) >> 16`.
 */
export function convertChannels(image: RawImage, channels: 1 | 3 | 4, background: Rgb): RawImage {
  const n = image.width * image.height;
  const src = image.data;
  const s = image.channels;
  const max = image.depth === 16 ? 65535 : 255;
  const scale = max / 255;
  const bg = background.map((v) => v * scale);
  const out = image.depth === 16 ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  if (image.depth === 8 && s === 4 && channels === 3) return rgbaToRgb8(image, background);
  const alphaAt = s === 2 ? 1 : s === 4 ? 3 : -1;
  const half = max >> 1;
  for (let i = 0; i < n; i++) {
    const p = i * s;
    let r = src[p] as number;
    let g = s >= 3 ? (src[p + 1] as number) : r;
    let b = s >= 3 ? (src[p + 2] as number) : r;
    const a = alphaAt < 0 ? max : (src[p + alphaAt] as number);
    const o = i * channels;
    if (channels === 4) {
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = a;
      continue;
    }
    if (a !== max) {
      r = Math.floor((r * a + (bg[0] as number) * (max - a) + half) / max);
      g = Math.floor((g * a + (bg[1] as number) * (max - a) + half) / max);
      b = Math.floor((b * a + (bg[2] as number) * (max - a) + half) / max);
    }
    if (channels === 3) {
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    } else {
      out[o] =
        r === g && g === b ? r : Math.floor((19595 * r + 38470 * g + 7471 * b + 32768) / 65536);
    }
  }
  return { width: image.width, height: image.height, channels, depth: image.depth, data: out };
}

/** The common case of `convertChannels` (RGBA8 -> RGB8), with integer arithmetic only. */
function rgbaToRgb8(image: RawImage, background: Rgb): RawImage {
  const n = image.width * image.height;
  const src = image.data;
  const out = new Uint8Array(n * 3);
  const [br, bg, bb] = background;
  for (let i = 0, p = 0, o = 0; i < n; i++, p += 4, o += 3) {
    const a = src[p + 3] as number;
    if (a === 255) {
      out[o] = src[p] as number;
      out[o + 1] = src[p + 1] as number;
      out[o + 2] = src[p + 2] as number;
    } else {
      const inv = 255 - a;
      out[o] = ((src[p] as number) * a + br * inv + 127) / 255;
      out[o + 1] = ((src[p + 1] as number) * a + bg * inv + 127) / 255;
      out[o + 2] = ((src[p + 2] as number) * a + bb * inv + 127) / 255;
    }
  }
  return { width: image.width, height: image.height, channels: 3, depth: 8, data: out };
}

async function decodeRaw(
  bytes: Uint8Array,
  options: DecodeOptions,
  depth: 8 | 16,
): Promise<RawImage> {
  const o = resolve(options);
  checkHeader(bytes, o.name, o.maxPixels);
  if (o.fastPng && canDecodePngFast(bytes)) return decodeFast(bytes, o.name);
  return decodeWithSharp(bytes, o.name, o.maxPixels, depth);
}

/**
 * Decode an image file to 8-bit pixels with `options.channels` channels. Throws `BadImageError`
 * (code `DATA_FORMAT`, with `.reason`) for truncated, non-image, oversized or unsupported files.
 * 16-bit sources are reduced with `v >> 8`, as libvips does.
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  const o = resolve(options);
  const raw = to8bit(await decodeRaw(bytes, options, 8));
  const out = convertChannels(raw, o.channels, o.background);
  return {
    width: out.width,
    height: out.height,
    channels: o.channels,
    data: out.data as Uint8Array,
  };
}

/** As `decodeImage`, at 16 bits per sample (8-bit sources scaled by 257). */
export async function decodeImage16(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<DecodedImage<Uint16Array>> {
  const o = resolve(options);
  const raw = to16bit(await decodeRaw(bytes, options, 16));
  const out = convertChannels(raw, o.channels, o.background);
  return {
    width: out.width,
    height: out.height,
    channels: o.channels,
    data: out.data as Uint16Array,
  };
}

/** Synchronous decode of a plain PNG by the fast path only (throws for other files). */
export function decodePngSync(bytes: Uint8Array, options: DecodeOptions = {}): DecodedImage {
  const o = resolve(options);
  checkHeader(bytes, o.name, o.maxPixels);
  const out = convertChannels(to8bit(decodeFast(bytes, o.name)), o.channels, o.background);
  return {
    width: out.width,
    height: out.height,
    channels: o.channels,
    data: out.data as Uint8Array,
  };
}
