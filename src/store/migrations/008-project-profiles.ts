import type { Kysely } from 'kysely';

/**
 * `project_profiles`: what the Management API tells about a project beyond its name (MK.IO `spec.isActive`,
 * `isHidden`, the location, who created it). Kept beside `projects` so the row every media request reads stays
 * small; a project without a profile row (made before this migration, or by first boot) reads as active,
 * visible, in location `local`, created by the system.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('project_profiles')
    .addColumn('project_id', 'text', (c) => c.primaryKey().references('projects.id').onDelete('cascade'))
    .addColumn('location_name', 'text', (c) => c.notNull())
    .addColumn('is_active', 'integer', (c) => c.notNull())
    .addColumn('is_hidden', 'integer', (c) => c.notNull())
    .addColumn('payment_method_id', 'text')
    .addColumn('created_by_id', 'text')
    .addColumn('created_by', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}
