import fs from 'node:fs';

/**
 * A server's whole process tree from /proc (Linux; empty elsewhere): nginx is a master and its workers, Reel a main
 * process and, with REEL_ORIGIN_PROCESSES ≥ 2, its origin children. Memory and CPU are compared over the tree.
 */

const tickMs = 10; // USER_HZ is 100 on every Linux we run on (getconf CLK_TCK)

function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Every live descendant of `pid` (not `pid` itself), found through the parent pids of all processes. */
export function descendants(pid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    const ppid = Number(statFields(Number(e))?.[1]);
    if (!ppid) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(e));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** VmRSS (or VmHWM: the process's peak) of one process, MB; undefined once it is gone. */
export function memMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Proportional set size of one process, MB: shared pages (nginx's shared-memory caches, code) split between their users. */
export function pssMb(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export const sumOf = (pids: number[], read: (pid: number) => number | undefined) => pids.reduce((s, p) => s + (read(p) ?? 0), 0);

/** utime + stime of the given live processes, ms. */
export function cpuMsOf(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    const f = statFields(pid);
    return sum + (f ? (Number(f[11]) + Number(f[12])) * tickMs : 0);
  }, 0);
}

/** Peak summed VmRSS of named groups of processes, sampled every `everyMs` until stopped. */
export function rssSampler<K extends string>(groups: Record<K, number[]>, everyMs = 100): { stop(): Record<K, number> } {
  const peak = Object.fromEntries(Object.keys(groups).map((k) => [k, 0])) as Record<K, number>;
  const sample = () => {
    for (const k of Object.keys(groups) as K[]) peak[k] = Math.max(peak[k], sumOf(groups[k], memMb));
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
