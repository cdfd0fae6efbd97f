/**
 * Runs every `bench/**\/*.bench.ts`, one after another, each in its own process (`node --import tsx <file>`),
 * so no benchmark inherits another's JIT state, heap or open sockets (as Kysely's test/ts-benchmarks does).
 *
 *   npx tsx bench/run.ts              every benchmark
 *   npx tsx bench/run.ts api          only files whose path contains "api"
 *
 * Each benchmark prints its table on stdout and appends JSON lines under bench/results/. Exits non-zero
 * when any benchmark failed; the others still run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');

function findBenchmarks(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'results') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) findBenchmarks(full, out);
    else if (entry.name.endsWith('.bench.ts')) out.push(path.relative(repoRoot, full));
  }
  return out;
}

function runOne(file: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: repoRoot, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', (err) => {
      process.stderr.write(`${file}: ${err.message}\n`);
      resolve(1);
    });
  });
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const files = findBenchmarks(benchDir).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
  if (files.length === 0) {
    process.stderr.write(`no benchmark matches ${filters.join(' ')}\n`);
    process.exit(2);
  }
  const failed: string[] = [];
  for (const file of files) {
    process.stderr.write(`\n== ${file}\n`);
    const started = Date.now();
    const code = await runOne(file);
    process.stderr.write(`== ${file}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${Math.round((Date.now() - started) / 1000)} s\n`);
    if (code !== 0) failed.push(file);
  }
  if (failed.length > 0) {
    process.stderr.write(`\n${failed.length} of ${files.length} benchmarks failed: ${failed.join(', ')}\n`);
    process.exit(1);
  }
}

void main();
