// The Node.js that runs Reel: Node 24 LTS as the npm registry ships it (the optional dependency
// `node-<platform>-<arch>` of package.json that matches this machine, whose binary npm links as
// node_modules/.bin/node), not whatever Node the machine has. `npm start`, `npm test` and the scripts they run use
// it; a script started by another Node hands itself over with `runOnRuntime()`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const runtimePath = path.join(root, 'node_modules', '.bin', 'node');
/** The npm package that carries the runtime on this machine, and its version pinned in package.json. */
export const runtimePackage = `node-${process.platform}-${process.arch}`;
export const runtimeVersion = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).optionalDependencies?.[runtimePackage];

export function onRuntime() {
  try {
    return fs.realpathSync(process.execPath) === fs.realpathSync(runtimePath);
  } catch {
    return false;
  }
}

// Runs the current script again under the runtime, with the same arguments, and ends this process with its exit
// status. Does nothing when already on the runtime or when it is not installed (the caller says so).
export function runOnRuntime() {
  if (onRuntime() || !fs.existsSync(runtimePath)) return;
  const r = spawnSync(runtimePath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.signal) process.kill(process.pid, r.signal);
  process.exit(r.status ?? 1);
}
