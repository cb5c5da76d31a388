/**
 * Seeded train/validation/test splits. The indices are shuffled with the seed first and then
 * cut, so class-sorted data (MNIST as shipped, folders listed class by class) gives every split
 * every class. Sizes are exact: `round` by largest remainder so they sum to the dataset size.
 * With `stratify`, each class is split in the same proportions (as close as integers allow)
 * while the split sizes stay exactly those of the unstratified split.
 */
import { invalidArgument, Rng } from '@gensynth/core';
import type { ImageDataset } from './dataset';

export interface SplitOptions {
  seed: number;
  /** Fractions of the dataset; they must sum to 1 (test may be omitted or 0). */
  fractions: { train: number; validation: number; test?: number };
  /** Keep class proportions in every split (needs labels). Default false. */
  stratify?: boolean;
}

export interface SplitResult {
  train: ImageDataset;
  validation: ImageDataset;
  test: ImageDataset;
}

const NAMES = ['train', 'validation', 'test'] as const;

/** Integer parts of `total * fractions` that sum to `total` (largest remainder). */
export function apportion(total: number, fractions: readonly number[]): number[] {
  const exact = fractions.map((f) => f * total);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((e, i) => [e - Math.floor(e), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of byRemainder) {
    if (left <= 0) break;
    counts[i] = (counts[i] as number) + 1;
    left -= 1;
  }
  return counts;
}

/** Split indices per class so each class's share per split is as close as integers allow. */
function stratifiedAssignment(order: Int32Array, labels: Int32Array, totals: number[]): number[][] {
  const byClass = new Map<number, number[]>();
  for (const i of order) {
    const label = labels[i] as number;
    const members = byClass.get(label);
    if (members) members.push(i);
    else byClass.set(label, [i]);
  }
  const n = order.length;
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const quota = classes.map((c) => totals.map((t) => ((byClass.get(c)?.length ?? 0) * t) / n));
  const cells = quota.map((row) => row.map(Math.floor));
  const colLeft = totals.map((t, s) => t - cells.reduce((a, row) => a + (row[s] as number), 0));
  classes.forEach((c, k) => {
    const row = cells[k] as number[];
    let rowLeft = (byClass.get(c)?.length ?? 0) - row.reduce((a, b) => a + b, 0);
    while (rowLeft > 0) {
      let best = -1;
      for (let s = 0; s < totals.length; s++) {
        if ((colLeft[s] as number) <= 0) continue;
        const frac = (quota[k]?.[s] as number) - (row[s] as number);
        if (best < 0 || frac > (quota[k]?.[best] as number) - (row[best] as number)) best = s;
      }
      row[best] = (row[best] as number) + 1;
      colLeft[best] = (colLeft[best] as number) - 1;
      rowLeft -= 1;
    }
  });
  const splits: number[][] = totals.map(() => []);
  classes.forEach((c, k) => {
    const members = byClass.get(c) ?? [];
    let at = 0;
    cells[k]?.forEach((count, s) => {
      splits[s]?.push(...members.slice(at, at + count));
      at += count;
    });
  });
  // Interleave classes again in shuffled order so a split is not class-sorted.
  const rank = new Int32Array(labels.length);
  order.forEach((i, r) => (rank[i] = r));
  return splits.map((s) => s.sort((a, b) => (rank[a] as number) - (rank[b] as number)));
}

/**
 * Disjoint `train`, `validation` and `test` views covering the whole dataset, with sizes
 * `apportion(size, fractions)`. The same seed gives the same split on every run.
 */
export function splitDataset(dataset: ImageDataset, options: SplitOptions): SplitResult {
  const f = [options.fractions.train, options.fractions.validation, options.fractions.test ?? 0];
  const sum = f.reduce((a, b) => a + b, 0);
  if (!f.every((v) => Number.isFinite(v) && v >= 0) || Math.abs(sum - 1) > 1e-9) {
    throw invalidArgument(
      'splitDataset(fractions)',
      'non-negative fractions that sum to 1',
      options.fractions,
      'Pass e.g. { train: 0.9, validation: 0.1 }.',
    );
  }
  const labels = dataset.labels;
  if (options.stratify && !labels) {
    throw invalidArgument(
      'splitDataset(stratify)',
      'a labelled dataset',
      `${dataset.name} without labels`,
      'Drop stratify, or load the dataset with classes.',
    );
  }
  const order = Rng.fromSeed(options.seed).permutation(dataset.size);
  const totals = apportion(dataset.size, f);
  let parts: ArrayLike<number>[];
  if (options.stratify && labels) {
    parts = stratifiedAssignment(order, labels, totals);
  } else {
    const cut1 = totals[0] as number;
    const cut2 = cut1 + (totals[1] as number);
    parts = [order.subarray(0, cut1), order.subarray(cut1, cut2), order.subarray(cut2)];
  }
  const views = NAMES.map((name, s) =>
    dataset.subset(parts[s] as ArrayLike<number>, `${dataset.name}/${name}`),
  );
  return {
    train: views[0] as ImageDataset,
    validation: views[1] as ImageDataset,
    test: views[2] as ImageDataset,
  };
}
