import type { Kysely } from 'kysely';

/**
 * Content protection (MKIO-API.md §13–14). Content key policies keep what may be shown in `properties` (secrets
 * replaced by null) and the options with their secrets in `options_sealed` (SecretBox). A locator's content keys:
 * ids, types, labels and policy names in `content_keys` (JSON, not secret: key ids are in every manifest), their
 * values in `content_key_values` (sealed), never in `properties`.
 *
 * Before this migration a locator PUT kept `contentKeys` as given in `properties`, values in the clear, though
 * nothing used them (no encrypted delivery). They are removed here, since a migration cannot seal (the secret key
 * is not the store's); such a locator is recreated to get its keys (docs/MKIO-DIFFERENCES.md).
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
  const q = db as Kysely<any>;
  const rows = (await q.selectFrom('streaming_locators').select(['id', 'properties']).where('properties', 'like', '%"contentKeys"%').execute()) as Array<{
    id: string;
    properties: string;
  }>;
  for (const row of rows) {
    const properties = JSON.parse(row.properties) as Record<string, unknown>;
    if (!('contentKeys' in properties)) continue;
    delete properties.contentKeys;
    await q
      .updateTable('streaming_locators')
      .set({ properties: JSON.stringify(properties) })
      .where('id', '=', row.id)
      .execute();
  }
}
