#!/usr/bin/env node
// Compiles the server for `npm start`: one ESM bundle of src/ in dist/ (npm packages stay external), so the
// running server does not transpile TypeScript at run time (tsx costs ~45 MB of RSS and start-up time).
// Dynamic imports become separate chunks, so drivers' SDKs load only when used. Tests and benchmarks of
// source files still run them through tsx.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await build({
  absWorkingDir: root,
  // Two entries: the origin-only processes (REEL_ORIGIN_PROCESSES ≥ 2) load only their own chunks.
  entryPoints: ['src/main.ts', 'src/origin-main.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
