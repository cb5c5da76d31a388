import { GensynthError, isGensynthError, formatErrorMessage } from './errors';

describe('GensynthError', () => {
  it('formats `where: expected ...; received .... How to fix.`', () => {
    const e = new GensynthError('SHAPE_MISMATCH', {
      where: 'sampleGrid(images)',
      expected: 'a Tensor4D [B, H, W, C]',
      received: 'shape [3, 32, 32]',
      fix: 'Add a batch dimension with images.expandDims(0).',
    });
    expect(e.message).toBe(
      'sampleGrid(images): expected a Tensor4D [B, H, W, C]; received shape [3, 32, 32]. Add a batch dimension with images.expandDims(0).',
    );
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e).toBeInstanceOf(Error);
    expect(isGensynthError(e)).toBe(true);
    expect(isGensynthError(e, 'SHAPE_MISMATCH')).toBe(true);
    expect(isGensynthError(e, 'IO')).toBe(false);
  });

  it('is recognised across two separately loaded copies of the module', () => {
    let copyA: typeof import('./errors') | undefined;
    let copyB: typeof import('./errors') | undefined;
    jest.isolateModules(() => {
      copyA = require('./errors');
    });
    jest.isolateModules(() => {
      copyB = require('./errors');
    });
    expect(copyA).toBeDefined();
    expect(copyA!.GensynthError).not.toBe(copyB!.GensynthError);
    const fromA = new copyA!.GensynthError('IO', 'x');
    expect(fromA instanceof copyB!.GensynthError).toBe(false); // why the brand exists
    expect(copyB!.isGensynthError(fromA, 'IO')).toBe(true);
  });

  it('does not mistake plain errors or look-alikes for gensynth errors', () => {
    expect(isGensynthError(new Error('x'))).toBe(false);
    expect(isGensynthError({ code: 'IO', name: 'GensynthError' })).toBe(false);
    expect(isGensynthError(null)).toBe(false);
  });

  it('drops a trailing period of the received part so the message has one', () => {
    expect(formatErrorMessage({ where: 'w', expected: 'e', received: 'r.', fix: 'F.' })).toBe(
      'w: expected e; received r. F.',
    );
  });
});
