import { fromArrays } from './arrays';
import { apportion, splitDataset } from './split';

/** Class-sorted: 100 examples of class 0, then 100 of class 1, then 100 of class 2. */
function classSorted() {
  const n = 300;
  const pixels = Uint8Array.from({ length: n * 2 }, (_, i) => (i >> 1) & 0xff);
  const labels = Array.from({ length: n }, (_, i) => Math.floor(i / 100));
  return fromArrays(pixels, [n, 1, 2, 1], labels);
}

describe('apportion', () => {
  it('rounds by largest remainder to exact totals', () => {
    expect(apportion(10, [0.8, 0.1, 0.1])).toEqual([8, 1, 1]);
    // 3.5, 1.75, 1.75 -> floors 3, 1, 1; the two largest remainders (0.75, 0.75) get the 2 left.
    expect(apportion(7, [0.5, 0.25, 0.25])).toEqual([3, 2, 2]);
    expect(apportion(3, [1 / 3, 1 / 3, 1 / 3])).toEqual([1, 1, 1]);
  });
});

describe('splitDataset', () => {
  it('shuffles before splitting, so class-sorted data gives every split every class', async () => {
    const { train, validation, test } = splitDataset(classSorted(), {
      seed: 1,
      fractions: { train: 0.8, validation: 0.1, test: 0.1 },
    });
    expect([train.size, validation.size, test.size]).toEqual([240, 30, 30]);
    expect(new Set(validation.labels).size).toBe(3);
    expect(new Set(test.labels).size).toBe(3);
    // The trap it avoids: the same cut taken before shuffling is one class only.
    const ds = classSorted();
    const unshuffled = ds.subset(Array.from({ length: 30 }, (_, i) => 240 + i));
    expect(new Set(unshuffled.labels)).toEqual(new Set([2]));
  });

  it('gives disjoint splits that cover the dataset, the same for the same seed', async () => {
    const ds = classSorted();
    const keys = async (part: ReturnType<typeof classSorted>) => {
      const { pixels, labels } = await part.read(Array.from({ length: part.size }, (_, i) => i));
      // pixel value (i & 0xff) + label (i / 100) identify example i uniquely.
      return Array.from(labels!, (label, k) => label * 1000 + pixels[2 * k]!);
    };
    const a = splitDataset(ds, { seed: 9, fractions: { train: 0.7, validation: 0.2, test: 0.1 } });
    const all = [...(await keys(a.train)), ...(await keys(a.validation)), ...(await keys(a.test))];
    expect(new Set(all).size).toBe(300);
    const b = splitDataset(ds, { seed: 9, fractions: { train: 0.7, validation: 0.2, test: 0.1 } });
    expect(await keys(b.validation)).toEqual(await keys(a.validation));
    const c = splitDataset(ds, { seed: 10, fractions: { train: 0.7, validation: 0.2, test: 0.1 } });
    expect(await keys(c.validation)).not.toEqual(await keys(a.validation));
  });

  it('stratifies: each class split in the same proportions, sizes exact', async () => {
    const { train, validation, test } = splitDataset(classSorted(), {
      seed: 3,
      fractions: { train: 0.8, validation: 0.1, test: 0.1 },
      stratify: true,
    });
    expect([train.size, validation.size, test.size]).toEqual([240, 30, 30]);
    for (const [part, each] of [
      [train, 80],
      [validation, 10],
      [test, 10],
    ] as const) {
      const counts = [0, 0, 0];
      part.labels!.forEach((l) => (counts[l] = counts[l]! + 1));
      expect(counts).toEqual([each, each, each]);
    }
    // Disjoint and covering: label * 1000 + pixel value identifies an example.
    const keys = await Promise.all(
      [train, validation, test].map(async (part) => {
        const { pixels, labels } = await part.read(Array.from({ length: part.size }, (_, i) => i));
        return Array.from(labels!, (label, k) => label * 1000 + pixels[2 * k]!);
      }),
    );
    expect(new Set(keys.flat()).size).toBe(300);
  });

  it('keeps exact sizes when stratified classes do not divide evenly', () => {
    const labels = Array.from({ length: 23 }, (_, i) => (i < 7 ? 0 : i < 17 ? 1 : 2));
    const ds = fromArrays(new Uint8Array(23), [23, 1, 1, 1], labels);
    const { train, validation } = splitDataset(ds, {
      seed: 0,
      fractions: { train: 0.75, validation: 0.25 },
      stratify: true,
    });
    expect(train.size + validation.size).toBe(23);
    expect([train.size, validation.size]).toEqual(apportion(23, [0.75, 0.25]));
  });

  it('explains fractions that do not sum to 1', () => {
    expect(() =>
      splitDataset(classSorted(), { seed: 0, fractions: { train: 0.8, validation: 0.3 } }),
    ).toThrow(/sum to 1/);
  });
});
