import type { Kysely } from 'kysely';

/**
 * Usage meters (docs/ARCHITECTURE.md, "Metering"). `usage_streamed` holds the response bytes the origin wrote
 * per project, streaming endpoint (by name) and UTC day; every origin process adds its counters to it with an
 * upsert, so several processes sum. `usage_encoded` holds each finished job's output seconds per resolution
 * class, keyed by job so a rerun replaces rather than adds. Neither references its project or job: usage stays
 * when a job is deleted, and an origin's late flush never fails on a project deleted meanwhile.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('usage_streamed')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('endpoint_name', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_streamed_key', ['project_id', 'endpoint_name', 'day'])
    .execute();
  await db.schema
    .createTable('usage_encoded')
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('resolution_class', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('seconds', 'double precision', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_encoded_key', ['job_id', 'resolution_class'])
    .execute();
  await db.schema.createIndex('usage_encoded_project_day').on('usage_encoded').columns(['project_id', 'day']).execute();
}
