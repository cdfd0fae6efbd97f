import type { Kysely } from 'kysely';

/**
 * The encoding work queue (src/queue/drivers/sql-job-queue.ts): one row per queued job id until the job ends.
 * No foreign key to `jobs`: the queue carries ids only and the runner removes rows itself.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('job_queue')
    .addColumn('job_id', 'text', (c) => c.primaryKey())
    // 0 High, 1 Normal, 2 Low: ascending order is delivery order.
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('enqueued_at', 'text', (c) => c.notNull())
    // Deliveries so far; also the lease's fencing token, so a stale holder can never act on a newer delivery.
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('leased_by', 'text')
    .addColumn('lease_expires_at', 'text')
    .execute();
  await db.schema.createIndex('job_queue_order').on('job_queue').columns(['priority', 'enqueued_at', 'job_id']).execute();
}
