#!/usr/bin/env node
// Installs what Reel needs on a fresh machine: npm packages (among them the Node.js runtime Reel runs on, see
// runtime.mjs), then Debian packages (ffmpeg; for tests also chromium), and checks that native modules load on
// that runtime. Idempotent and quick when everything is present. Used by `npm start` and `npm test`, which start
// it with the machine's Node; it hands itself over to the runtime once the npm packages are in place.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOnRuntime, runtimePackage, runtimePath, runtimeVersion } from './runtime.mjs';

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

// npm's own script, so that npm runs on the runtime: npm checks packages' `engines` against the Node it runs on,
// and dependencies that need Node 22+ would warn (and a native build target the wrong Node) under the machine's.
function npmCli() {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm && fs.existsSync(fromNpm)) return fromNpm;
  const found = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  return found ? fs.realpathSync(found) : null;
}

const runs = (node) => spawnSync(node, ['--version'], { stdio: 'ignore' }).status === 0;

function npm(args, node = runtimePath) {
  const cli = npmCli();
  if (cli && runs(node)) run(node, [cli, ...args]);
  else run('npm', args);
}

// A fresh clone has no runtime yet. It is fetched alone first, into a temporary directory, so that even the first
// install runs on it.
function bootstrapRuntime() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-runtime-'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true, dependencies: { [runtimePackage]: runtimeVersion } }));
  say(`fetching Node.js ${runtimeVersion} (${runtimePackage}) from the npm registry`);
  run('npm', ['install', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
  return { node: path.join(dir, 'node_modules', '.bin', 'node'), remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

if (!runtimeVersion) {
  say(`Reel runs on Node.js from npm, and package.json names no runtime package for this machine (${runtimePackage})`);
  process.exit(1);
}

// 1. npm packages: install when node_modules is missing or older than the lock file.
const lock = path.join(root, 'package-lock.json');
const installed = path.join(root, 'node_modules', '.package-lock.json');
if (!fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs) {
  const bootstrap = runs(runtimePath) ? null : bootstrapRuntime();
  say('installing npm packages');
  try {
    npm(['ci', '--no-audit', '--no-fund'], bootstrap?.node);
  } finally {
    bootstrap?.remove();
  }
}
if (!runs(runtimePath)) {
  say(`no Node.js runtime at ${path.relative(root, runtimePath)} after installing npm packages (was ${runtimePackage} omitted?)`);
  process.exit(1);
}
// Everything after this runs on the runtime.
runOnRuntime();

// Native modules are compiled for one Node ABI. better-sqlite3 (13+) uses Node-API and ships prebuilt binaries
// for the common platforms inside its npm package, so this normally finds it loading; elsewhere it is built from
// source against the runtime's C headers (node-gyp --nodedir: no header download), which needs python3, make, g++.
const natives = [{ name: 'better-sqlite3', check: "new (require('better-sqlite3'))(':memory:').close()", gyp: ['--release', '--force_build=1'] }];
const toBuild = natives.filter((m) => spawnSync(process.execPath, ['-e', m.check], { cwd: root, stdio: 'ignore' }).status !== 0);
const buildTools =
  toBuild.length === 0
    ? []
    : [
        ['python3', 'python3'],
        ['make', 'make'],
        ['g++', 'g++'],
      ]
        .filter(([cmd]) => !has(cmd))
        .map(([, pkg]) => pkg);

// 2. Debian packages.
const wanted = [...buildTools];
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

// 3. Native modules that do not load on the runtime, built from source.
if (toBuild.length > 0) {
  const runtimeDir = path.join(root, 'node_modules', runtimePackage);
  const headers = fs.existsSync(path.join(runtimeDir, 'include', 'node', 'node_version.h')) ? runtimeDir : null;
  const gyp = path.join(path.dirname(path.dirname(npmCli() ?? '')), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (!headers || !fs.existsSync(gyp)) {
    say(`cannot build ${toBuild.map((m) => m.name).join(', ')}: ${headers ? 'node-gyp (bundled with npm) not found' : 'the runtime package has no C headers'}`);
    process.exit(1);
  }
  for (const m of toBuild) {
    say(`building ${m.name} for Node ${process.versions.node} from source`);
    run(process.execPath, [gyp, 'rebuild', ...m.gyp, `--nodedir=${headers}`], { cwd: path.join(root, 'node_modules', m.name) });
    if (spawnSync(process.execPath, ['-e', m.check], { cwd: root, stdio: 'inherit' }).status !== 0) {
      say(`${m.name} still does not load after building it`);
      process.exit(1);
    }
  }
}

// 4. Tests need the machine's PostgreSQL; start the cluster if it is installed but stopped.
if (forTests && has('pg_isready') && spawnSync('pg_isready', ['-h', '127.0.0.1', '-q']).status !== 0 && has('pg_ctlcluster')) {
  const versions = fs.existsSync('/etc/postgresql') ? fs.readdirSync('/etc/postgresql') : [];
  for (const v of versions) {
    say(`starting PostgreSQL ${v}`);
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', v, 'main', 'start'], { stdio: 'inherit' });
  }
}

// 5. The server, compiled for `npm start` (about a second; always rebuilt so it never runs stale code).
if (!forTests && !forBench) {
  say('compiling the server');
  run(process.execPath, [path.join(root, 'scripts', 'build.mjs')]);
}

// 6. The web console (console/, React + Vite) is built into console/dist (not committed) for `npm start` and the
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
    run(process.execPath, [
      path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      path.join(consoleDir, 'vite.config.ts'),
      '--logLevel',
      'warn',
    ]);
  }
}
