import fs from 'node:fs';

/**
 * CPU used on this machine by processes outside the benchmark. Benchmarks here share a 2-core box with
 * test suites and browsers; a round during which something else ran is not a measurement of Reel.
 * Linux only (/proc); elsewhere every reading is `undefined` and nothing is waited for.
 */
export interface CpuSample {
  atMs: number;
  /** Busy CPU time of the whole machine (user, nice, system, irq, softirq, steal), ms. */
  machineMs: number;
  /** CPU time of the benchmark's own processes, ms. */
  ownMs: number;
}

const tickMs = 10; // USER_HZ is 100 on every Linux we run on (getconf CLK_TCK)
const hasProc = fs.existsSync('/proc/stat');

/**
 * `countInterrupts: false` leaves out irq and softirq time: moving 1–2 GB/s over loopback costs the kernel most
 * of a core in softirq (TCP receive processing), which /proc/stat books to no process; counted as "other", it
 * would make every fast origin round look disturbed.
 */
function machineBusyMs(countInterrupts: boolean): number {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu;
  return (user + nice + system + (countInterrupts ? irq + softirq : 0) + (steal ?? 0)) * tickMs;
}

/** utime + stime of one process (all its threads) and of the children it reaped (wrk, dd), ms; 0 once it is gone. */
function processMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * tickMs;
  } catch {
    return 0;
  }
}

export function sampleCpu(ownPids: number[], options: { countInterrupts?: boolean } = {}): CpuSample | undefined {
  if (!hasProc) return undefined;
  return { atMs: performance.now(), machineMs: machineBusyMs(options.countInterrupts ?? true), ownMs: ownPids.reduce((sum, pid) => sum + processMs(pid), 0) };
}

/** Cores used by everything else between two samples (0 = the machine was ours alone). */
export function foreignCores(from: CpuSample | undefined, to: CpuSample | undefined): number | undefined {
  if (!from || !to || to.atMs <= from.atMs) return undefined;
  return Math.max(0, to.machineMs - from.machineMs - (to.ownMs - from.ownMs)) / (to.atMs - from.atMs);
}

/**
 * Waits until other processes have used less than `thresholdCores` for two consecutive seconds, or
 * `maxWaitSec` passed. Returns the seconds waited (0 when already quiet or not measurable).
 */
export async function waitForQuiet(
  ownPids: () => number[],
  options: { thresholdCores: number; maxWaitSec: number; onWait?: (cores: number) => void },
): Promise<number> {
  if (!hasProc || options.maxWaitSec <= 0) return 0;
  const started = performance.now();
  let quietSeconds = 0;
  let reported = false;
  while (performance.now() - started < options.maxWaitSec * 1000) {
    const a = sampleCpu(ownPids());
    await new Promise((r) => setTimeout(r, 1000));
    const cores = foreignCores(a, sampleCpu(ownPids())) ?? 0;
    if (cores < options.thresholdCores) {
      if (++quietSeconds >= 2) break;
    } else {
      quietSeconds = 0;
      if (!reported) options.onWait?.(cores);
      reported = true;
    }
  }
  const waitedSec = (performance.now() - started) / 1000;
  return waitedSec < 2.5 ? 0 : Math.round(waitedSec);
}
