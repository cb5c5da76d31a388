import { isGensynthError } from '@gensynth/core';
import {
  createProgress,
  formatDuration,
  formatProgressLine,
  PROGRESS_MODES,
  resolveProgressMode,
} from './progress';

function capture(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { write: (t: string) => chunks.push(t), isTTY } };
}

describe('formatProgressLine', () => {
  it('formats step, values with 4 decimals and ms/step with 1', () => {
    const line = formatProgressLine({
      step: 1200,
      totalSteps: 5000,
      values: { 'loss/d': 1.23454, 'loss/g': 0.6789 },
      msPerStep: 41.25,
    });
    expect(line).toBe('step 1200/5000 | loss/d 1.2345 | loss/g 0.6789 | 41.3 ms/step');
  });
});

describe('formatDuration', () => {
  it('formats seconds, minutes and hours', () => {
    expect([42_000, 185_000, 7_620_000].map(formatDuration)).toEqual(['42s', '3m05s', '2h07m']);
  });
});

describe('createProgress', () => {
  it('draws a bar redrawn in place on a TTY and ends the line when done', () => {
    const { chunks, stream } = capture(true);
    const progress = createProgress('auto', stream);
    progress.update({ step: 1, totalSteps: 4, values: { 'loss/d': 1 }, msPerStep: 2 });
    progress.update({ step: 2, totalSteps: 4 });
    progress.tick(3, 4); // within 100 ms of the last draw: not redrawn
    progress.done();
    expect(chunks[0]).toBe(
      '\r[######------------------] step 1/4 | loss/d 1.0000 | 2.0 ms/step | eta 0s',
    );
    // The second draw keeps the last values and moves the bar to half.
    expect(chunks[1]).toBe(
      '\r[############------------] step 2/4 | loss/d 1.0000 | 2.0 ms/step | eta 0s',
    );
    expect(chunks[2]).toBe('\n');
  });

  it('prints plain lines when the stream is not a TTY, and nothing for none', () => {
    const lines = capture(false);
    createProgress('auto', lines.stream).update({ step: 3, totalSteps: 3 });
    expect(lines.chunks).toEqual(['step 3/3\n']);
    const silent = capture(true);
    const none = createProgress('none', silent.stream);
    none.update({ step: 1, totalSteps: 2 });
    none.message('x');
    none.done();
    expect(silent.chunks).toEqual([]);
  });

  it("prints plain lines for 'plain', an alias of 'lines', even on a TTY", () => {
    const { chunks, stream } = capture(true);
    const progress = createProgress('plain', stream);
    progress.update({ step: 2, totalSteps: 4, values: { 'loss/g': 0.5 } });
    progress.tick(3, 4);
    progress.done();
    expect(chunks).toEqual(['step 2/4 | loss/g 0.5000\n']);
  });

  it('refuses an unknown mode, naming the allowed ones, instead of drawing a bar', () => {
    const { chunks, stream } = capture(true);
    const attempt = () => createProgress('fancy' as 'auto', stream);
    expect(attempt).toThrow(
      `createProgress(mode): expected one of 'auto', 'bar', 'lines', 'plain', 'none'; received "fancy".`,
    );
    expect(chunks).toEqual([]);
  });
});

describe('resolveProgressMode', () => {
  it('returns each documented mode, with plain as lines, and throws INVALID_ARGUMENT otherwise', () => {
    expect(PROGRESS_MODES.map((m) => resolveProgressMode('x', m))).toEqual([
      'auto',
      'bar',
      'lines',
      'lines',
      'none',
    ]);
    for (const bad of ['Lines', '', undefined, 1]) {
      let error: unknown;
      try {
        resolveProgressMode('train(options.progress)', bad);
      } catch (e) {
        error = e;
      }
      expect(isGensynthError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toMatch(/^train\(options\.progress\): expected one of /);
    }
  });
});
