// ESLint 9 flat config for the whole monorepo. Packages run `eslint src` from their own folder;
// ESLint finds this file by walking up, and every pattern below is relative to the repo root.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Node globals for plain .js/.mjs/.cjs files (scripts, configs, examples, benchmarks).
const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'queueMicrotask',
    'structuredClone',
    'performance',
    'fetch',
    'AbortController',
    'TextEncoder',
    'TextDecoder',
    'globalThis',
  ].map((name) => [name, 'readonly']),
);
const commonJsGlobals = { require: 'readonly', module: 'writable', exports: 'writable' };
const dirGlobals = { __dirname: 'readonly', __filename: 'readonly' };

// STYLE.md: a to-do comment must name an open issue, written as TODO(#12).
const todoNeedsIssue = {
  meta: {
    type: 'suggestion',
    docs: { description: 'require TODO comments to name an issue: TODO(#N)' },
    schema: [],
  },
  create(context) {
    return {
      Program() {
        for (const comment of context.sourceCode.getAllComments()) {
          if (/\bTODO\b(?!\(#\d+\))/.test(comment.value)) {
            context.report({
              loc: comment.loc,
              message: 'TODO without an issue number: write TODO(#N) naming an open issue.',
            });
          }
        }
      },
    };
  },
};

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/coverage/**',
      '**/.turbo/**',
      '**/runs/**',
      'bench/out/**',
      '.pack/**',
      '.venv/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { gensynth: { rules: { 'todo-needs-issue': todoNeedsIssue } } },
    rules: {
      // Unused names are mistakes, except deliberate `_ignored` ones.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      // `any` is sometimes the honest type at tfjs boundaries; flag it without failing the build.
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/no-non-null-assertion': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-var': 'error',
      'gensynth/todo-needs-issue': 'error',
    },
  },
  {
    // Library code logs through the core logger, never the console.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/cli/src/**', 'packages/*/src/**/*.test.ts', 'packages/*/src/**/test/**'],
    rules: {
      'no-console': 'error',
    },
  },
  {
    // Sources use `__dirname` (tsup shims it for ESM builds; jest runs them as CommonJS).
    files: ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts'],
    languageOptions: { globals: { ...nodeGlobals, ...dirGlobals } },
  },
  {
    // Tests may use `require` for fixtures and loosen types when poking at internals.
    files: ['**/*.test.ts', 'packages/*/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { sourceType: 'module', globals: nodeGlobals },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { ...nodeGlobals, ...commonJsGlobals, ...dirGlobals },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
