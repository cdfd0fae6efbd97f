import type { Kysely } from 'kysely';

/**
 * Transforms and jobs. A job keeps a copy of its transform output (preset, onError) taken at submission, so
 * editing the transform later never changes a job already accepted; its one output's state, progress and
 * error are columns because the runner writes them while the job runs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('transforms')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('outputs', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addUniqueConstraint('transforms_project_name', ['project_id', 'name'])
    .execute();
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('transform_id', 'text', (c) => c.notNull().references('transforms.id').onDelete('cascade'))
    .addColumn('transform_name', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('correlation_data', 'text', (c) => c.notNull())
    .addColumn('input', 'text', (c) => c.notNull())
    .addColumn('transform_output', 'text', (c) => c.notNull())
    .addColumn('output_asset_id', 'text', (c) => c.notNull())
    .addColumn('output_asset_name', 'text', (c) => c.notNull())
    .addColumn('output_label', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('progress', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('start_time', 'text')
    .addColumn('end_time', 'text')
    .addColumn('output_files', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addUniqueConstraint('jobs_transform_name', ['transform_id', 'name'])
    .execute();
  await db.schema.createIndex('jobs_project_created').on('jobs').columns(['project_id', 'created_at']).execute();
  await db.schema.createIndex('jobs_state').on('jobs').columns(['state']).execute();
}
