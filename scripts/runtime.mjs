// The Node.js that runs Reel: the `node` package of package.json (the Node 24 LTS as the npm registry ships it, a
// binary under node_modules/node/bin), not whatever Node the machine has. `npm start`, `npm test` and the scripts
// they run use it; a script started by another Node hands itself over with `runOnRuntime()`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const runtimePath = path.join(root, 'node_modules', 'node', 'bin', 'node');

export function onRuntime() {
  try {
    return fs.realpathSync(process.execPath) === fs.realpathSync(runtimePath);
  } catch {
    return false;
  }
}

// Runs the current script again under the runtime, with the same arguments, and ends this process with its exit
// status. Does nothing when already on the runtime or when it is not installed yet (the caller says so).
export function runOnRuntime() {
  if (onRuntime() || !fs.existsSync(runtimePath)) return;
  const r = spawnSync(runtimePath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.signal) process.kill(process.pid, r.signal);
  process.exit(r.status ?? 1);
}
