import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../../shared/log.js';
import { killToolsNaming } from '../../ffmpeg-sandbox.js';

/** Names the process that owns a scratch directory, so a restarted worker can tell stale ones from live ones. */
const ownerFile = '.owner.json';
/** Runners alive in this process (tests start several servers in one process; each has its own worker id). */
const liveWorkerIds = new Set<string>();

/** One attempt's scratch directory: `in/` holds downloaded inputs, `out/` is the engine's. */
export interface AttemptScratch {
  dir: string;
  inputDir: string;
  outputDir: string;
}

/**
 * The worker's directories on local disk, one per attempt (`job-{id}-{attempt}` under the work root), so a
 * re-delivered job never shares files with an earlier attempt that may still be winding down. Each names its
 * owner; a starting worker removes those whose process is gone.
 */
export class ScratchDirs {
  constructor(
    private readonly workRoot: string,
    private readonly workerId: string,
    private readonly log: Logger,
  ) {}

  /** Creates the work root and removes what dead attempts left in it; this worker's directories count as live. */
  async open(): Promise<void> {
    fs.mkdirSync(this.workRoot, { recursive: true });
    liveWorkerIds.add(this.workerId);
    await this.removeStale();
  }

  close(): void {
    liveWorkerIds.delete(this.workerId);
  }

  /** An empty scratch directory for one attempt, marked as this worker's. */
  async create(jobId: string, attempt: number): Promise<AttemptScratch> {
    const dir = path.resolve(this.workRoot, `job-${jobId}-${attempt}`);
    const scratch = { dir, inputDir: path.join(dir, 'in'), outputDir: path.join(dir, 'out') };
    await fs.promises.rm(dir, { recursive: true, force: true });
    await fs.promises.mkdir(scratch.inputDir, { recursive: true });
    await fs.promises.writeFile(path.join(dir, ownerFile), JSON.stringify({ host: os.hostname(), pid: process.pid, workerId: this.workerId }));
    return scratch;
  }

  /** The directory an attempt used (whether or not `create` got as far as making it); best effort. */
  pathOf(jobId: string, attempt: number): string {
    return path.resolve(this.workRoot, `job-${jobId}-${attempt}`);
  }

  async remove(dir: string, log: Logger): Promise<void> {
    await fs.promises
      .rm(dir, { recursive: true, force: true })
      .catch((err: unknown) => log.warn({ err, scratch: dir }, 'could not remove the job scratch directory'));
  }

  /**
   * Removes the scratch directories of attempts whose process is gone (killed, crashed): each directory names its
   * owner (host, pid, worker id), so directories of other live workers sharing this work root are left alone. An
   * ffmpeg still working in one (only possible where `setpriv --pdeathsig` is missing) is killed first.
   */
  private async removeStale(): Promise<void> {
    const entries = await fs.promises.readdir(this.workRoot, { withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isDirectory() || !entry.name.startsWith('job-')) continue;
      const dir = path.join(this.workRoot, entry.name);
      if (!(await isStale(dir))) continue;
      const killed = await killToolsNaming(dir);
      if (killed.length > 0) this.log.warn({ dir, pids: killed }, 'ffmpeg of a dead attempt was still running; killed');
      await fs.promises
        .rm(dir, { recursive: true, force: true })
        .catch((err: unknown) => this.log.warn({ err, dir }, 'could not remove a stale job scratch directory'));
      this.log.info({ dir }, 'stale job scratch directory removed');
    }
  }
}

async function isStale(dir: string): Promise<boolean> {
  let owner: { host?: string; pid?: number; workerId?: string };
  try {
    owner = JSON.parse(await fs.promises.readFile(path.join(dir, ownerFile), 'utf8')) as typeof owner;
  } catch {
    // No owner: an older version's directory, or one being created this instant (give that a minute).
    const stat = await fs.promises.stat(dir).catch(() => undefined);
    return !stat || Date.now() - stat.mtimeMs > 60_000;
  }
  if (owner.host !== os.hostname() || typeof owner.pid !== 'number') return false;
  // Our own pid: either a runner of this process, or a dead process whose pid we inherited (pid 1 in containers).
  if (owner.pid === process.pid) return !liveWorkerIds.has(owner.workerId ?? '');
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
