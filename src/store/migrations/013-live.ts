import type { Kysely } from 'kysely';

/**
 * Live events and their live outputs (MK.IO §15, §16). `properties` is the event's or output's MK.IO
 * `properties` as validated, with defaults filled in and without the computed fields (endpoints, states, times).
 * The access token and the preview locator are columns as well: the ingest listeners find an event by its token
 * and the origin its preview by the locator id, across projects, so both are unique. `resource_state` holds the
 * desired state the control plane wrote (Starting, Stopping…) or the one reached. An event's outputs go with it
 * (cascade). An output's asset is kept when the output is deleted; deleting the asset removes its output row
 * (cascade, as project deletion must remove both without an order between them).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('live_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('location', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('properties', 'text', (c) => c.notNull())
    .addColumn('resource_state', 'text', (c) => c.notNull())
    // `properties.encoding.encodingType`, a column so lists filter and sort on it.
    .addColumn('encoding_type', 'text', (c) => c.notNull())
    .addColumn('access_token', 'text', (c) => c.notNull().unique())
    .addColumn('preview_locator', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addUniqueConstraint('live_events_project_name', ['project_id', 'name'])
    .execute();
  await db.schema.createIndex('live_events_state').on('live_events').columns(['resource_state']).execute();
  await db.schema
    .createTable('live_outputs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull().references('live_events.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    // One live output per asset, whatever its event: two recordings into one container would mix.
    .addColumn('asset_id', 'text', (c) => c.notNull().unique().references('assets.id').onDelete('cascade'))
    .addColumn('asset_name', 'text', (c) => c.notNull())
    .addColumn('manifest_name', 'text', (c) => c.notNull())
    .addColumn('properties', 'text', (c) => c.notNull())
    .addColumn('resource_state', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addUniqueConstraint('live_outputs_event_name', ['event_id', 'name'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('live_outputs').execute();
  await db.schema.dropTable('live_events').execute();
}
