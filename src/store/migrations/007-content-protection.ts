import type { Kysely } from 'kysely';

/**
 * Content protection (MKIO-API.md §13–14). Content key policies keep what may be shown in `properties` (secrets
 * replaced by null) and the options with their secrets in `options_sealed` (SecretBox). A locator's content keys:
 * ids, types, labels and policy names in `content_keys` (JSON, not secret: key ids are in every manifest), their
 * values in `content_key_values` (sealed), never in `properties`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('content_key_policies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('policy_id', 'text', (c) => c.notNull())
    .addColumn('properties', 'text', (c) => c.notNull())
    .addColumn('options_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addUniqueConstraint('content_key_policies_project_name', ['project_id', 'name'])
    .execute();
  await db.schema.alterTable('streaming_locators').addColumn('content_keys', 'text').execute();
  await db.schema.alterTable('streaming_locators').addColumn('content_key_values', 'text').execute();
}
