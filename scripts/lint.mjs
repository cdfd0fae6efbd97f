#!/usr/bin/env node
// The style checks: ESLint (eslint.config.js), the import directions (.dependency-cruiser.cjs) and the formatting
// (prettier, .prettierrc.json). `npm run lint` runs all three, `npm test` runs them before the tests.
//   node scripts/lint.mjs [eslint|deps|format:check ...]   only the named checks
//   node scripts/lint.mjs format                          rewrite the files prettier would change
// The tools live in tools/lint with their own lock file (they need TypeScript 6's API; see its package.json) and
// are installed here on first use, so a fresh clone needs nothing but `npm test`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tools = path.join(root, 'tools', 'lint');
const bin = (name) => path.join(tools, 'node_modules', '.bin', name);
const say = (msg) => process.stderr.write(`[lint] ${msg}\n`);

const lock = path.join(tools, 'package-lock.json');
const installed = path.join(tools, 'node_modules', '.package-lock.json');
if (!fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs) {
  say('installing the lint tools (tools/lint)');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit', cwd: tools });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const code = ['src', 'test', 'bench', 'scripts', 'console/src', 'console/vite.config.ts', 'tools/lint/index.js', 'eslint.config.js', '.dependency-cruiser.cjs'];
const prettierFiles = code.map((p) =>
  fs.existsSync(path.join(root, p)) && fs.statSync(path.join(root, p)).isDirectory() ? `${p}/**/*.{ts,tsx,js,mjs,cjs}` : p,
);
const checks = {
  eslint: [bin('eslint'), ['--max-warnings=0', ...code]],
  deps: [
    bin('depcruise'),
    ['--config', '.dependency-cruiser.cjs', '--ignore-known', '.dependency-cruiser-known-violations.json', 'src', 'test', 'bench', 'scripts', 'console/src'],
  ],
  'format:check': [bin('prettier'), ['--check', '--log-level=warn', ...prettierFiles]],
  format: [bin('prettier'), ['--write', '--log-level=warn', ...prettierFiles]],
};

const asked = process.argv.slice(2);
for (const name of asked)
  if (!(name in checks)) {
    say(`unknown check '${name}'; known: ${Object.keys(checks).join(', ')}`);
    process.exit(2);
  }
const run = asked.length > 0 ? asked : ['eslint', 'deps', 'format:check'];
const failed = [];
for (const name of run) {
  const [cmd, args] = checks[name];
  const started = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status === 0) say(`${name}: ok (${secs} s)`);
  else {
    say(`${name}: FAILED (${secs} s)`);
    failed.push(name);
  }
}
if (failed.length > 0) {
  if (failed.includes('format:check')) say('run `npm run format` to format the files listed above');
  process.exit(1);
}
