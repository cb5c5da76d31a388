import { GensynthError } from '@gensynth/core';

/** Why a file could not be used. */
export type BadFileReason =
  'truncated' | 'not-an-image' | 'too-large' | 'unsupported' | 'corrupt' | 'unreadable';

/** A file that failed to decode, with its reason; thrown as a `DATA_FORMAT` GensynthError. */
export class BadImageError extends GensynthError {
  readonly reason: BadFileReason;
  readonly file: string;
  readonly detail: string;

  constructor(file: string, reason: BadFileReason, detail: string) {
    super('DATA_FORMAT', {
      where: file,
      expected: 'a complete PNG, JPEG, WebP, GIF, TIFF or AVIF image of a sane size',
      received: `${reason}: ${detail}`,
      fix: FIXES[reason],
    });
    this.name = 'BadImageError';
    this.reason = reason;
    this.file = file;
    this.detail = detail;
  }
}

const FIXES: Record<BadFileReason, string> = {
  truncated: 'Re-download or re-export the file; with badFiles: "skip" it is left out.',
  'not-an-image':
    'Remove the file from the dataset folder, or rename it so its extension is not an image one.',
  'too-large': 'Resize the image offline, or raise the maxPixels option if the size is genuine.',
  unsupported: 'Convert the image to 8-bit sRGB or grayscale PNG or JPEG.',
  corrupt: 'Re-export the file; with badFiles: "skip" it is left out.',
  unreadable: 'Check that the file exists and is readable.',
};

/** Sort an error message from sharp or zlib into a reason. */
export function classifyDecodeError(message: string): BadFileReason {
  const m = message.toLowerCase();
  if (
    /premature end|truncated|unexpected end|end of (file|stream|data)|not enough data|read error/.test(
      m,
    )
  ) {
    return 'truncated';
  }
  if (
    /unsupported image format|input buffer contains unsupported|not a png|not a known file format/.test(
      m,
    )
  ) {
    return 'not-an-image';
  }
  if (/pixel limit|exceeds|too large|dimensions/.test(m)) return 'too-large';
  if (/colou?r ?space|colour type|color type|interpretation|unsupported/.test(m))
    return 'unsupported';
  return 'corrupt';
}
