#!/usr/bin/env node
// The `gensynth` command. This stub is committed so that `npm install` in a fresh checkout links
// the command before `dist/` exists; the command itself is the built dist/bin.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/bin.js', import.meta.url);
if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  process.stderr.write(
    `gensynth: expected the built command at ${fileURLToPath(built)}; received no such file. ` +
      'Run `npm run build` in the repository first.\n',
  );
  process.exitCode = 1;
}
