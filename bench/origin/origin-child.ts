import { BenchChild } from '../support/bench-child.js';

/**
 * Starts `origin-server.ts` (Reel) as the origin and protection benchmarks both run it: compiled, with npm start's
 * malloc and young-generation settings, so the memory and speed are those of the server as deployed.
 */
export function startOriginChild(label: string, execArgv: string[] = []): BenchChild {
  return BenchChild.start('bench/origin/origin-server.ts', [], {
    label,
    execArgv: ['--max-semi-space-size=16', ...execArgv],
    compiled: true,
    // REEL_ORIGIN_PROCESSES ≥ 2 forks src/origin-main.ts from beside the bundle, as npm start forks dist/origin-main.js.
    siblings: ['src/origin-main.ts'],
    env: { MALLOC_MMAP_THRESHOLD_: '131072' },
  });
}
