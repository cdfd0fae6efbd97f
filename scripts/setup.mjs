#!/usr/bin/env node
// Installs what Reel needs on a fresh machine: npm packages, then Debian packages (ffmpeg; for tests also
// chromium). Idempotent and quick when everything is present. Used by `npm start` and `npm test`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const forTests = process.argv.includes('--test');
const forBench = process.argv.includes('--bench');
const say = (msg) => process.stderr.write(`[setup] ${msg}\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

// 1. npm packages: install when node_modules is missing or older than the lock file.
const lock = path.join(root, 'package-lock.json');
const installed = path.join(root, 'node_modules', '.package-lock.json');
if (!fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs) {
  say('installing npm packages');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

// 2. Debian packages.
const wanted = [];
if (!has('ffmpeg') || !has('ffprobe')) wanted.push('ffmpeg');
if (forTests && !fs.existsSync('/usr/bin/chromium')) wanted.push('chromium');
// The origin benchmark's load generator (one C thread moves GB/s; autocannon measures itself at these sizes).
if (forBench && !has('wrk')) wanted.push('wrk');
if (wanted.length > 0) {
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    say(`missing Debian packages: ${wanted.join(' ')}; install them (apt-get install ${wanted.join(' ')}) and retry`);
    process.exit(1);
  }
  say(`installing Debian packages: ${wanted.join(' ')}`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...wanted], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

// 3. Tests need the machine's PostgreSQL; start the cluster if it is installed but stopped.
if (forTests && has('pg_isready') && spawnSync('pg_isready', ['-h', '127.0.0.1', '-q']).status !== 0 && has('pg_ctlcluster')) {
  const versions = fs.existsSync('/etc/postgresql') ? fs.readdirSync('/etc/postgresql') : [];
  for (const v of versions) {
    say(`starting PostgreSQL ${v}`);
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', v, 'main', 'start'], { stdio: 'inherit' });
  }
}

// 4. The server, compiled for `npm start` (about a second; always rebuilt so it never runs stale code).
if (!forTests && !forBench) {
  say('compiling the server');
  run(process.execPath, [path.join(root, 'scripts', 'build.mjs')]);
}

// 5. The web console (console/, React + Vite) is built into console/dist (not committed) for `npm start` and the
// tests, whenever one of its sources or the lock file is newer than the last build.
const consoleDir = path.join(root, 'console');
if (!forBench && fs.existsSync(path.join(consoleDir, 'vite.config.ts'))) {
  const newest = (p) => {
    if (!fs.existsSync(p)) return 0;
    const st = fs.statSync(p);
    if (!st.isDirectory()) return st.mtimeMs;
    return Math.max(st.mtimeMs, ...fs.readdirSync(p).map((f) => newest(path.join(p, f))));
  };
  const sources = ['index.html', 'vite.config.ts', 'tsconfig.json', 'src', 'public'].map((f) => path.join(consoleDir, f));
  const built = path.join(consoleDir, 'dist', 'index.html');
  if (!fs.existsSync(built) || Math.max(newest(lock), ...sources.map(newest)) > fs.statSync(built).mtimeMs) {
    say('building the web console');
    run(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join(consoleDir, 'vite.config.ts'), '--logLevel', 'warn']);
  }
}
