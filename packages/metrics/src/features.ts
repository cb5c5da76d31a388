/**
 * Feature matrices as the metrics accept them: a `[N, D]` tensor, an array of rows, or a flat
 * row-major typed array with its column count. Internally everything becomes float64.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '@gensynth/core';

/** A flat row-major `[N * D]` matrix with its shape. */
export interface FeatureRows {
  values: Float32Array | Float64Array;
  rows: number;
  cols: number;
}

/** `[N, D]` features: a tensor (read synchronously), rows of numbers, or `FeatureRows`. */
export type FeatureMatrix = tf.Tensor2D | ArrayLike<number>[] | FeatureRows;

/** A float64 copy (or view, when already float64) of a feature matrix. */
export interface Matrix64 {
  values: Float64Array;
  rows: number;
  cols: number;
}

function isTensor(value: unknown): value is tf.Tensor {
  return (
    typeof value === 'object' &&
    value !== null &&
    'dataSync' in value &&
    'shape' in value &&
    typeof (value as tf.Tensor).dataSync === 'function'
  );
}

/** Convert any accepted form to a float64 row-major matrix; `where` names the argument. */
export function toMatrix64(features: FeatureMatrix, where: string): Matrix64 {
  if (isTensor(features)) {
    if (features.rank !== 2) {
      throw invalidArgument(
        where,
        'a [N, D] tensor',
        `shape [${features.shape}]`,
        'Pass features of rank 2.',
      );
    }
    const [rows, cols] = features.shape as [number, number];
    return { values: Float64Array.from(features.dataSync()), rows, cols };
  }
  if (Array.isArray(features)) {
    const rows = features.length;
    const cols = rows > 0 ? (features[0] as ArrayLike<number>).length : 0;
    const values = new Float64Array(rows * cols);
    features.forEach((row, i) => {
      if (row.length !== cols) {
        throw invalidArgument(
          where,
          `rows of equal length ${cols}`,
          `row ${i} of length ${row.length}`,
          'Pass a rectangular [N, D] array.',
        );
      }
      for (let j = 0; j < cols; j++) values[i * cols + j] = row[j] as number;
    });
    return { values, rows, cols };
  }
  const { values, rows, cols } = features as FeatureRows;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || values?.length !== rows * cols) {
    throw invalidArgument(
      where,
      '{ values, rows, cols } with values.length === rows * cols',
      `rows=${rows}, cols=${cols}, values.length=${values?.length}`,
      'Pass a tensor, an array of rows, or a flat row-major array with its shape.',
    );
  }
  return {
    values: values instanceof Float64Array ? values : Float64Array.from(values),
    rows,
    cols,
  };
}

/** Throw unless every value is finite (NaN/Inf features make every metric meaningless). */
export function assertFinite(matrix: Matrix64, where: string): void {
  for (let i = 0; i < matrix.values.length; i++) {
    if (!Number.isFinite(matrix.values[i])) {
      const row = Math.floor(i / Math.max(matrix.cols, 1));
      throw invalidArgument(
        where,
        'finite feature values',
        `${matrix.values[i]} at row ${row}, column ${i % matrix.cols}`,
        'Check the extractor and the images for NaN/Inf.',
      );
    }
  }
}
