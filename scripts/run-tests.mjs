#!/usr/bin/env node
// Runs the whole suite with node:test (through tsx). Starts the shared services the tests use (Azurite, an
// S3-compatible server and a Google Cloud Storage emulator, all from npm) once for all files and hands their addresses over in the
// environment; each test file makes its own databases and containers inside them.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOnRuntime } from './runtime.mjs';

// The suite runs on Reel's runtime (scripts/runtime.mjs) even when started with the machine's Node: native modules
// are built for it, and test files spawn process.execPath.
runOnRuntime();

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

function findTests(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) findTests(full, out);
    else if (entry.name.endsWith('.test.ts')) out.push(path.relative(root, full));
  }
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitForPort(port, ms = 30000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`service on port ${port} did not start`);
}

// Type errors fail the suite before any test runs (tsc of TypeScript 7 checks the tree in seconds).
if (!args.includes('--no-typecheck')) {
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root], { stdio: 'inherit', cwd: root });
  // The web console (DOM, JSX, bundler resolution) has its own tsconfig.
  const consoleTsc =
    tsc.status === 0 &&
    spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', path.join(root, 'console')], {
      stdio: 'inherit',
      cwd: root,
    });
  if (tsc.status !== 0 || consoleTsc.status !== 0) {
    process.stderr.write('type check failed\n');
    process.exit(1);
  }
}

// The style checks (scripts/lint.mjs: ESLint, import directions, formatting) fail the whole suite before any test
// runs; they are skipped when only some test files are named, or with --no-lint.
if (!args.includes('--no-lint') && !args.some((a) => !a.startsWith('-'))) {
  const lint = spawnSync(process.execPath, [path.join(root, 'scripts/lint.mjs')], { stdio: 'inherit', cwd: root });
  if (lint.status !== 0) {
    process.stderr.write('style checks failed (npm run lint)\n');
    process.exit(1);
  }
}

const children = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-test-'));

const azuritePort = await freePort();
children.push(
  spawn(
    path.join(root, 'node_modules/.bin/azurite-blob'),
    [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(azuritePort),
      '--location',
      path.join(tmp, 'azurite'),
      '--skipApiVersionCheck',
      '--loose',
      '--silent',
      '--disableTelemetry',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  ),
);
const s3Port = await freePort();
children.push(spawn(process.execPath, [path.join(root, 'test/support/s3-server.mjs'), String(s3Port), path.join(tmp, 's3')], { stdio: 'inherit' }));
const gcsPort = await freePort();
children.push(spawn(process.execPath, [path.join(root, 'test/support/gcs-server.mjs'), String(gcsPort), path.join(tmp, 'gcs')], { stdio: 'inherit' }));
await Promise.all([waitForPort(azuritePort), waitForPort(s3Port), waitForPort(gcsPort)]);

const files = args.filter((a) => !a.startsWith('-'));
const tests = files.length > 0 ? files : [...findTests(path.join(root, 'src')), ...findTests(path.join(root, 'test'))];
const env = {
  ...process.env,
  REEL_TEST_AZURITE_URL: `http://127.0.0.1:${azuritePort}/devstoreaccount1`,
  REEL_TEST_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
  REEL_TEST_GCS_ENDPOINT: `http://127.0.0.1:${gcsPort}`,
  REEL_TEST_GCS_KEY_FILE: path.join(tmp, 'gcs', 'service-account.json'),
  REEL_TEST_PG_URL: process.env.REEL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
};
const runner = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    // A failing or stuck test must never hang the suite: every test has 10 minutes, and the whole run has the
    // watchdog below. (Not --test-force-exit: it ends a file's process before its last results reach the runner's
    // pipe, so tests went missing from the counts without failing.)
    '--test-timeout=600000',
    ...tests,
  ],
  // Its own process group, so the watchdog can end the runner together with every test file process.
  { stdio: 'inherit', env, cwd: root, detached: true },
);
const suiteLimitMin = Number(process.env.REEL_TEST_SUITE_TIMEOUT_MIN ?? 45);
const watchdog = setTimeout(() => {
  process.stderr.write(`the test suite did not finish within ${suiteLimitMin} minutes (a test file left something running?): stopping it\n`);
  try {
    process.kill(-runner.pid, 'SIGKILL');
  } catch {
    runner.kill('SIGKILL');
  }
}, suiteLimitMin * 60_000);
// Detached from the terminal's process group, so Ctrl-C (or CI stopping us) is passed on by hand.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    try {
      process.kill(-runner.pid, signal);
    } catch {
      // already gone
    }
  });
}
const code = await new Promise((resolve) => runner.on('exit', (c) => resolve(c ?? 1)));
clearTimeout(watchdog);
await Promise.all(
  children.map(
    (c) =>
      new Promise((resolve) => {
        if (c.exitCode !== null) return resolve();
        c.once('exit', resolve);
        c.kill('SIGTERM');
      }),
  ),
);
fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
process.exit(code);
