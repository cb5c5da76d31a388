import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { isGensynthError } from '@gensynth/core';
import { encodePng, pngChunk, type PngSpec } from '../testing/png-writer';
import { decodeImage, decodeImage16, decodePngSync } from './decode';
import { BadImageError } from './errors';
import { canDecodePngFast, decodePng } from './png';

const gray16 = () =>
  encodePng({ width: 2, height: 2, colorType: 0, bitDepth: 16, samples: [1, 4096, 15000, 30000] });

describe('16-bit PNG', () => {
  it('reads big-endian 16-bit gray samples exactly', async () => {
    expect(Array.from(decodePng(gray16()).data)).toEqual([1, 4096, 15000, 30000]);
    const image = await decodeImage16(gray16(), { channels: 1 });
    expect(Array.from(image.data)).toEqual([1, 4096, 15000, 30000]);
  });

  it('reduces 16-bit samples to 0, 16, 58, 117 at 8 bits on both paths', async () => {
    for (const fastPng of [true, false]) {
      const image = await decodeImage(gray16(), { channels: 1, fastPng });
      expect(Array.from(image.data)).toEqual([0, 16, 58, 117]);
    }
  });

  it('reads 16-bit RGBA and composites at 16 bits', async () => {
    const png = encodePng({
      width: 1,
      height: 1,
      colorType: 6,
      bitDepth: 16,
      samples: [65535, 0, 1000, 32768],
    });
    const image = await decodeImage16(png, { channels: 3, background: [0, 0, 0] });
    // fg * a / 65535 with a = 32768: 65535 -> 32768, 1000 -> 500.
    expect(Array.from(image.data)).toEqual([32768, 0, 500]);
  });
});

/** Every PNG kind: hand-written samples, checked against hand-expected RGBA values. */
const KINDS: { name: string; spec: PngSpec; rgba: number[] }[] = [
  {
    name: 'gray 1-bit',
    spec: { width: 3, height: 1, colorType: 0, bitDepth: 1, samples: [0, 1, 0] },
    rgba: [0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 255],
  },
  {
    name: 'gray 2-bit',
    spec: { width: 3, height: 1, colorType: 0, bitDepth: 2, samples: [1, 2, 3] },
    rgba: [85, 85, 85, 255, 170, 170, 170, 255, 255, 255, 255, 255],
  },
  {
    name: 'gray 4-bit',
    spec: { width: 3, height: 1, colorType: 0, bitDepth: 4, samples: [1, 8, 15] },
    rgba: [17, 17, 17, 255, 136, 136, 136, 255, 255, 255, 255, 255],
  },
  {
    name: 'gray 8-bit',
    spec: { width: 3, height: 1, colorType: 0, bitDepth: 8, samples: [3, 128, 250] },
    rgba: [3, 3, 3, 255, 128, 128, 128, 255, 250, 250, 250, 255],
  },
  {
    name: 'gray 8-bit + tRNS key',
    spec: { width: 2, height: 1, colorType: 0, bitDepth: 8, samples: [7, 9], trns: [9] },
    rgba: [7, 7, 7, 255, 9, 9, 9, 0],
  },
  {
    name: 'gray+alpha 8-bit',
    spec: { width: 2, height: 1, colorType: 4, bitDepth: 8, samples: [10, 0, 200, 255] },
    rgba: [10, 10, 10, 0, 200, 200, 200, 255],
  },
  {
    name: 'gray+alpha 16-bit',
    spec: { width: 1, height: 1, colorType: 4, bitDepth: 16, samples: [0x1234, 0xff00] },
    rgba: [0x12, 0x12, 0x12, 0xff],
  },
  {
    name: 'RGB 8-bit',
    spec: { width: 2, height: 1, colorType: 2, bitDepth: 8, samples: [1, 2, 3, 250, 251, 252] },
    rgba: [1, 2, 3, 255, 250, 251, 252, 255],
  },
  {
    name: 'RGB 8-bit + tRNS key',
    spec: {
      width: 2,
      height: 1,
      colorType: 2,
      bitDepth: 8,
      samples: [1, 2, 3, 4, 5, 6],
      trns: [4, 5, 6],
    },
    rgba: [1, 2, 3, 255, 4, 5, 6, 0],
  },
  {
    name: 'RGB 16-bit',
    spec: { width: 1, height: 1, colorType: 2, bitDepth: 16, samples: [0xabcd, 0x0100, 0xffff] },
    rgba: [0xab, 0x01, 0xff, 255],
  },
  {
    name: 'RGBA 8-bit',
    spec: { width: 2, height: 1, colorType: 6, bitDepth: 8, samples: [9, 8, 7, 0, 1, 2, 3, 128] },
    rgba: [9, 8, 7, 0, 1, 2, 3, 128],
  },
  {
    name: 'RGBA 16-bit',
    spec: {
      width: 1,
      height: 1,
      colorType: 6,
      bitDepth: 16,
      samples: [0x0102, 0x0304, 0x0506, 0x8000],
    },
    rgba: [1, 3, 5, 128],
  },
  {
    name: 'palette 2-bit',
    spec: {
      width: 3,
      height: 1,
      colorType: 3,
      bitDepth: 2,
      samples: [2, 0, 1],
      palette: [255, 0, 0, 0, 255, 0, 0, 0, 255],
    },
    rgba: [0, 0, 255, 255, 255, 0, 0, 255, 0, 255, 0, 255],
  },
  {
    name: 'palette 8-bit + tRNS',
    spec: {
      width: 3,
      height: 1,
      colorType: 3,
      bitDepth: 8,
      samples: [0, 1, 2],
      palette: [255, 0, 0, 0, 255, 0, 0, 0, 255],
      trns: [0, 100],
    },
    rgba: [255, 0, 0, 0, 0, 255, 0, 100, 0, 0, 255, 255],
  },
  {
    name: 'palette 4-bit + tRNS',
    spec: {
      width: 2,
      height: 1,
      colorType: 3,
      bitDepth: 4,
      samples: [1, 0],
      palette: [10, 20, 30, 40, 50, 60],
      trns: [255, 0],
    },
    rgba: [40, 50, 60, 0, 10, 20, 30, 255],
  },
];

describe('PNG kinds', () => {
  it.each(KINDS)('decodes $name exactly, like sharp', async ({ spec, rgba }) => {
    const png = encodePng(spec);
    expect(canDecodePngFast(png)).toBe(true);
    const fast = await decodeImage(png, { channels: 4 });
    const slow = await decodeImage(png, { channels: 4, fastPng: false });
    expect(Array.from(fast.data)).toEqual(rgba);
    expect(Array.from(slow.data)).toEqual(rgba);
  });

  it.each([0, 1, 2, 3, 4])('undoes row filter %i on a 5x4 RGB image', async (filter) => {
    const samples = Array.from({ length: 5 * 4 * 3 }, (_, i) => (i * 37 + 11) % 256);
    const png = encodePng({ width: 5, height: 4, colorType: 2, bitDepth: 8, samples, filter });
    expect(Array.from(decodePngSync(png).data)).toEqual(samples);
  });

  it('leaves interlaced PNGs to sharp and decodes them exactly', async () => {
    const samples = Array.from({ length: 9 * 9 }, (_, i) => (i * 5) % 256);
    const png = encodePng({
      width: 9,
      height: 9,
      colorType: 0,
      bitDepth: 8,
      samples,
      interlace: true,
    });
    expect(canDecodePngFast(png)).toBe(false);
    const image = await decodeImage(png, { channels: 1 });
    expect(Array.from(image.data)).toEqual(samples);
  });

  it('composites transparent palette entries onto the background, never opaque', async () => {
    const png = encodePng(KINDS[13]!.spec);
    const white = await decodeImage(png, { channels: 3 });
    // alpha 0 -> white; alpha 100: round((0*100 + 255*155)/255) = 155 for R and B, G = round((255*100 + 255*155)/255) = 255.
    expect(Array.from(white.data)).toEqual([255, 255, 255, 155, 255, 155, 0, 0, 255]);
    const black = await decodeImage(png, { channels: 3, background: [0, 0, 0] });
    expect(Array.from(black.data)).toEqual([0, 0, 0, 0, 100, 0, 0, 0, 255]);
  });

  it('composites gray+alpha onto the background for RGB and for gray datasets', async () => {
    // Gray 100 at alpha 51 (20 %): round((100 * 51 + 255 * 204) / 255) = 224 on white;
    // on [0, 0, 200]: R = G = round(100 * 51 / 255) = 20, B = round((5100 + 200 * 204) / 255) = 180.
    const png = encodePng({
      width: 2,
      height: 1,
      colorType: 4,
      bitDepth: 8,
      samples: [100, 51, 7, 255],
    });
    for (const fastPng of [true, false]) {
      expect(Array.from((await decodeImage(png, { channels: 3, fastPng })).data)).toEqual([
        224, 224, 224, 7, 7, 7,
      ]);
      const blue = await decodeImage(png, { channels: 3, fastPng, background: [0, 0, 200] });
      expect(Array.from(blue.data)).toEqual([20, 20, 180, 7, 7, 7]);
      expect(Array.from((await decodeImage(png, { channels: 1, fastPng })).data)).toEqual([224, 7]);
    }
  });

  it('returns gray as R=G=B for RGB datasets and luma for gray datasets', async () => {
    const grayPng = encodePng({ width: 1, height: 1, colorType: 0, bitDepth: 8, samples: [77] });
    expect(Array.from((await decodeImage(grayPng, { channels: 3 })).data)).toEqual([77, 77, 77]);
    const rgbPng = encodePng({
      width: 1,
      height: 1,
      colorType: 2,
      bitDepth: 8,
      samples: [255, 0, 0],
    });
    // (19595 * 255 + 32768) >> 16 = 76
    expect(Array.from((await decodeImage(rgbPng, { channels: 1 })).data)).toEqual([76]);
  });

  it('falls back to sharp for PNGs with an ICC profile', () => {
    const iccp = pngChunk('iCCP', Buffer.from('x\0\0'));
    const png = encodePng({
      width: 1,
      height: 1,
      colorType: 0,
      bitDepth: 8,
      samples: [1],
      extraChunks: [iccp],
    });
    expect(canDecodePngFast(png)).toBe(false);
  });
});

/** 16x16 image with solid quadrants: red top-left, green top-right, blue bottom-left, white bottom-right. */
function quadrants(): Buffer {
  const colours = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 255],
  ];
  const data = Buffer.alloc(16 * 16 * 3);
  for (let y = 0; y < 16; y++) {
    for (let x = 0; x < 16; x++)
      data.set(colours[(y >= 8 ? 2 : 0) + (x >= 8 ? 1 : 0)]!, (y * 16 + x) * 3);
  }
  return data;
}

function quadrantColours(image: { data: Uint8Array; width: number }): number[][] {
  const at = (x: number, y: number) =>
    Array.from(image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3)).map(
      (v) => (v > 127 ? 1 : 0),
    );
  return [at(3, 3), at(12, 3), at(3, 12), at(12, 12)];
}

describe('JPEG', () => {
  const R = [1, 0, 0];
  const G = [0, 1, 0];
  const B = [0, 0, 1];
  const W = [1, 1, 1];
  // EXIF orientation k: the stored image is transformed; the decoder must undo it. We store the
  // quadrant image and state which quadrant colours the upright image shows (TL, TR, BL, BR).
  const EXPECTED: Record<number, number[][]> = {
    1: [R, G, B, W],
    2: [G, R, W, B], // mirrored horizontally
    3: [W, B, G, R], // rotated 180
    4: [B, W, R, G], // mirrored vertically
    5: [R, B, G, W], // transposed
    6: [B, R, W, G], // rotate 90 clockwise to view
    7: [W, G, B, R], // transversed
    8: [G, W, R, B], // rotate 90 counter-clockwise to view
  };

  it.each(Object.keys(EXPECTED).map(Number))('applies EXIF orientation %i', async (orientation) => {
    const jpeg = await sharp(quadrants(), { raw: { width: 16, height: 16, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation })
      .toBuffer();
    const image = await decodeImage(jpeg, { channels: 3 });
    expect(quadrantColours(image)).toEqual(EXPECTED[orientation]);
  });

  it.each([
    ['baseline 4:2:0', { quality: 90 }],
    ['progressive', { quality: 90, progressive: true }],
    ['4:4:4', { quality: 90, chromaSubsampling: '4:4:4' }],
  ])('decodes %s YCbCr JPEGs', async (_name, options) => {
    const jpeg = await sharp(quadrants(), { raw: { width: 16, height: 16, channels: 3 } })
      .jpeg(options as sharp.JpegOptions)
      .toBuffer();
    expect(quadrantColours(await decodeImage(jpeg))).toEqual([R, G, B, W]);
  });

  it('decodes CMYK JPEGs (Adobe, inverted) to sRGB close to the source colours', async () => {
    // Muted colours inside the CMYK gamut survive sRGB -> CMYK -> sRGB within a few levels; a
    // decoder that ignored the Adobe inversion or the colour conversion would be off by ~200.
    const colours = [200, 60, 60, 60, 160, 80, 70, 90, 170, 128, 128, 128];
    const pixels = Buffer.alloc(4 * 8 * 8 * 3);
    for (let i = 0; i < 4 * 64; i++)
      pixels.set(colours.slice(3 * ((i % 32) >> 3), 3 * ((i % 32) >> 3) + 3), 3 * i);
    const jpeg = await sharp(pixels, { raw: { width: 32, height: 8, channels: 3 } })
      .toColourspace('cmyk')
      .jpeg({ quality: 100 })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).space).toBe('cmyk');
    const image = await decodeImage(jpeg);
    for (let q = 0; q < 4; q++) {
      const centre = (4 * 32 + q * 8 + 4) * 3;
      for (let c = 0; c < 3; c++)
        expect(Math.abs(image.data[centre + c]! - colours[3 * q + c]!)).toBeLessThanOrEqual(20);
    }
  });

  it('expands a gray JPEG to R=G=B', async () => {
    const jpeg = await sharp(Buffer.alloc(64, 90), { raw: { width: 8, height: 8, channels: 1 } })
      .toColourspace('b-w')
      .jpeg({ quality: 100 })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).channels).toBe(1);
    const image = await decodeImage(jpeg, { channels: 3 });
    expect(image.data.length).toBe(8 * 8 * 3);
    for (let i = 0; i < 64; i++) {
      expect(image.data[3 * i]).toBe(image.data[3 * i + 1]);
      expect(image.data[3 * i]).toBe(image.data[3 * i + 2]);
      expect(Math.abs(image.data[3 * i]! - 90)).toBeLessThanOrEqual(1);
    }
  });

  it('decodes WebP with alpha', async () => {
    const rgba = Buffer.from([10, 20, 30, 255, 10, 20, 30, 0, 10, 20, 30, 255, 10, 20, 30, 255]);
    const webp = await sharp(rgba, { raw: { width: 2, height: 2, channels: 4 } })
      .webp({ lossless: true })
      .toBuffer();
    const image = await decodeImage(webp, { channels: 3 });
    expect(Array.from(image.data)).toEqual([10, 20, 30, 255, 255, 255, 10, 20, 30, 10, 20, 30]);
  });
});

/**
 * A baseline TIFF (TIFF 6.0): 3 x 8-bit samples per pixel, uncompressed, one strip holding one
 * pixel (128, 0, 0) whatever size the header claims. IFD of 10 entries at byte 8,
 * BitsPerSample values at 134, the pixel at 140.
 */
function tinyTiff(photometric: number, width: number, height: number): Buffer {
  const entries = [
    [256, 4, 1, width],
    [257, 4, 1, height],
    [258, 3, 3, 134],
    [259, 3, 1, 1],
    [262, 3, 1, photometric],
    [273, 4, 1, 140],
    [277, 3, 1, 3],
    [278, 4, 1, height],
    [279, 4, 1, 3],
    [284, 3, 1, 1],
  ];
  const tiff = Buffer.alloc(143);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4);
  tiff.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, count, value], i) => {
    tiff.writeUInt16LE(tag!, 10 + 12 * i);
    tiff.writeUInt16LE(type!, 12 + 12 * i);
    tiff.writeUInt32LE(count!, 14 + 12 * i);
    if (type === 3 && count === 1) tiff.writeUInt16LE(value!, 18 + 12 * i);
    else tiff.writeUInt32LE(value!, 18 + 12 * i);
  });
  [8, 8, 8].forEach((bits, i) => tiff.writeUInt16LE(bits, 134 + 2 * i));
  tiff.set([128, 0, 0], 140);
  return tiff;
}

describe('bad files', () => {
  async function reasonOf(bytes: Uint8Array): Promise<string> {
    try {
      await decodeImage(bytes, { name: 'bad-file' });
    } catch (error) {
      expect(error).toBeInstanceOf(BadImageError);
      expect(isGensynthError(error, 'DATA_FORMAT')).toBe(true);
      expect((error as Error).message).toContain('bad-file');
      return (error as BadImageError).reason;
    }
    throw new Error('expected a BadImageError');
  }

  it('reports a truncated PNG', async () => {
    const samples = Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 7919) % 251);
    const png = encodePng({ width: 32, height: 32, colorType: 2, bitDepth: 8, samples });
    expect(await reasonOf(png.subarray(0, png.length >> 1))).toBe('truncated');
  });

  it('reports a truncated JPEG', async () => {
    const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251));
    const jpeg = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } })
      .jpeg()
      .toBuffer();
    expect(await reasonOf(jpeg.subarray(0, jpeg.length >> 1))).toBe('truncated');
  });

  it('reports text and empty files as not images', async () => {
    expect(await reasonOf(Buffer.from('hello, this is a text file'))).toBe('not-an-image');
    expect(await reasonOf(new Uint8Array(0))).toBe('truncated');
  });

  it('refuses a header claiming 100000 x 100000 pixels before decoding', async () => {
    const png = encodePng({ width: 1, height: 1, colorType: 0, bitDepth: 8, samples: [0] });
    png.writeUInt32BE(100000, 16);
    png.writeUInt32BE(100000, 20);
    expect(await reasonOf(png)).toBe('too-large');
  });

  it('refuses a JPEG whose frame header claims 65000 x 65000 before decoding', async () => {
    const jpeg = await sharp(Buffer.alloc(8 * 8 * 3, 50), {
      raw: { width: 8, height: 8, channels: 3 },
    })
      .jpeg()
      .toBuffer();
    // SOF0 (FF C0): length u16, precision u8, then height u16 and width u16, big-endian.
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    jpeg.writeUInt16BE(65000, sof + 5);
    jpeg.writeUInt16BE(65000, sof + 7);
    expect(await reasonOf(jpeg)).toBe('too-large');
    const error = await decodeImage(jpeg, { name: 'big.jpg' }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('header claims 65000x65000');
  });

  it('reports a CIELAB TIFF as an unsupported colour space, naming it', async () => {
    const tiff = tinyTiff(8, 1, 1); // PhotometricInterpretation 8: CIELab
    expect((await sharp(tiff).metadata()).space).toBe('lab');
    expect(await reasonOf(tiff)).toBe('unsupported');
    const error = await decodeImage(tiff, { name: 'lab.tif' }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /^lab\.tif: expected .*; received unsupported: colour space lab/,
    );
  });

  it("refuses a TIFF claiming 60000 x 60000 through sharp's pixel limit, before decoding", async () => {
    // The header check does not parse TIFF; libvips reads the header and refuses first.
    expect(await reasonOf(tinyTiff(2, 60000, 60000))).toBe('too-large');
    expect(Array.from((await decodeImage(tinyTiff(2, 1, 1))).data)).toEqual([128, 0, 0]);
  });

  it('words every bad-file error as "file: expected ...; received .... How to fix."', async () => {
    const cases: [string, Uint8Array][] = [
      ['empty.png', new Uint8Array(0)],
      ['notes.png', Buffer.from('a text file renamed to .png')],
      [
        'cut.png',
        encodePng({
          width: 8,
          height: 8,
          colorType: 0,
          bitDepth: 8,
          samples: new Array(64).fill(3),
        }).subarray(0, 45),
      ],
    ];
    for (const [name, bytes] of cases) {
      const error = await decodeImage(bytes, { name }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadImageError);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^${name.replace('.', '\\.')}: expected [^;]+; received [a-z-]+: .+\\. [A-Z].+\\.$`,
        ),
      );
    }
  });

  it('stops a PNG whose image data inflates far past its IHDR size (a decompression bomb)', async () => {
    // IHDR: 1x1 8-bit gray, so 2 bytes of filtered data; the IDAT inflates to 50 MiB of zeros.
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(1, 0);
    ihdr.writeUInt32BE(1, 4);
    ihdr[8] = 8;
    const bomb = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pngChunk('IHDR', ihdr),
      pngChunk('IDAT', deflateSync(Buffer.alloc(50 * 1024 * 1024))),
      pngChunk('IEND', Buffer.alloc(0)),
    ]);
    expect(await reasonOf(bomb)).toBe('corrupt');
    const error = await decodeImage(bomb, { name: 'bomb.png' }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('inflates past the 2 bytes that IHDR declares');
  });

  it('reports an invalid PNG colour type as unsupported', async () => {
    const png = encodePng({ width: 1, height: 1, colorType: 0, bitDepth: 8, samples: [0] });
    png[25] = 5;
    expect(await reasonOf(png)).toBe('unsupported');
  });
});
