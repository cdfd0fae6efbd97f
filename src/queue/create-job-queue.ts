import type { Db, DialectName } from '../store/database.js';
import { SqlJobQueue } from './drivers/sql-job-queue.js';
import type { JobQueue } from './job-queue.js';

export interface JobQueueOptions {
  /** How long a lease lives without a heartbeat before the job is handed out again. Default 30 s. */
  leaseMs?: number;
  /** Milliseconds since the epoch (tests inject a clock). Default `Date.now`. */
  now?: () => number;
}

/**
 * The queue for Reel's database. Both dialects use `SqlJobQueue` over the same `job_queue` table: on SQLite it
 * is the durable embedded queue, on PostgreSQL it is shared by every worker process (SKIP LOCKED). Why not
 * pg-boss on PostgreSQL: docs/DECISIONS.md, "Job queue on PostgreSQL".
 */
export function createJobQueue(db: Db, dialect: DialectName, options: JobQueueOptions = {}): JobQueue {
  return new SqlJobQueue(db, { ...options, dialect });
}
