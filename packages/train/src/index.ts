export const PACKAGE_NAME = '@gensynth/train';

export { train, resume, type TrainResult } from './trainer';
export {
  DEFAULT_TRAIN_OPTIONS,
  type EvaluateFn,
  type ResumeOptions,
  type RunControlOptions,
  type StepInfo,
  type TrainOptions,
} from './options';
export {
  saveCheckpoint,
  loadCheckpoint,
  loadLatestGoodCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  readLatest,
  readCheckpointDir,
  restoreCheckpoint,
  type LoadCheckpointOptions,
  type SaveCheckpointOptions,
} from './checkpoint/store';
export {
  CHECKPOINT_FORMAT_VERSION,
  checkpointDirName,
  type BestMetric,
  type CheckpointManifest,
  type CheckpointState,
  type LoadedCheckpoint,
  type StoredTensor,
  type TensorEntry,
} from './checkpoint/format';
export {
  imageGrid,
  imageGridRaw,
  writeImageGrid,
  encodePng,
  toByte,
  type ImageGridOptions,
  type RawGrid,
} from './image-grid';
export {
  EventWriter,
  tfRecord,
  EVENT_FILE_VERSION,
  type EncodedImage,
  type EventWriterOptions,
} from './tensorboard/event-writer';
export { crc32c, maskedCrc32c } from './tensorboard/crc32c';
export { writeReport, REPORT_FILE } from './report';
export { readMetrics, METRICS_FILE, type MetricsRecord } from './metrics-log';
export {
  readRunConfig,
  CONFIG_FILE,
  type RunConfig,
  type DatasetFingerprint,
  type ResolvedTrainSettings,
} from './run-config';
export {
  createProgress,
  formatProgressLine,
  PROGRESS_MODES,
  resolveProgressMode,
  type ProgressMode,
  type ProgressReporter,
  type ProgressStream,
  type ProgressUpdate,
} from './progress';
