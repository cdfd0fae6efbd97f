// ESLint for the server (src, test, bench, scripts) and the web console (console/src, its own tsconfig).
// Run by `npm run lint` (scripts/lint.mjs), which `npm test` runs first. Formatting is prettier's job, import
// directions dependency-cruiser's (.dependency-cruiser.cjs); this file holds the rules a reader would otherwise
// have to enforce in review.
import { defineConfig, eslintJs, globals, tseslint } from './tools/lint/index.js';

const root = import.meta.dirname;

export default defineConfig(
  {
    ignores: [
      '**/node_modules/',
      'dist/',
      'console/dist/',
      'bench/.build/',
      'bench/scratch/',
      'bench/results/',
      'data/',
      'test-output/',
      'test/fixtures/.cache/',
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  eslintJs.configs.recommended,
  tseslint.configs.recommended,

  // TypeScript: the checks that need types, each one cheap once the program is built.
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-for-in-array': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // Re-throwing what a catch or an abort signal holds (typed unknown/any) is allowed; a literal string is not.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },

  // The server: configuration comes from src/config only, modules export by name, and no promise is dropped.
  {
    files: ['src/**/*.ts'],
    rules: {
      // node:test's test()/describe() return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read settings through src/config (loadConfig); process.env is read only there.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use a named export (house style: one main export named after the file).' },
      ],
    },
  },
  {
    files: ['src/config/**/*.ts'],
    rules: {
      'no-restricted-properties': 'off',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use a named export (house style: one main export named after the file).' },
      ],
    },
  },

  {
    files: ['src/store/migrations/**/*.ts', 'src/store/compiled-query-cache.ts'],
    // Kysely's own convention: migrations (and a cache of compiled queries for any table) must not depend on today's row types.
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/media/packager/parse/**/*.ts'],
    // The parsers advance their cursor past every field of a box's layout, also past the last one read.
    rules: { 'no-useless-assignment': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    // JSON bodies and child-process messages under test are untyped on purpose.
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },

  // Plain JavaScript (scripts/*.mjs, test/support/s3-server.mjs, these config files): Node globals, no types.
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['console/src/**/*.tsx', 'console/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
