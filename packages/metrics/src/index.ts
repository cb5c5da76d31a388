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
export {
  createDigitFeatureExtractor,
  DIGIT_CLASSIFIER_INFO,
  DIGIT_FEATURE_EXTRACTOR_DEFAULTS,
  type DigitFeatureExtractor,
  type DigitFeatureExtractorOptions,
} from './digits/extractor';
export {
  layerFeatureExtractor,
  LAYER_FEATURE_EXTRACTOR_DEFAULTS,
  type LayerFeatureExtractorOptions,
} from './extractors/layer';
export {
  inceptionV3FeatureExtractor,
  INCEPTION_FEATURE_EXTRACTOR_DEFAULTS,
  type InceptionFeatureExtractorOptions,
} from './extractors/inception';
export { fileSystemHandler, loadModelArtifacts } from './extractors/file-io';
export { prepareImages, type FitMode, type InputSpec } from './extractors/preprocess';
export {
  computeFid,
  datasetStatistics,
  extractFeatures,
  extractStatistics,
  STREAM_DEFAULTS,
  type ComputeFidOptions,
  type ComputeFidResult,
  type DatasetStatisticsOptions,
  type ImageSource,
  type StreamOptions,
} from './compute';
