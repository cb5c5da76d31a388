import { defineConfig } from 'tsup';

export default defineConfig({
  // The decode worker is its own entry: the pool starts worker threads on dist/decode-worker.*.
  entry: { index: 'src/index.ts', 'decode-worker': 'src/decode/worker.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  shims: true,
  target: 'node20',
});
