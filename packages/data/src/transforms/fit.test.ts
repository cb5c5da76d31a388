import { fitImage } from './fit';

/** h x w single-channel image with value 10 * row + column. */
const ramp = (h: number, w: number) =>
  Uint8Array.from({ length: h * w }, (_, i) => 10 * Math.floor(i / w) + (i % w));

describe('fitImage', () => {
  it('pads a smaller image centred on a canvas of padValue', () => {
    const out = fitImage(Uint8Array.from([1, 2, 3, 4]), 2, 2, 1, [4, 4], {
      fit: 'pad',
      padValue: 9,
    });
    expect(Array.from(out)).toEqual([9, 9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9, 9, 9, 9]);
  });

  it('center-crops to the target aspect ratio before resizing', () => {
    // 2 rows x 4 columns -> 2x2: keep columns 1..2, no resampling needed.
    const out = fitImage(ramp(2, 4), 2, 4, 1, [2, 2], { fit: 'crop' });
    expect(Array.from(out)).toEqual([1, 2, 11, 12]);
  });

  it('stretches without cropping', () => {
    // 1 x 4 -> 1 x 2 with exact area averaging: (0 + 1) / 2 -> 0.5 rounds to 1, (2 + 3) / 2 -> 3.
    const out = fitImage(ramp(1, 4), 1, 4, 1, [1, 2], { fit: 'stretch', resize: 'area' });
    expect(Array.from(out)).toEqual([1, 3]);
  });

  it('applies a crop box first, in pixels or as fractions', () => {
    const pixels = fitImage(ramp(4, 4), 4, 4, 1, [2, 2], {
      crop: { top: 1, left: 2, height: 2, width: 2 },
    });
    expect(Array.from(pixels)).toEqual([12, 13, 22, 23]);
    const relative = fitImage(ramp(4, 4), 4, 4, 1, [2, 2], {
      crop: { top: 0.25, left: 0.5, height: 0.5, width: 0.5, relative: true },
    });
    expect(Array.from(relative)).toEqual([12, 13, 22, 23]);
  });
});
