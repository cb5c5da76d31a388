/**
 * Image headers read without decoding: the format and the size the file claims, so that a file
 * claiming 100000 x 100000 pixels is refused before any pixel memory is allocated.
 */
import { readPngHeader } from './png';

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'tiff' | 'avif' | 'bmp' | 'unknown';

export interface ImageHeader {
  format: ImageFormat;
  /** Claimed size, when the header could be read here (PNG, JPEG, GIF, WebP); else undefined. */
  width?: number;
  height?: number;
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

export function sniffFormat(bytes: Uint8Array): ImageFormat {
  if (bytes.length < 12) return 'unknown';
  if (bytes[0] === 0x89 && ascii(bytes, 1, 4) === 'PNG') return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (ascii(bytes, 0, 4) === 'GIF8') return 'gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  if (ascii(bytes, 0, 4) === 'II*\0' || ascii(bytes, 0, 4) === 'MM\0*') return 'tiff';
  if (ascii(bytes, 4, 8) === 'ftyp' && /avi[fs]|heic|mif1/.test(ascii(bytes, 8, 12))) return 'avif';
  if (ascii(bytes, 0, 2) === 'BM') return 'bmp';
  return 'unknown';
}

/** Start-of-frame markers of JPEG (baseline, progressive, lossless, arithmetic...). */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpegSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1] as number;
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    const length = ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number);
    if (SOF.has(marker)) {
      const height = ((bytes[at + 5] as number) << 8) | (bytes[at + 6] as number);
      const width = ((bytes[at + 7] as number) << 8) | (bytes[at + 8] as number);
      return { width, height };
    }
    at += 2 + length;
  }
  return undefined;
}

function webpSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const chunk = ascii(bytes, 12, 16);
  const le16 = (i: number) => (bytes[i] as number) | ((bytes[i + 1] as number) << 8);
  const le24 = (i: number) => le16(i) | ((bytes[i + 2] as number) << 16);
  if (chunk === 'VP8X' && bytes.length >= 30) return { width: le24(24) + 1, height: le24(27) + 1 };
  if (chunk === 'VP8 ' && bytes.length >= 30) {
    return { width: le16(26) & 0x3fff, height: le16(28) & 0x3fff };
  }
  if (chunk === 'VP8L' && bytes.length >= 25) {
    const bits =
      (bytes[21] as number) |
      ((bytes[22] as number) << 8) |
      ((bytes[23] as number) << 16) |
      ((bytes[24] as number) << 24);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  return undefined;
}

/** The format and, for PNG, JPEG, GIF and WebP, the size the header claims. */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  const format = sniffFormat(bytes);
  let size: { width: number; height: number } | undefined;
  if (format === 'png') size = readPngHeader(bytes) ?? undefined;
  else if (format === 'jpeg') size = jpegSize(bytes);
  else if (format === 'gif') {
    size = {
      width: (bytes[6] as number) | ((bytes[7] as number) << 8),
      height: (bytes[8] as number) | ((bytes[9] as number) << 8),
    };
  } else if (format === 'webp') size = webpSize(bytes);
  return size ? { format, width: size.width, height: size.height } : { format };
}
