// The lint packages, re-exported for the repository's eslint.config.js: they live in this folder's own
// node_modules (see package.json), out of reach of a bare import from the repository root.
export { default as eslintJs } from '@eslint/js';
export { defineConfig } from 'eslint/config';
export { default as globals } from 'globals';
export { default as tseslint } from 'typescript-eslint';
