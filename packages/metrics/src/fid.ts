/**
 * Fréchet Inception Distance (Heusel et al. 2017, arXiv:1706.08500): the Fréchet (2-Wasserstein)
 * distance between two Gaussians fitted to features (Dowson & Landau 1982).
 *
 *   FID = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))        eq. 6 of the paper
 *
 * Code names: `mean1`/`mean2` = mu1/mu2, `covariance1`/`covariance2` = S1/S2. The trace term is
 * computed exactly from eigenvalues (see linalg.ts), so singular covariances (fewer samples than
 * dimensions, dead features) need no `eps` fallback.
 */
import { GensynthError, invalidArgument, warnOnce } from '@gensynth/core';
import { FeatureStats, flattenSquare, type GaussianMoments } from './feature-stats';
import { traceSqrtProduct } from './linalg';

export interface FrechetDistanceOptions {
  /**
   * Added to both covariances' diagonals inside the square-root term only, as pytorch-fid's
   * fallback branch does with `eps = 1e-6`. 0 (default) computes the exact distance.
   */
  diagonalOffset?: number;
}

export const FRECHET_DISTANCE_DEFAULTS: Readonly<Required<FrechetDistanceOptions>> = Object.freeze({
  diagonalOffset: 0,
});

/** The terms of the distance, for reporting and debugging. */
export interface FrechetDistanceTerms {
  fid: number;
  /** `||mu1 - mu2||^2` */
  meanSquaredDistance: number;
  /** `tr(S1)` */
  traceCovariance1: number;
  /** `tr(S2)` */
  traceCovariance2: number;
  /** `tr((S1 S2)^(1/2))` */
  traceSqrtProduct: number;
}

type Stats = FeatureStats | GaussianMoments;

function meanAndCovariance(
  stats: Stats,
  where: string,
): { mean: Float64Array; covariance: Float64Array } {
  if (stats instanceof FeatureStats) return { mean: stats.mean(), covariance: stats.covariance() };
  if (!stats || stats.mean === undefined || stats.covariance === undefined) {
    throw invalidArgument(
      where,
      'a FeatureStats or { mean, covariance }',
      stats,
      'Compute statistics with FeatureStats or datasetStatistics().',
    );
  }
  const mean = Float64Array.from(stats.mean);
  return { mean, covariance: flattenSquare(stats.covariance, mean.length, `${where}.covariance`) };
}

/** FID and its terms between two feature distributions' statistics. */
export function frechetDistanceTerms(
  stats1: Stats,
  stats2: Stats,
  options: FrechetDistanceOptions = {},
): FrechetDistanceTerms {
  const { diagonalOffset } = { ...FRECHET_DISTANCE_DEFAULTS, ...options };
  if (!(diagonalOffset >= 0) || !Number.isFinite(diagonalOffset)) {
    throw invalidArgument(
      'frechetDistance(options.diagonalOffset)',
      'a finite number >= 0',
      diagonalOffset,
      "Leave it at 0 for the exact distance, or use 1e-6 to reproduce pytorch-fid's fallback.",
    );
  }
  const a = meanAndCovariance(stats1, 'frechetDistance(stats1)');
  const b = meanAndCovariance(stats2, 'frechetDistance(stats2)');
  const d = a.mean.length;
  if (b.mean.length !== d) {
    throw new GensynthError('SHAPE_MISMATCH', {
      where: 'frechetDistance(stats1, stats2)',
      expected: 'statistics of equal dimension',
      received: `D = ${d} and D = ${b.mean.length}`,
      fix: 'Compute both statistics with the same feature extractor.',
    });
  }
  for (const stats of [stats1, stats2]) {
    if (stats instanceof FeatureStats && stats.count <= d) {
      warnOnce(
        `fid-few-images:${stats.count}:${d}`,
        `frechetDistance: statistics of ${stats.count} images for ${d}-dimensional features; the covariance is singular and the FID is unreliable (use more than ${d} images on each side, ideally thousands)`,
      );
    }
  }
  if (stats1 instanceof FeatureStats && stats2 instanceof FeatureStats) {
    const [e1, e2] = [stats1.extractor, stats2.extractor];
    if (e1 !== undefined && e2 !== undefined && e1 !== e2) {
      warnOnce(
        `fid-extractor:${e1}:${e2}`,
        `frechetDistance: statistics come from different extractors ('${e1}' and '${e2}'); the value is meaningless`,
      );
    }
  }

  let meanSquaredDistance = 0;
  let traceCovariance1 = 0;
  let traceCovariance2 = 0;
  for (let i = 0; i < d; i++) {
    meanSquaredDistance += (a.mean[i]! - b.mean[i]!) ** 2;
    traceCovariance1 += a.covariance[i * d + i]!;
    traceCovariance2 += b.covariance[i * d + i]!;
  }
  if (diagonalOffset > 0) {
    for (let i = 0; i < d; i++) {
      a.covariance[i * d + i]! += diagonalOffset;
      b.covariance[i * d + i]! += diagonalOffset;
    }
  }
  const traceSqrt = traceSqrtProduct(a.covariance, b.covariance, d);
  const fid = meanSquaredDistance + traceCovariance1 + traceCovariance2 - 2 * traceSqrt; // eq. 6
  return {
    fid,
    meanSquaredDistance,
    traceCovariance1,
    traceCovariance2,
    traceSqrtProduct: traceSqrt,
  };
}

/**
 * Fréchet distance between `N(mu1, S1)` and `N(mu2, S2)`. Exact up to float64 rounding even for
 * singular covariances; values of order 1e-14 below zero can occur for identical inputs.
 */
export function frechetDistance(
  stats1: Stats,
  stats2: Stats,
  options: FrechetDistanceOptions = {},
): number {
  return frechetDistanceTerms(stats1, stats2, options).fid;
}

/** Alias of `frechetDistance`: FID when the statistics come from InceptionV3 pool3 features. */
export const fid = frechetDistance;
