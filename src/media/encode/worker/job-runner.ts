import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Db, DialectName } from '../../../store/database.js';
import { JobRepository } from '../../../store/job-repository.js';
import type { BlobStore } from '../../../storage/blob-store.js';
import type { JobQueue, Lease, QueuePriority } from '../../../queue/job-queue.js';
import type { Logger } from '../../../shared/log.js';
import type { AddressPolicy } from '../../../shared/address-policy.js';
import type { EncodeEngine } from '../encode-engine.js';
import { JobAbort } from './job-abort.js';
import { AssetRepository } from '../../../store/asset-repository.js';
import { JobAttempt, type AttemptOutcome, type JobAttemptDeps } from './job-attempt.js';
import { UsageRepository } from '../../../store/usage-repository.js';
import { ScratchDirs } from './scratch-dirs.js';

/** What the runner needs from the rest of the process; main.ts supplies these (the media plane never imports control/). */
export interface JobRunnerDeps {
  db: Db;
  dialect: DialectName;
  queue: JobQueue;
  engine: EncodeEngine;
  log: Logger;
  /** The storage driver of a storage account. */
  openStore: (storageAccountId: string) => Promise<BlobStore>;
  /**
   * Which addresses a `JobInputHttp` URL (and each redirect) may reach: this machine and private networks are
   * refused unless REEL_JOB_HTTP_ALLOW_PRIVATE; Reel's own origins are allowed hosts. The runner downloads such
   * inputs itself (http-input-download.ts); ffmpeg reads only the local copy.
   */
  httpInputPolicy: AddressPolicy;
  /** REEL_JOB_HTTP_TIMEOUT_SEC: a JobInputHttp server silent this long fails the job. */
  httpTimeoutSec: number;
  /** REEL_JOB_MAX_INPUT_MB in bytes: a larger JobInputHttp input stops downloading and fails the job. */
  maxInputBytes?: number;
  /** A URL ffmpeg can read one blob from (Reel's signed `/files/...` URL), valid for `lifetimeSec`. */
  signedReadUrl: (storageAccountId: string, container: string, blob: string, lifetimeSec: number) => string;
  /** Directory under which each running job gets its own scratch directory. */
  workRoot: string;
  /** Jobs run at once by this process (REEL_WORKER_CONCURRENCY). */
  concurrency: number;
  /** Queue lease length (REEL_JOB_LEASE_SEC); the runner heartbeats three times per lease. */
  leaseSec: number;
  /** How long an idle loop waits before asking the queue again; submissions in this process wake it at once. */
  idlePollMs?: number;
  /** How often a running job's record is read (cancel) and its progress written. */
  tickMs?: number;
}

/**
 * The worker role: `concurrency` loops that lease job ids from the queue and run each delivery as a
 * `JobAttempt` (job-attempt.ts), keeping its lease alive meanwhile and settling it after. Shutdown aborts the
 * running attempts, which put their jobs back to Queued; a cancel made in this process stops its attempt at
 * once, one made elsewhere is seen by the attempt's own polling.
 */
export class JobRunner {
  private readonly log: Logger;
  private readonly jobs: JobRepository;
  private readonly scratch: ScratchDirs;
  private readonly attemptDeps: JobAttemptDeps;
  /** The abort controller of each delivery being run, by job id. */
  private readonly running = new Map<string, AbortController>();
  private readonly sleepers = new Set<() => void>();
  private readonly workerId = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private loops: Array<Promise<void>> = [];
  private stopping = false;

  constructor(private readonly deps: JobRunnerDeps) {
    this.log = deps.log.child({ component: 'encode' });
    this.jobs = new JobRepository(deps.db);
    this.scratch = new ScratchDirs(deps.workRoot, this.workerId, this.log);
    const assets = new AssetRepository(deps.db, deps.dialect);
    this.attemptDeps = {
      jobs: this.jobs,
      usage: new UsageRepository(deps.db),
      engine: deps.engine,
      scratch: this.scratch,
      openStore: deps.openStore,
      tickMs: deps.tickMs ?? 1000,
      findOutputAsset: (id) => assets.findById(id),
      inputs: {
        findAsset: (projectId, name) => assets.findByName(projectId, name),
        openStore: deps.openStore,
        httpInputPolicy: deps.httpInputPolicy,
        httpTimeoutSec: deps.httpTimeoutSec,
        signedReadUrl: deps.signedReadUrl,
        ...(deps.maxInputBytes !== undefined ? { maxInputBytes: deps.maxInputBytes } : {}),
      },
    };
  }

  /** Starts the queue's maintenance, re-enqueues unfinished jobs the queue may lack, and starts the loops. */
  async start(): Promise<void> {
    await this.deps.queue.start?.();
    await this.requeueUnfinished();
    await this.scratch.open();
    this.loops = Array.from({ length: this.deps.concurrency }, (_, slot) => this.loop(slot));
    this.log.info({ workerId: this.workerId, concurrency: this.deps.concurrency }, 'job runner started');
  }

  /** Stops leasing, aborts running jobs and gives their ids back to the queue; resolves when all loops ended. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const controller of this.running.values()) controller.abort(new JobAbort('shutdown'));
    this.wakeAll();
    await Promise.all(this.loops);
    this.scratch.close();
    this.log.info({ workerId: this.workerId }, 'job runner stopped');
  }

  /** A job was submitted in this process: wake one idle loop now rather than at its next poll. */
  notifySubmitted(): void {
    const wake = this.sleepers.values().next().value;
    if (wake) wake();
  }

  /** A cancel (or delete) was requested in this process: stop the job at once if this runner holds it. */
  notifyCancel(jobId: string): void {
    this.running.get(jobId)?.abort(new JobAbort('cancel'));
  }

  /**
   * Enqueue is idempotent, so every job the database says is unfinished is offered again: a job accepted just
   * before a crash, or one whose queue entry was lost, is run rather than stuck.
   */
  private async requeueUnfinished(): Promise<void> {
    const rows = await this.jobs.listUnfinished();
    for (const row of rows) await this.deps.queue.enqueue(row.id, row.priority as QueuePriority);
    if (rows.length > 0) this.log.info({ count: rows.length }, 'unfinished jobs offered to the queue again');
  }

  private async loop(slot: number): Promise<void> {
    const workerId = `${this.workerId}/${slot}`;
    while (!this.stopping) {
      let lease: Lease | undefined;
      try {
        lease = await this.deps.queue.lease(workerId);
      } catch (err) {
        this.log.error({ err }, 'could not lease from the job queue');
        await this.sleep(5000);
        continue;
      }
      if (!lease) {
        await this.sleep(this.deps.idlePollMs ?? 1000);
        continue;
      }
      await this.process(lease);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  /** Runs one delivery with its lease kept alive (heartbeats three times per lease), then settles the lease; never throws. */
  private async process(lease: Lease): Promise<void> {
    const { jobId, attempt } = lease.message;
    // Re-delivered to this process while an abandoned attempt still winds down: let the lease run out and retry then.
    if (this.running.has(jobId)) return;
    const log = this.log.child({ jobId, attempt });
    const controller = new AbortController();
    if (this.stopping) controller.abort(new JobAbort('shutdown'));
    this.running.set(jobId, controller);
    const heartbeat = setInterval(
      () => {
        lease.heartbeat().catch((err: unknown) => {
          log.warn({ err }, 'job lease lost; stopping this attempt');
          controller.abort(new JobAbort('lease'));
        });
      },
      Math.max(500, (this.deps.leaseSec * 1000) / 3),
    );
    let outcome: AttemptOutcome;
    try {
      outcome = await new JobAttempt(this.attemptDeps, lease, controller, log).run();
    } finally {
      clearInterval(heartbeat);
      this.running.delete(jobId);
    }
    await settle(lease, outcome, log);
  }
}

async function settle(lease: Lease, outcome: AttemptOutcome, log: Logger): Promise<void> {
  try {
    if (outcome === 'complete') await lease.complete();
    else if (outcome === 'release') await lease.release();
  } catch (err) {
    log.warn({ err, outcome }, 'could not settle the job lease');
  }
}
