import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isGensynthError } from '@gensynth/core';
import { loadConfigFile, resolveConfig } from './config';

describe('resolveConfig', () => {
  it('fills every default from a minimal config', () => {
    const config = resolveConfig({ data: { source: 'mnist-package' } });
    expect(config.seed).toBe(42);
    expect(config.backend).toBe('auto');
    expect(config.data).toEqual({
      source: 'mnist-package',
      imageSize: 32,
      channels: 1,
      validationFraction: 0.1,
    });
    expect(config.model.loss).toBe('non-saturating');
    expect(config.model.learningRate).toBe(2e-4);
    expect(config.train.batchSize).toBe(64);
    expect(config.eval.fid).toBe(true);
  });

  it('names a bad enum field with the allowed values and what it received', () => {
    expect.assertions(4);
    try {
      resolveConfig(
        { data: { source: 'mnist-package' }, model: { normalization: 'bath' } },
        'my.yaml',
      );
    } catch (e) {
      expect(isGensynthError(e, 'INVALID_CONFIG')).toBe(true);
      const message = (e as Error).message;
      expect(message).toContain('my.yaml: expected a valid gensynth config; received 1 problem(s)');
      expect(message).toContain(
        'model.normalization: expected one of "batch", "layer", "none"; received "bath"',
      );
      expect(message).toContain('Fix the field(s) named above');
    }
  });

  it('lists every problem: unknown fields, wrong types and missing sections', () => {
    const attempt = () =>
      resolveConfig({
        data: { source: 'mnist-package', imageSize: -3 },
        train: { stepz: 10 },
        extra: 1,
      });
    expect(attempt).toThrow(/data\.imageSize: .*received -3/);
    expect(attempt).toThrow(
      'train: unknown field "stepz"; allowed: steps, batchSize, logEvery, sampleEvery, checkpointEvery, keepCheckpoints, sampleCount',
    );
    expect(attempt).toThrow(
      '(top level): unknown field "extra"; allowed: name, seed, runDir, backend, data, model, train, eval',
    );
    expect(() => resolveConfig({})).toThrow('data: required (expected object); received nothing');
    expect(() => resolveConfig({ data: { source: 'mnist-package', imageSize: '32' } })).toThrow(
      'data.imageSize: expected number; received "32"\n',
    );
  });
});

describe('loadConfigFile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gensynth-config-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads YAML and JSON to the same resolved config', () => {
    const yamlFile = path.join(dir, 'a.yaml');
    const jsonFile = path.join(dir, 'a.json');
    fs.writeFileSync(
      yamlFile,
      'name: x\ndata:\n  source: mnist-package\ntrain:\n  steps: 7 # short\n',
    );
    fs.writeFileSync(
      jsonFile,
      JSON.stringify({ name: 'x', data: { source: 'mnist-package' }, train: { steps: 7 } }),
    );
    expect(loadConfigFile(yamlFile)).toEqual(loadConfigFile(jsonFile));
    expect(loadConfigFile(yamlFile).train.steps).toBe(7);
  });

  it('reports a missing file and a syntax error by file name', () => {
    const missing = () => loadConfigFile(path.join(dir, 'nope.yaml'));
    expect(missing).toThrow(
      /config .*nope\.yaml: expected a readable YAML or JSON file; received no such file \(ENOENT\)/,
    );
    expect(missing).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'data: [unclosed\n');
    expect(() => loadConfigFile(bad)).toThrow(/bad\.yaml: expected valid YAML or JSON/);
  });

  it('accepts the demo config shipped in examples/demo', () => {
    const config = loadConfigFile(path.join(__dirname, '../../../examples/demo/demo.yaml'));
    expect(config.data.source).toBe('mnist-package');
    expect(config.model.generatorFilters).toBe(32);
  });
});
