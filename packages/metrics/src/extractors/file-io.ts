/**
 * A tfjs IOHandler for the local file system (Node), since `file://` URLs need tfjs-node
 * otherwise. Reads and writes the standard tfjs format: `model.json` plus binary weight shards.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GensynthError } from '@gensynth/core';

interface ModelJson {
  modelTopology?: object;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  signature?: object;
  userDefinedMetadata?: Record<string, object>;
  modelInitializer?: object;
}

/** `file:///a/model.json` or `/a/model.json` -> `/a/model.json`; a directory -> its model.json. */
async function resolveModelJson(location: string): Promise<string> {
  const { fileURLToPath } = await import('node:url');
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const file = location.startsWith('file://') ? fileURLToPath(location) : location;
  const stat = await fs.stat(file).catch(() => null);
  return stat?.isDirectory() ? path.join(file, 'model.json') : file;
}

/** Load the artifacts (topology + concatenated weights) of a tfjs model on disk. */
export async function loadModelArtifacts(location: string): Promise<tf.io.ModelArtifacts> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const file = await resolveModelJson(location);
  let json: ModelJson;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8')) as ModelJson;
  } catch (error) {
    throw new GensynthError(
      'DATA_NOT_FOUND',
      {
        where: 'loadModelArtifacts(location)',
        expected: 'a readable tfjs model.json (from tensorflowjs_converter or model.save)',
        received: `${JSON.stringify(location)} (${(error as Error).message})`,
        fix: 'Pass the path of the converted model.json or of the folder holding it.',
      },
      { cause: error },
    );
  }
  const directory = path.dirname(file);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of json.weightsManifest ?? []) {
    weightSpecs.push(...group.weights);
    for (const shard of group.paths) shards.push(await fs.readFile(path.join(directory, shard)));
  }
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const shard of shards) {
    weightData.set(shard, offset);
    offset += shard.byteLength;
  }
  return {
    modelTopology: json.modelTopology,
    weightSpecs,
    weightData: weightData.buffer,
    ...(json.format !== undefined ? { format: json.format } : {}),
    ...(json.generatedBy !== undefined ? { generatedBy: json.generatedBy } : {}),
    ...(json.convertedBy !== undefined ? { convertedBy: json.convertedBy } : {}),
    ...(json.signature !== undefined ? { signature: json.signature } : {}),
    ...(json.userDefinedMetadata !== undefined
      ? { userDefinedMetadata: json.userDefinedMetadata }
      : {}),
    ...(json.modelInitializer !== undefined ? { modelInitializer: json.modelInitializer } : {}),
  };
}

/**
 * An IOHandler reading and writing `directory/model.json` + `directory/weights.bin`, for
 * `tf.loadLayersModel(fileSystemHandler(dir))` and `model.save(fileSystemHandler(dir))`.
 */
export function fileSystemHandler(directory: string): tf.io.IOHandler {
  return {
    load: () => loadModelArtifacts(directory),
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const fs = await import('node:fs/promises');
      const path = await import('node:path');
      await fs.mkdir(directory, { recursive: true });
      const weightData = artifacts.weightData
        ? tf.io.CompositeArrayBuffer.join(artifacts.weightData)
        : new ArrayBuffer(0);
      const json: ModelJson = {
        modelTopology: artifacts.modelTopology as object,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        ...(artifacts.userDefinedMetadata
          ? { userDefinedMetadata: artifacts.userDefinedMetadata }
          : {}),
      };
      await fs.writeFile(path.join(directory, 'weights.bin'), new Uint8Array(weightData));
      await fs.writeFile(path.join(directory, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}
