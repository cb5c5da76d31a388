export const PACKAGE_NAME = '@gensynth/metrics';

export type { FeatureMatrix, FeatureRows } from './features';
export {
  FeatureStats,
  FEATURE_STATS_FORMAT,
  FEATURE_STATS_VERSION,
  type FeatureStatsJSON,
  type GaussianMoments,
} from './feature-stats';
export {
  fid,
  frechetDistance,
  frechetDistanceTerms,
  FRECHET_DISTANCE_DEFAULTS,
  type FrechetDistanceOptions,
  type FrechetDistanceTerms,
} from './fid';
export { kid, KID_DEFAULTS, type KidOptions, type KidResult } from './kid';
export {
  inceptionScore,
  INCEPTION_SCORE_DEFAULTS,
  type InceptionScoreOptions,
  type InceptionScoreResult,
} from './inception-score';
export {
  precisionRecall,
  PRECISION_RECALL_DEFAULTS,
  type PrecisionRecallOptions,
  type PrecisionRecallResult,
} from './precision-recall';
export { DIGIT_CLASSIFIER_SPLIT, seededSplit, type IndexSplit } from './digits/split';
