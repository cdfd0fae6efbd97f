import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './bench-child.js';

/** Where a run was measured. Numbers are only comparable between lines whose environment matches. */
export interface BenchEnvironment {
  date: string;
  commit: string;
  /** True when src/ or bench/ had uncommitted or untracked files: the commit alone does not name the code measured. */
  dirty: boolean;
  node: string;
  cpu: string;
  cpuCount: number;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function benchEnvironment(): BenchEnvironment {
  return {
    date: new Date().toISOString(),
    commit: git(['rev-parse', 'HEAD']) || 'unknown',
    dirty: git(['status', '--porcelain', '--', 'src', 'bench', 'package-lock.json', ':(exclude)bench/results']) !== '',
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpuCount: os.cpus().length,
  };
}

/** Appends one JSON line to `bench/results/<file>`. */
export function appendResult(file: string, record: object): void {
  const dir = path.join(repoRoot, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.appendFileSync(path.join(dir, file), `${JSON.stringify(record)}\n`);
}

/** Aligned text table: first row is the header; columns after the first two are right-aligned. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
