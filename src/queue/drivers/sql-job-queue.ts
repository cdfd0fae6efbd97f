import type { ExpressionBuilder } from 'kysely';
import { InternalError } from '../../shared/errors.js';
import type { Database, Db, DialectName } from '../../store/database.js';
import type { JobQueue, Lease, QueuePriority } from '../job-queue.js';
import { LeaseLostError } from '../lease-lost-error.js';

export interface SqlJobQueueOptions {
  /** `postgres` adds `FOR UPDATE SKIP LOCKED` so concurrent leasers pass over each other's rows. */
  dialect: DialectName;
  /** How long a lease lives without a heartbeat before the id is handed out again. Default 30 s. */
  leaseMs?: number;
  /** Milliseconds since the epoch; injectable so tests move time instead of sleeping. Default `Date.now`. */
  now?: () => number;
}

type FencedAction = 'heartbeat' | 'complete' | 'release';

const rankOf: Record<QueuePriority, number> = { High: 0, Normal: 1, Low: 2 };
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The queue as rows of `job_queue` in Reel's own database (SQLite or PostgreSQL). A lease is `leased_by` plus
 * `lease_expires_at`; a row whose lease expired is ready again, so a dead worker's job is re-delivered without
 * any background sweeper. `attempt` is bumped on every delivery and doubles as the lease's fencing token: a
 * holder may act only while the row still carries its worker id and its attempt number.
 */
export class SqlJobQueue implements JobQueue {
  private readonly leaseMs: number;
  private readonly now: () => number;
  private lastEnqueuedMs = 0;
  private isOpen = true;

  constructor(
    private readonly db: Db,
    private readonly options: SqlJobQueueOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  async enqueue(jobId: string, priority: QueuePriority): Promise<void> {
    this.assertOpen();
    // Timestamps have millisecond resolution; keep this process's enqueues strictly ordered within one.
    const enqueuedMs = Math.max(this.now(), this.lastEnqueuedMs + 1);
    this.lastEnqueuedMs = enqueuedMs;
    await this.db
      .insertInto('job_queue')
      .values({ job_id: jobId, priority: rankOf[priority], enqueued_at: iso(enqueuedMs), attempt: 0, leased_by: null, lease_expires_at: null })
      .onConflict((oc) => oc.column('job_id').doNothing())
      .execute();
  }

  async lease(workerId: string): Promise<Lease | undefined> {
    this.assertOpen();
    const nowMs = this.now();
    const next = this.db
      .selectFrom('job_queue')
      .select('job_id')
      .where((eb) => this.isReady(eb, nowMs))
      .orderBy('priority')
      .orderBy('enqueued_at')
      .orderBy('job_id')
      .limit(1)
      // PostgreSQL: a row another transaction is taking is skipped, not waited for (and re-checked if it changed).
      .$if(this.options.dialect === 'postgres', (q) => q.forUpdate().skipLocked());
    // One UPDATE statement: on SQLite it runs as a single write transaction (the write lock is taken before
    // the subquery reads), so two leasers, even in two processes, never take the same row.
    const row = await this.db
      .updateTable('job_queue')
      .set((eb) => ({ leased_by: workerId, lease_expires_at: iso(nowMs + this.leaseMs), attempt: eb('attempt', '+', 1) }))
      .where('job_id', '=', next)
      .returning(['job_id', 'attempt'])
      .executeTakeFirst();
    if (!row) return undefined;
    const act = (action: FencedAction) => this.fenced(action, row.job_id, workerId, row.attempt);
    return {
      message: { jobId: row.job_id, attempt: row.attempt - 1 },
      heartbeat: () => act('heartbeat'),
      complete: () => act('complete'),
      release: () => act('release'),
    };
  }

  async remove(jobId: string): Promise<boolean> {
    this.assertOpen();
    const nowMs = this.now();
    const result = await this.db
      .deleteFrom('job_queue')
      .where('job_id', '=', jobId)
      .where((eb) => this.isReady(eb, nowMs))
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** The database belongs to the caller; closing only stops this instance from being used. */
  async close(): Promise<void> {
    this.isOpen = false;
  }

  /** Acts on a lease in one statement that matches only while the row is still this delivery's. */
  private async fenced(action: FencedAction, jobId: string, workerId: string, token: number): Promise<void> {
    this.assertOpen();
    const held = (eb: ExpressionBuilder<Database, 'job_queue'>) =>
      eb.and([eb('job_id', '=', jobId), eb('leased_by', '=', workerId), eb('attempt', '=', token)]);
    let count: bigint;
    if (action === 'complete') {
      count = (await this.db.deleteFrom('job_queue').where(held).executeTakeFirst()).numDeletedRows;
    } else {
      // A heartbeat after expiry still succeeds if nobody took the row meanwhile: the work was not duplicated.
      const lease = action === 'heartbeat' ? { lease_expires_at: iso(this.now() + this.leaseMs) } : { leased_by: null, lease_expires_at: null };
      count = (await this.db.updateTable('job_queue').set(lease).where(held).executeTakeFirst()).numUpdatedRows;
    }
    if (count === 0n) throw new LeaseLostError(jobId);
  }

  private isReady(eb: ExpressionBuilder<Database, 'job_queue'>, nowMs: number) {
    return eb.or([eb('leased_by', 'is', null), eb('lease_expires_at', '<=', iso(nowMs))]);
  }

  private assertOpen(): void {
    if (!this.isOpen) throw new InternalError('QueueClosed', 'The job queue is closed.');
  }
}
