/**
 * CPU used by processes outside the benchmark, like bench/support/machine-load.ts's `foreignCores`, but leaving out
 * interrupt and softirq time. Moving 1–2 GB/s over loopback costs the kernel most of a core in softirq (TCP
 * receive processing), which /proc/stat books to no process: counted as "other", it would make every fast round
 * look disturbed and be repeated for nothing. Linux only; undefined elsewhere.
 */
import fs from 'node:fs';

const tickMs = 10; // USER_HZ
const hasProc = fs.existsSync('/proc/stat');

export interface CpuSample { atMs: number; machineMs: number; ownMs: number }

function machineBusyMs(): number {
  const [user, nice, system, , , , , steal] = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + (steal ?? 0)) * tickMs;
}

function processMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime + stime, and cutime + cstime: children this process reaped (wrk, dd) are ours too.
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * tickMs;
  } catch {
    return 0;
  }
}

export function sampleCpu(ownPids: number[]): CpuSample | undefined {
  if (!hasProc) return undefined;
  return { atMs: performance.now(), machineMs: machineBusyMs(), ownMs: ownPids.reduce((sum, pid) => sum + processMs(pid), 0) };
}

/** Cores used by everything else between two samples, softirq excluded (0 = the machine was ours alone). */
export function foreignCores(from: CpuSample | undefined, to: CpuSample | undefined): number | undefined {
  if (!from || !to || to.atMs <= from.atMs) return undefined;
  return Math.max(0, (to.machineMs - from.machineMs) - (to.ownMs - from.ownMs)) / (to.atMs - from.atMs);
}
